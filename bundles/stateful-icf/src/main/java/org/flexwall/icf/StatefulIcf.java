package org.flexwall.icf;

import static org.flexwall.icf.ConnectionTable.ADOPTED;
import static org.flexwall.icf.ConnectionTable.CLOSED;
import static org.flexwall.icf.ConnectionTable.CLOSING;
import static org.flexwall.icf.ConnectionTable.ESTABLISHED;
import static org.flexwall.icf.ConnectionTable.ICMP_ECHO;
import static org.flexwall.icf.ConnectionTable.O_END;
import static org.flexwall.icf.ConnectionTable.O_ISN;
import static org.flexwall.icf.ConnectionTable.O_MAXWIN;
import static org.flexwall.icf.ConnectionTable.R_END;
import static org.flexwall.icf.ConnectionTable.R_ISN;
import static org.flexwall.icf.ConnectionTable.R_MAXWIN;
import static org.flexwall.icf.ConnectionTable.SCALES;
import static org.flexwall.icf.ConnectionTable.SYN_SENT;
import static org.flexwall.icf.ConnectionTable.UDP_NEW;
import static org.flexwall.icf.ConnectionTable.UDP_REPLIED;
import static org.flexwall.packet.parse.Ip.ACK;
import static org.flexwall.packet.parse.Ip.FIN;
import static org.flexwall.packet.parse.Ip.RST;
import static org.flexwall.packet.parse.Ip.SYN;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.PacketView;
import org.flexwall.api.packet.Verdict;
import org.flexwall.packet.parse.FragmentCache;
import org.flexwall.packet.parse.Ip;

/**
 * The stateful firewall ("ICF", paragraph [58]): flows the appliance or its LAN originated go into the
 * {@link ConnectionTable}; an inbound packet passes only as a reply to one of them. Everything else is dropped
 * silently. The caller passes the time (monotonic nanoseconds) so tests control it. No allocation, no lock.
 */
public final class StatefulIcf {

    /** Sizes and timeouts (nanoseconds). */
    public record Settings(int capacity, int maxProbe, long synSent, long established, long closing, long closed,
            long udp, long udpReplied, long icmp, boolean loosePickup, int fragmentSlots, long fragments) {
        public static Settings defaults() {
            long s = 1_000_000_000L;
            return new Settings(65536, 16, 60 * s, 86400 * s, 120 * s, 10 * s, 30 * s, 180 * s, 30 * s, true, 1024,
                    30 * s);
        }
    }

    // Counters: why packets were dropped, and what the table did.
    public static final int UNSOLICITED = 0, OUT_OF_WINDOW = 1, TABLE_FULL = 2, UNKNOWN_FRAGMENT = 3,
            UNKNOWN_ICMP_ERROR = 4, NEW_FLOWS = 5, REPLIES = 6, MALFORMED = 7;
    private static final String[] NAMES = { "dropped unsolicited", "dropped out of window",
            "new flow refused: table full", "dropped non-first fragment of unknown train",
            "dropped ICMP error about unknown flow", "new flows", "replies accepted", "dropped malformed" };

    private final Settings settings;
    private final ConnectionTable table;
    private final FragmentCache fragments;
    private final LongAdder[] counters = adders(NAMES.length);
    private final LongAdder[] malformed = adders(Ip.REASONS.length);

    public StatefulIcf(Settings settings) {
        this.settings = settings;
        this.table = new ConnectionTable(settings.capacity(), settings.maxProbe());
        this.fragments = new FragmentCache(settings.fragmentSlots(), settings.fragments());
    }

