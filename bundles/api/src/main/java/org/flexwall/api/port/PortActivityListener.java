package org.flexwall.api.port;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Told by a kernel event source (tracepoints) that a socket may just have started or stopped listening, so a port
 * monitor rescans at once instead of at its next poll. A hint, not a fact: the monitor's own scan decides.
 */
@ConsumerType
public interface PortActivityListener {

    /**
     * @param protocol the protocol when the event says it, else null (a UDP bind names no port)
     * @param port     the local port when known, else 0
     */
    void portActivity(Protocol protocol, int port);

    /**
     * Process {@code pid} took a duplicate of the socket {@code inode} from another process (pidfd_getfd): it holds
     * the socket now, perhaps only for a moment, and counts as one of its holders until the socket closes.
     *
     * @param inode the socket's inode, or 0 when it could not be told: then every holder is looked up again
     * @since 1.2
     */
    default void socketTaken(int pid, long inode) {
        portActivity(null, 0);
    }
}
