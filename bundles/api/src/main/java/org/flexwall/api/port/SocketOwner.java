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
 */
public record SocketOwner(int pid, long startTime, Path executable, String sha256) {
    public SocketOwner {
        Objects.requireNonNull(executable, "executable");
    }

    /** Two owners are the same process only when pid and start time agree. */
    public boolean sameProcess(SocketOwner other) {
        return pid == other.pid && startTime == other.startTime;
    }
}
