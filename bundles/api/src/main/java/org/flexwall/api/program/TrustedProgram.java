package org.flexwall.api.program;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Objects;

/**
 * One row of the patent's Table 1: a program the administrator trusts to open inbound ports.
 *
 * @param name        a display name chosen by the administrator
 * @param path        the full path the program was approved at
 * @param sha256      hex SHA-256 of the executable: the identity that decides trust
 * @param md5         hex MD5, shown and kept for import only; never sufficient alone
 * @param approvedAt  when the administrator approved these exact bytes
 * @param interpreter true when the program is a general interpreter the administrator insisted on trusting
 * @param user        the user its processes must run as (as the administrator named it), or null for any user
 * @param uid         that user's id, or {@link #ANY_UID}: a process whose real uid differs is not this program
 * @param unit        the systemd unit its processes must run in ("sshd.service"), or null for any
 * @since 1.2 (user, uid, unit)
 */
public record TrustedProgram(String name, Path path, String sha256, String md5, Instant approvedAt,
        boolean interpreter, String user, int uid, String unit) {
    /** No user restriction. */
    public static final int ANY_UID = -1;

    public TrustedProgram {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(approvedAt, "approvedAt");
        if (!path.isAbsolute()) {
            throw new IllegalArgumentException("a trusted program needs a full path, not " + path);
        }
        if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("sha256 must be 64 lower-case hex digits, not " + sha256);
        }
        if (md5 == null || !md5.matches("[0-9a-f]{32}")) {
            throw new IllegalArgumentException("md5 must be 32 lower-case hex digits, not " + md5);
        }
        if ((user == null) != (uid == ANY_UID) || uid < ANY_UID) {
            throw new IllegalArgumentException("a user restriction needs both the user's name and a uid, not "
                    + user + " and " + uid);
        }
        if (unit != null && !unit.matches("[A-Za-z0-9:_.\\\\@-]+\\.service")) {
            throw new IllegalArgumentException("a systemd unit is a name ending in .service, not '" + unit + "'");
        }
    }

    /** A program any user may run in any unit. */
    public TrustedProgram(String name, Path path, String sha256, String md5, Instant approvedAt, boolean interpreter) {
        this(name, path, sha256, md5, approvedAt, interpreter, null, ANY_UID, null);
    }

    /** What a process running these bytes must also be to count as this program, in words ("as user www-data, in unit nginx.service"); empty when nothing more. */
    public String restrictions() {
        String who = user == null ? "" : "as user " + user + " (uid " + uid + ")";
        String where = unit == null ? "" : "in unit " + unit;
        return who.isEmpty() || where.isEmpty() ? who + where : who + ", " + where;
    }
}
