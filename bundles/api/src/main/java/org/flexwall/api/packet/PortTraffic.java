package org.flexwall.api.packet;

import java.util.Map;

import org.flexwall.api.port.PortKey;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The inbound traffic each permitted port has received since it was permitted (the patent's Table 2 shows it beside
 * the port), as the packet hook counts it where it looks the port up.
 *
 * @since 1.4
 */
@ProviderType
public interface PortTraffic {

    /** Packets and bytes to one port. */
    record Counts(long packets, long bytes) {}

    /** The ports permitted now with what they received; empty while the counts cannot be read. */
    Map<PortKey, Counts> counts();
}
