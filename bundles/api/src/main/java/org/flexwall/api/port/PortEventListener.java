package org.flexwall.api.port;

import org.osgi.annotation.versioning.ConsumerType;

/** Follows the port monitor. Called on the monitor's thread: return quickly. */
@ConsumerType
public interface PortEventListener {
    void portEvent(PortEvent event);
}
