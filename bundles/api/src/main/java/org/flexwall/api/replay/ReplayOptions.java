package org.flexwall.api.replay;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.flexwall.api.port.PortKey;

/**
 * How to replay.
 *
 * @param ports     the permitted ports to decide with; empty: those the port store permits now
 * @param local     the appliance's addresses, which decide a packet's direction (to one of them: inbound, from one of
 *                  them: outbound); empty: the addresses of the appliance's interfaces now
 * @param flowLimit flows the report lists at most (the rest are counted); at least 1
 */
public record ReplayOptions(Optional<Set<PortKey>> ports, List<InetAddress> local, int flowLimit) {
    /** Flows a report lists when the request sets no limit. */
    public static final int FLOW_LIMIT = 200;

    public ReplayOptions {
        ports = ports.map(Set::copyOf);
        local = List.copyOf(local);
        if (flowLimit < 1) {
            throw new IllegalArgumentException("the flow limit is a number of flows, not " + flowLimit);
        }
    }

    /** The live port state, the appliance's own addresses, {@link #FLOW_LIMIT} flows. */
    public static ReplayOptions live() {
        return new ReplayOptions(Optional.empty(), List.of(), FLOW_LIMIT);
    }
}