    /** The decision for one packet at monotonic time {@code now} (nanoseconds). */
    public Verdict decide(PacketView p, long now) {
        long d = Ip.parse(p); // checked again: a hook may call the ICF directly
        if (d < 0) {
            malformed[(int) -d].increment();
            return drop(MALFORMED);
        }
        Direction direction = p.direction();
        boolean out = direction == Direction.OUTBOUND || direction == Direction.FORWARD_FROM_LAN;
        boolean v6 = Ip.isV6(d);
        boolean pass;
        if (Ip.nonFirstFragment(d)) {
            pass = out || fragments.admits(p, d, now) || count(UNKNOWN_FRAGMENT);
        } else {
            int protocol = Ip.protocol(d);
            pass = protocol == Ip.TCP ? (out ? tcpOut(p, d, now) : tcpIn(p, d, now))
                    : protocol == Ip.UDP ? (out ? udpOut(p, d, now) : udpIn(p, d, now))
                    : protocol == (v6 ? Ip.ICMPV6 : Ip.ICMP) ? (out ? icmpOut(p, d, now) : icmpIn(p, d, now))
                    : out || count(UNSOLICITED);
        }
        if (pass && !out && Ip.firstFragment(d)) {
            fragments.record(p, d, now); // its later fragments carry no ports: let them follow it
        }
        return pass ? Verdict.ACCEPT : Verdict.DROP;
    }

    // --- TCP -------------------------------------------------------------------------------------------------------

    private boolean tcpOut(PacketView p, long d, long now) {
        int l4 = Ip.transportOffset(d), flags = Ip.tcpFlags(d);
        int seq = (int) Ip.u32(p, l4 + 4), window = Ip.u16(p, l4 + 14);
        int end = seq + segmentLength(p, d, l4, flags);
        int slot = find(p, 0, d, true, Ip.sourcePort(p, d), Ip.destinationPort(p, d), now);
        if ((flags & (SYN | ACK)) == SYN) { // a connection we originate
            if (slot >= 0 && table.kind(slot) == SYN_SENT && table.tcp(slot, O_ISN) == seq) {
                table.deadline(slot, now + settings.synSent()); // retransmitted SYN
                return true;
            }
            if (slot < 0) {
                slot = insert(p, 0, d, true, Ip.sourcePort(p, d), Ip.destinationPort(p, d), SYN_SENT,
                        now + settings.synSent(), now);
                if (slot < 0) {
                    return count(TABLE_FULL);
                }
            }
            table.set(slot, SYN_SENT, now + settings.synSent());
            table.tcp(slot, O_ISN, seq);
            table.tcp(slot, O_END, end);
            table.tcp(slot, O_MAXWIN, Math.max(window, 1));
            table.tcp(slot, SCALES, windowScale(p, l4) + 1); // 0: our SYN offered no scaling
            counters[NEW_FLOWS].increment();
            return true;
        }
        if (slot < 0) {
            if (settings.loosePickup() && (flags & (SYN | RST | FIN)) == 0 && pickUp(p, d, l4, seq, end, window,
                    now) < 0) {
                counters[TABLE_FULL].increment();
            }
            return true; // we never block our own traffic, only refuse to remember new flows when full
        }
        int kind = table.kind(slot);
        if (table.tcp(slot, ADOPTED) != 0) {
            learn(slot, seq, end, window, (int) Ip.u32(p, l4 + 8), true);
        }
        if (after(end, table.tcp(slot, O_END))) {
            table.tcp(slot, O_END, end);
        }
        int scaled = (flags & SYN) != 0 ? window : window << (table.tcp(slot, SCALES) & 0xf);
        if (scaled > table.tcp(slot, O_MAXWIN)) {
            table.tcp(slot, O_MAXWIN, scaled);
        }
        if ((flags & RST) != 0) {
            table.set(slot, CLOSED, now + settings.closed());
        } else if ((flags & FIN) != 0 && kind == ESTABLISHED || kind == CLOSING) {
            table.set(slot, CLOSING, now + settings.closing());
        } else if (kind == ESTABLISHED) {
            table.deadline(slot, now + settings.established());
        }
        return true;
    }

