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
 */
public record TrustedProgram(String name, Path path, String sha256, String md5, Instant approvedAt,
        boolean interpreter) {

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
    }
}
