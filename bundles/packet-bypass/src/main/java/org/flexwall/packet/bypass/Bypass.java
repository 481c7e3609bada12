package org.flexwall.packet.bypass;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.PacketDecider;
import org.flexwall.api.packet.PacketView;
import org.flexwall.api.packet.Verdict;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.PortStore;
import org.flexwall.api.port.Protocol;
import org.flexwall.packet.parse.FragmentCache;
import org.flexwall.packet.parse.Ip;

/**
 * FIG. 8 in front of the ICF: a packet addressed to a permitted (protocol, port) passes without connection
 * tracking; everything else goes to the stateful ICF, and to DROP while there is none (fail closed). Malformed
 * packets are dropped before either. No allocation and no lock per packet. Where the kernel decides most packets
 * itself (the nftables set, conntrack for the ICF), only {@link #firstPacket} is asked.
 */
public final class Bypass implements PacketDecider {
    static final int BYPASSED = 0, SERVER_REPLIES = 1, TO_ICF = 2, NO_ICF = 3, MALFORMED = 4, FRAGMENTS = 5,
            FIRST_IN_TABLE = 6, FIRST_NOT_IN_TABLE = 7, FIRST_ADMITTED = 8, FIRST_REFUSED = 9, FIRST_NO_STORE = 10;
    private static final String[] NAMES = { "bypassed to permitted ports", "outbound from permitted ports",
            "sent to the ICF", "dropped: no ICF bound", "dropped malformed", "later fragments of bypassed packets",
            "first packets asked: port in the table", "first packets asked: port not in the table",
            "first packets admitted: socket verified", "first packets refused",
            "first packets dropped: no port store" };

    private final PortBitmap ports;
    private final Supplier<PacketDecider> icf;
    private final LongSupplier clock;
    private final FragmentCache fragments = new FragmentCache(1024, 30_000_000_000L);
    private final LongAdder[] counters = adders(NAMES.length);
    private final LongAdder[] malformed = adders(Ip.REASONS.length);

    /** @param icf read once per packet; @param clock monotonic nanoseconds, read only for fragments */
    Bypass(PortBitmap ports, Supplier<PacketDecider> icf, LongSupplier clock) {
        this.ports = ports;
        this.icf = icf;
        this.clock = clock;
    }

    /**
     * A bypass stage of its own over a fixed set of permitted ports, sharing nothing with the live one (the
     * {@link org.flexwall.api.packet.PrivateBypassFactory} service makes them).
     */
    static Bypass of(Set<PortKey> permitted, PacketDecider icf, LongSupplier clock) {
        PortBitmap table = new PortBitmap();
        table.replace(permitted);
        return new Bypass(table, () -> icf, clock);
    }

    @Override
    public Verdict decide(PacketView p) {
        long d = Ip.parse(p); // S801, S803: trust no header
        if (d < 0) {
            return malformed((int) -d);
        }
        Direction direction = p.direction();
        if (direction == Direction.INBOUND) {
            if (Ip.hasPorts(d) && ports.contains(Ip.protocol(d), Ip.isV6(d), Ip.destinationPort(p, d))) { // S805
                if (!Ip.headerChecksumValid(p, d)) { // checked where nothing but this stage stands behind the pass
                    return malformed(Ip.BAD_CHECKSUM);
                }
                if (Ip.firstFragment(d)) {
                    fragments.record(p, d, clock.getAsLong());
                }
                return accept(BYPASSED); // the permitted port bypasses the ICF
            }
            if (Ip.nonFirstFragment(d) && fragments.admits(p, d, clock.getAsLong())) {
                return Ip.headerChecksumValid(p, d) ? accept(FRAGMENTS) : malformed(Ip.BAD_CHECKSUM);
            }
        } else if (direction == Direction.OUTBOUND && Ip.hasPorts(d)
                && ports.contains(Ip.protocol(d), Ip.isV6(d), Ip.sourcePort(p, d))) {
            return accept(SERVER_REPLIES); // a permitted server answering: no flow to remember
        }
        PacketDecider stateful = icf.get(); // S807
        if (stateful == null) {
            return drop(NO_ICF);
        }
        counters[TO_ICF].increment();
        return stateful.decide(p);
    }

    /**
     * S805 for the first packet of a new inbound flow that the kernel could not accept by itself: the kernel asks
     * only when the packet's destination socket is not verified, so even a port in the table needs its socket verified
     * now. The port store does that (S703–S709 ahead of the monitor's event), on the very socket that will receive the
     * packet; without a store nothing can be verified (fail closed). No allocation.
     */
    boolean firstPacket(Protocol protocol, AddressFamily family, int port, PortStore store) {
        counters[ports.contains(protocol, family, port) ? FIRST_IN_TABLE : FIRST_NOT_IN_TABLE].increment();
        if (store == null) {
            counters[FIRST_NO_STORE].increment();
            return false;
        }
        boolean verified = store.permitNow(protocol, family, port);
        counters[verified ? FIRST_ADMITTED : FIRST_REFUSED].increment();
        return verified;
    }

    private Verdict accept(int counter) {
        counters[counter].increment();
        return Verdict.ACCEPT;
    }

    private Verdict malformed(int reason) {
        malformed[reason].increment();
        return drop(MALFORMED);
    }

    private Verdict drop(int counter) {
        counters[counter].increment();
        return Verdict.DROP;
    }

    /** Every counter by name, malformed reasons as "malformed: reason". */
    Map<String, Long> counters() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (int i = 0; i < NAMES.length; i++) {
            m.put(NAMES[i], counters[i].sum());
        }
        for (int i = 1; i < Ip.REASONS.length; i++) {
            m.put("malformed: " + Ip.REASONS[i], malformed[i].sum());
        }
        return m;
    }

    long count(String name) {
        Long v = counters().get(name);
        return v == null ? 0 : v;
    }

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }
}
