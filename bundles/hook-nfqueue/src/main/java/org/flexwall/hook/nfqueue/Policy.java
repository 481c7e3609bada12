package org.flexwall.hook.nfqueue;

import java.util.function.Supplier;

import org.flexwall.api.packet.PacketDecider;
import org.flexwall.api.packet.Verdict;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.PortStore;
import org.flexwall.api.port.Protocol;
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
    int decide(BufferView packet);

    /**
     * Mode {@code firstPacket}: the kernel queues only the first packet of a new inbound flow to a port that is not
     * permitted yet (DESIGN principle 3, no race between listen() and the first packet). The port store asks the
     * monitor who listens right now and permits the port if that program is trusted (S703–S709).
     */
    static Policy firstPacket(Supplier<PortStore> store) {
        return packet -> {
            int destination = Ip.destination(packet, true);
            if (destination == Ip.NO_DESTINATION) {
                return DROP_MALFORMED;
            }
            PortStore s = store.get();
            if (s == null) {
                return DROP_UNBOUND;
            }
            return s.permitNow(Ip.protocolOf(destination) == Ip.TCP ? Protocol.TCP : Protocol.UDP,
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