    /**
     * The first segment of a flow picked up or taken over from conntrack, in either direction: its sequence numbers
     * and the acknowledgement start the windows, as wide as any scale allows.
     */
    private void learn(int slot, int seq, int end, int window, int ack, boolean outbound) {
        int senderIsn = outbound ? O_ISN : R_ISN, senderEnd = outbound ? O_END : R_END;
        int senderWin = outbound ? O_MAXWIN : R_MAXWIN;
        int peerIsn = outbound ? R_ISN : O_ISN, peerEnd = outbound ? R_END : O_END;
        int peerWin = outbound ? R_MAXWIN : O_MAXWIN;
        table.tcp(slot, senderIsn, seq - 1);
        table.tcp(slot, senderEnd, end);
        table.tcp(slot, senderWin, Math.max(window, 1) << 14);
        table.tcp(slot, peerIsn, ack - 1);
        table.tcp(slot, peerEnd, ack);
        table.tcp(slot, peerWin, 1 << 30);
        table.tcp(slot, SCALES, 14 | 14 << 4); // scale unknown: assume the largest
        table.tcp(slot, ADOPTED, 0);
    }

    /**
     * Takes over one flow the kernel's conntrack holds as established (a hook that starts deciding in Java after the
     * kernel did): {@code local} is this side (the appliance or its LAN), {@code protocol} {@link Ip#TCP} or
     * {@link Ip#UDP}. A TCP connection's windows are learnt from its next segment. A flow the table knows from an
     * earlier time Java decided is taken over the same way: the kernel carried it since, so the sequence numbers the
     * table holds are stale (a session would stall out of window, or in a handshake the kernel finished). Returns
     * false only when the table has no room.
     */
    public boolean adopt(boolean v6, long localHigh, long localLow, long remoteHigh, long remoteLow, int protocol,
            int localPort, int remotePort, long now) {
        long meta = ConnectionTable.meta(v6, protocol, localPort, remotePort);
        boolean tcp = protocol == Ip.TCP;
        int kind = tcp ? ESTABLISHED : UDP_REPLIED;
        long deadline = now + (tcp ? settings.established() : settings.udpReplied());
        int slot = table.find(localHigh, localLow, remoteHigh, remoteLow, meta, now);
        if (slot >= 0) {
            table.set(slot, kind, deadline);
        } else {
            slot = table.insert(localHigh, localLow, remoteHigh, remoteLow, meta, kind, deadline, now);
            if (slot < 0) {
                counters[TABLE_FULL].increment();
                return false;
            }
        }
        if (tcp) {
            table.tcp(slot, ADOPTED, 1);
        }
        return true;
    }

    /**
     * An outbound segment of a connection the table does not know (the table is new, after a restart): remember it
     * as established, with windows wide enough for any scale, so its replies keep flowing.
     */
    private int pickUp(PacketView p, long d, int l4, int seq, int end, int window, long now) {
        int slot = insert(p, 0, d, true, Ip.sourcePort(p, d), Ip.destinationPort(p, d), ESTABLISHED,
                now + settings.established(), now);
        if (slot >= 0) {
            learn(slot, seq, end, window, (int) Ip.u32(p, l4 + 8), true);
        }
        return slot;
    }

