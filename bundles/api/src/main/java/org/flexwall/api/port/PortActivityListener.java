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
}
