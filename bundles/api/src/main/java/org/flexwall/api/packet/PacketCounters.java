package org.flexwall.api.packet;

import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;

/**
 * What one part of the packet path counted since it started (packets bypassed, asked about, accepted, dropped and
 * why, flows in the connection table), for {@code flexwall status}. Read by the operator's tools, never on the
 * packet path.
 *
 * @since 1.3
 */
@ProviderType
public interface PacketCounters {

    /** The part, as the operator knows it: "packet bypass", "stateful ICF", "nfqueue hook". */
    String part();

    /**
     * Every figure by name (words for the operator), in a stable order: counts of packets and events, which never go
     * down while the part runs, and levels such as flows in the connection table now.
     */
    Map<String, Long> counters();
}