    private boolean tcpIn(PacketView p, long d, long now) {
        int l4 = Ip.transportOffset(d), flags = Ip.tcpFlags(d);
        int slot = find(p, 0, d, false, Ip.destinationPort(p, d), Ip.sourcePort(p, d), now);
        if (slot < 0) {
            return count(UNSOLICITED); // SYN-ACK, ACK, RST, FIN to nothing we opened
        }
        int kind = table.kind(slot);
        if (kind == SYN_SENT) {
            return handshakeIn(p, d, l4, flags, slot, now); // apart, so the hot path below stays small to inline
        }
        int seq = (int) Ip.u32(p, l4 + 4), ack = (int) Ip.u32(p, l4 + 8), window = Ip.u16(p, l4 + 14);
        int end = seq + segmentLength(p, d, l4, flags);
        if (table.tcp(slot, ADOPTED) != 0 && (flags & SYN) == 0) {
            learn(slot, seq, end, window, ack, false);
        }
        int ourIsn = table.tcp(slot, O_ISN);
        if (kind == CLOSED) {
            return count(UNSOLICITED);
        }
        if ((flags & SYN) != 0) { // a retransmitted SYN-ACK (our ACK was lost) and nothing else
            return (flags & ACK) != 0 && ack == ourIsn + 1 && seq == table.tcp(slot, R_ISN) ? reply()
                    : count(OUT_OF_WINDOW);
        }
        if (!inWindow(slot, seq, end, ack, flags)) {
            return count(OUT_OF_WINDOW);
        }
        if (after(end, table.tcp(slot, R_END))) {
            table.tcp(slot, R_END, end);
        }
        int scaled = window << (table.tcp(slot, SCALES) >>> 4 & 0xf);
        if (scaled > table.tcp(slot, R_MAXWIN)) {
            table.tcp(slot, R_MAXWIN, scaled);
        }
        if ((flags & RST) != 0) {
            table.set(slot, CLOSED, now + settings.closed());
        } else if ((flags & FIN) != 0 || kind == CLOSING) {
            table.set(slot, CLOSING, now + settings.closing());
        } else {
            table.deadline(slot, now + settings.established());
        }
        return reply();
    }

    /** The answer to a SYN we sent: a SYN-ACK of it establishes the connection, a RST-ACK of it refuses it. */
    private boolean handshakeIn(PacketView p, long d, int l4, int flags, int slot, long now) {
        int seq = (int) Ip.u32(p, l4 + 4), ack = (int) Ip.u32(p, l4 + 8), window = Ip.u16(p, l4 + 14);
        int ourIsn = table.tcp(slot, O_ISN);
        if ((flags & (SYN | ACK | RST)) == (SYN | ACK) && ack == ourIsn + 1) {
            int offered = table.tcp(slot, SCALES) - 1, theirs = windowScale(p, l4);
            boolean scaling = offered >= 0 && theirs >= 0; // RFC 7323: only when both SYNs carry the option
            table.tcp(slot, SCALES, scaling ? offered | theirs << 4 : 0);
            table.tcp(slot, R_ISN, seq);
            table.tcp(slot, R_END, seq + segmentLength(p, d, l4, flags));
            table.tcp(slot, R_MAXWIN, Math.max(window, 1));
            table.set(slot, ESTABLISHED, now + settings.established());
            return reply();
        }
        if ((flags & (RST | ACK)) == (RST | ACK) && ack == ourIsn + 1) {
            table.set(slot, CLOSED, now + settings.closed()); // connection refused: let our stack learn it
            return reply();
        }
        return count(OUT_OF_WINDOW);
    }

    /**
     * Sequence checks after Rooij's "Real stateful TCP packet filtering" (as in Linux conntrack, simplified): the
     * segment lies within a window of what the peer sent before, and acknowledges nothing we have not sent.
     */
    private boolean inWindow(int slot, int seq, int end, int ack, int flags) {
        int theirEnd = table.tcp(slot, R_END), ourWindow = table.tcp(slot, O_MAXWIN);
        if (after(seq, theirEnd + ourWindow) || before(end, theirEnd - ourWindow)) {
            return false;
        }
        if ((flags & ACK) == 0) {
            return true;
        }
        int ourEnd = table.tcp(slot, O_END);
        return !after(ack, ourEnd) && !before(ack, ourEnd - Math.max(table.tcp(slot, R_MAXWIN), 66000));
    }

    /** Sequence space a segment takes: its payload, plus one for SYN and one for FIN. */
    private static int segmentLength(PacketView p, long d, int l4, int flags) {
        int payload = Ip.end(p, d) - l4 - (p.byteAt(l4 + 12) >>> 4) * 4;
        return Math.max(payload, 0) + ((flags & SYN) != 0 ? 1 : 0) + ((flags & FIN) != 0 ? 1 : 0);
    }

