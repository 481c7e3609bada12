package org.flexwall.hook.nfqueue;

import java.util.function.Supplier;

import org.flexwall.api.packet.BypassTable;
import org.flexwall.api.packet.PacketDecider;
import org.flexwall.api.packet.Verdict;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.flexwall.packet.parse.ByteView;
import org.flexwall.packet.parse.Ip;

/** What the receive thread asks about each queued packet. Called on that thread only; must not keep the view. */
interface Policy {
    int ACCEPT = 0;
    int DROP = 1;
    /** Dropped: the packet did not parse. */
    int DROP_MALFORMED = 2;
    /** Dropped: no service to ask is bound (fail closed). */
    int DROP_UNBOUND = 3;

    /** One of the constants above. */
    int decide(ByteView packet);

    /**
     * Mode {@code firstPacket}: the kernel queues only the first packet of a new inbound flow that it could not accept
     * by itself (its port not in the kernel's set yet, or its destination socket not verified; DESIGN principle 3, no
     * race between listen() and the first packet). Packet bypass looks it up in its table and has the port store
     * verify the receiving socket now (S805, then S703–S709 ahead of the monitor's event).
     */
    static Policy firstPacket(Supplier<BypassTable> bypass) {
        return packet -> {
            int destination = Ip.destination(packet, true);
            if (destination == Ip.NO_DESTINATION) {
                return DROP_MALFORMED;
            }
            BypassTable b = bypass.get();
            if (b == null) {
                return DROP_UNBOUND;
            }
            return b.firstPacket(Ip.protocolOf(destination) == Ip.TCP ? Protocol.TCP : Protocol.UDP,
                    Ip.isV6Destination(destination) ? AddressFamily.IPV6 : AddressFamily.IPV4,
                    Ip.portOf(destination)) ? ACCEPT : DROP;
        };
    }

    /** Mode {@code userspace}: every TCP and UDP packet in and out meets the {@link PacketDecider} (FIG. 8). */
    static Policy userspace(Supplier<PacketDecider> decider) {
        return packet -> {
            PacketDecider d = decider.get();
            if (d == null) {
                return DROP_UNBOUND;
            }
            return d.decide(packet) == Verdict.ACCEPT ? ACCEPT : DROP;
        };
    }
}
