package org.flexwall.api.port;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A process holding a socket, identified by what runs rather than by what its name says.
 *
 * @param pid        process id; never an identity alone, PIDs are reused
 * @param startTime  start time of the process in clock ticks since boot (/proc/PID/stat field 22)
 * @param executable the path of the running image as /proc/PID/exe reports it (may end in " (deleted)")
 * @param sha256     hex SHA-256 of the running image read through /proc/PID/exe, or null when it could not be read
 * @param uid        the real user id of the process (who started it), or {@link #UNKNOWN_UID}
 * @param unit       the systemd system unit the process runs in (from /proc/PID/cgroup, "sshd.service"), or null
 * @param tampered   why the running code may not be the image's alone (a tracer, LD_PRELOAD, an image from a memfd
 *                   or a deleted file), or null when there is no such sign: a tampered holder is never trusted
 * @param taken      the process took a duplicate of the socket from another process (pidfd_getfd): it counts as a
 *                   holder until the socket closes, whether or not it still holds the duplicate
 * @since 1.2
 */
public record SocketOwner(int pid, long startTime, Path executable, String sha256, int uid, String unit,
        String tampered, boolean taken) {
    /** The uid of a process whose status could not be read. */
    public static final int UNKNOWN_UID = -1;

    public SocketOwner {
        Objects.requireNonNull(executable, "executable");
        if (tampered != null && tampered.isBlank()) {
            throw new IllegalArgumentException("a sign of tampering needs words, not an empty text");
        }
    }

    /** An owner of whom only the image is known: uid unknown, no unit, no sign of tampering, holding the socket. */
    public SocketOwner(int pid, long startTime, Path executable, String sha256) {
        this(pid, startTime, executable, sha256, UNKNOWN_UID, null, null, false);
    }

    /** Two owners are the same process only when pid and start time agree. */
    public boolean sameProcess(SocketOwner other) {
        return pid == other.pid && startTime == other.startTime;
    }

    /** This owner, marked as having taken the socket from another process. */
    public SocketOwner asTaker() {
        return new SocketOwner(pid, startTime, executable, sha256, uid, unit, tampered, true);
    }
}