    /** The window scale option of a SYN (0–14), or -1 if absent. */
    private static int windowScale(PacketView p, int l4) {
        int end = l4 + (p.byteAt(l4 + 12) >>> 4) * 4; // within the packet: the parser checked the data offset
        for (int i = l4 + 20; i < end;) {
            int option = p.byteAt(i);
            if (option == 0) {
                return -1;
            }
            if (option == 1) {
                i++;
                continue;
            }
            if (i + 1 >= end || p.byteAt(i + 1) < 2) {
                return -1;
            }
            if (option == 3 && p.byteAt(i + 1) == 3 && i + 2 < end) {
                return Math.min(p.byteAt(i + 2), 14);
            }
            i += p.byteAt(i + 1);
        }
        return -1;
    }

    private static boolean after(int a, int b) {
        return a - b > 0;
    }

    private static boolean before(int a, int b) {
        return a - b < 0;
    }

    // --- UDP: pseudo-flows -----------------------------------------------------------------------------------------

    private boolean udpOut(PacketView p, long d, long now) {
        int source = Ip.sourcePort(p, d), destination = Ip.destinationPort(p, d);
        int slot = find(p, 0, d, true, source, destination, now);
        if (slot >= 0) {
            table.deadline(slot, now + (table.kind(slot) == UDP_REPLIED ? settings.udpReplied() : settings.udp()));
            return true;
        }
        if (insert(p, 0, d, true, source, destination, UDP_NEW, now + settings.udp(), now) < 0) {
            return count(TABLE_FULL);
        }
        counters[NEW_FLOWS].increment();
        return true;
    }

    private boolean udpIn(PacketView p, long d, long now) {
        int slot = find(p, 0, d, false, Ip.destinationPort(p, d), Ip.sourcePort(p, d), now);
        if (slot < 0) {
            return count(UNSOLICITED);
        }
        table.set(slot, UDP_REPLIED, now + settings.udpReplied());
        return reply();
    }

    // --- ICMP and ICMPv6 -------------------------------------------------------------------------------------------

    private boolean icmpOut(PacketView p, long d, long now) {
        int l4 = Ip.transportOffset(d);
        if (p.byteAt(l4) != (Ip.isV6(d) ? 128 : 8)) {
            return true; // not an echo request: nothing comes back that we would admit
        }
        int id = Ip.u16(p, l4 + 4);
        int slot = find(p, 0, d, true, id, 0, now);
        if (slot < 0) {
            slot = insert(p, 0, d, true, id, 0, ICMP_ECHO, now + settings.icmp(), now);
            if (slot < 0) {
                return count(TABLE_FULL);
            }
            counters[NEW_FLOWS].increment();
        }
        table.deadline(slot, now + settings.icmp());
        return true;
    }

    private boolean icmpIn(PacketView p, long d, long now) {
        boolean v6 = Ip.isV6(d);
        int l4 = Ip.transportOffset(d), type = p.byteAt(l4);
        if (type == (v6 ? 129 : 0)) { // echo reply to our echo request
            return find(p, 0, d, false, Ip.u16(p, l4 + 4), 0, now) >= 0 ? reply() : count(UNSOLICITED);
        }
        if (v6 ? type >= 1 && type <= 4 : type == 3 || type == 11 || type == 12) {
            return icmpError(p, d, l4, now);
        }
        if (v6 && type >= 133 && type <= 136 && p.byteAt(7) == 255) {
            return true; // neighbour discovery: hop limit 255 proves it is on-link (RFC 4861); IPv6 needs it
        }
        return count(UNSOLICITED); // echo requests, redirects, timestamps...: stealth
    }

    /** An ICMP error passes when the packet it quotes is one of ours, of a flow in the table. */
    private boolean icmpError(PacketView p, long d, int l4, long now) {
        boolean v6 = Ip.isV6(d);
        int inner = l4 + 8;
        long e = Ip.parse(p, inner, Ip.end(p, d), true);
        if (e < 0 || Ip.isV6(e) != v6 || Ip.nonFirstFragment(e)
                || Ip.sourceLow(p, inner, v6) != Ip.destinationLow(p, 0, v6)
                || Ip.sourceHigh(p, inner, v6) != Ip.destinationHigh(p, 0, v6)) {
            return count(UNKNOWN_ICMP_ERROR); // not about a packet we sent
        }
        int protocol = Ip.protocol(e), t = Ip.transportOffset(e);
        int slot = protocol == Ip.TCP || protocol == Ip.UDP
                ? find(p, inner, e, true, Ip.u16(p, t), Ip.u16(p, t + 2), now)
                : protocol == (v6 ? Ip.ICMPV6 : Ip.ICMP) && p.byteAt(t) == (v6 ? 128 : 8)
                        ? find(p, inner, e, true, Ip.u16(p, t + 4), 0, now)
                        : -1;
        return slot >= 0 ? reply() : count(UNKNOWN_ICMP_ERROR);
    }

    // --- keys ------------------------------------------------------------------------------------------------------

    /** Finds the flow of the IP packet at {@code base}; {@code local} is its source when we sent it. */
    private int find(PacketView p, int base, long d, boolean localIsSource, int localPort, int remotePort, long now) {
        boolean v6 = Ip.isV6(d);
        long meta = ConnectionTable.meta(v6, Ip.protocol(d), localPort, remotePort);
        return localIsSource
                ? table.find(Ip.sourceHigh(p, base, v6), Ip.sourceLow(p, base, v6), Ip.destinationHigh(p, base, v6),
                        Ip.destinationLow(p, base, v6), meta, now)
                : table.find(Ip.destinationHigh(p, base, v6), Ip.destinationLow(p, base, v6),
                        Ip.sourceHigh(p, base, v6), Ip.sourceLow(p, base, v6), meta, now);
    }

    private int insert(PacketView p, int base, long d, boolean localIsSource, int localPort, int remotePort,
            int kind, long deadline, long now) {
        boolean v6 = Ip.isV6(d);
        long meta = ConnectionTable.meta(v6, Ip.protocol(d), localPort, remotePort);
        return table.insert(Ip.sourceHigh(p, base, v6), Ip.sourceLow(p, base, v6), Ip.destinationHigh(p, base, v6),
                Ip.destinationLow(p, base, v6), meta, kind, deadline, now);
    }

    // --- counters --------------------------------------------------------------------------------------------------

    private boolean count(int counter) {
        counters[counter].increment();
        return false;
    }

    private Verdict drop(int counter) {
        counters[counter].increment();
        return Verdict.DROP;
    }

    private boolean reply() {
        counters[REPLIES].increment();
        return true;
    }

    /** One counter (the constants above), cheaply: a private ICF reads them to name the rule that decided. */
    long counter(int counter) {
        return counters[counter].sum();
    }

    public long count(String name) {
        Long v = counters().get(name);
        return v == null ? 0 : v;
    }

    /** Every counter by name, malformed reasons as "malformed: reason", and table figures. */
    public Map<String, Long> counters() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (int i = 0; i < NAMES.length; i++) {
            m.put(NAMES[i], counters[i].sum());
        }
        for (int i = 1; i < Ip.REASONS.length; i++) {
            m.put("malformed: " + Ip.REASONS[i], malformed[i].sum());
        }
        m.put("embryonic flows evicted", table.evictions());
        return m;
    }

    public static String name(int counter) {
        return NAMES[counter];
    }

    public ConnectionTable table() {
        return table;
    }

    public Settings settings() {
        return settings;
    }

    static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }
}
