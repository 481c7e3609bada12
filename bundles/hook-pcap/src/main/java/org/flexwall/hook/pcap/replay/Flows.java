package org.flexwall.hook.pcap.replay;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.Verdict;
import org.flexwall.api.replay.ReplayFlow;

/**
 * The flows of a replay: one per direction of a 5-tuple (addresses as in the ICF's keys, IPv4 mapped into IPv6), with
 * packets, bytes and the rules that passed and dropped them. At most {@link #capacity} flows are remembered, so a
 * capture of a scan stays in bounded memory; packets of flows beyond that are counted in the totals only.
 */
final class Flows {
    /** One direction of a 5-tuple; for ICMP the ports are the message's type and code. */
    record Key(long sourceHigh, long sourceLow, long destinationHigh, long destinationLow, int protocol,
            int sourcePort, int destinationPort) {}

    static final class Flow {
        final Direction direction;
        final int firstRule;
        long packets, bytes, passed, dropped;
        int passRule = -1, dropRule = -1;

        Flow(Direction direction, int firstRule) {
            this.direction = direction;
            this.firstRule = firstRule;
        }
    }

    private final int capacity;
    private final Map<Key, Flow> flows = new HashMap<>();
    private long untracked;

    Flows(int capacity) {
        this.capacity = capacity;
    }

    /** Counts one decided packet of {@code key}. */
    void count(Key key, Direction direction, int bytes, int rule) {
        Flow f = flows.get(key);
        if (f == null) {
            if (flows.size() >= capacity) {
                untracked++;
                return;
            }
            f = new Flow(direction, rule);
            flows.put(key, f);
        }
        f.packets++;
        f.bytes += bytes;
        if (ReplayEngine.passes(rule)) {
            f.passed++;
            if (f.passRule < 0) {
                f.passRule = rule;
            }
        } else {
            f.dropped++;
            if (f.dropRule < 0) {
                f.dropRule = rule;
            }
        }
    }

    int size() {
        return flows.size();
    }

    long untracked() {
        return untracked;
    }

    /** At most {@code limit} flows: those with drops first (what would break), then by packets. */
    List<ReplayFlow> report(int limit) {
        Comparator<Map.Entry<Key, Flow>> order = Comparator
                .comparing((Map.Entry<Key, Flow> e) -> e.getValue().dropped == 0)
                .thenComparing(e -> -e.getValue().packets);
        List<ReplayFlow> shown = new ArrayList<>();
        flows.entrySet().stream().sorted(order).limit(limit).forEach(e -> shown.add(flow(e.getKey(), e.getValue())));
        return shown;
    }

    private static ReplayFlow flow(Key k, Flow f) {
        String protocol = protocol(k.protocol());
        int permitted = f.direction == Direction.INBOUND ? k.destinationPort() : k.sourcePort();
        return new ReplayFlow(protocol, address(k.sourceHigh(), k.sourceLow()), k.sourcePort(),
                address(k.destinationHigh(), k.destinationLow()), k.destinationPort(), f.direction, f.packets,
                f.bytes, f.passed, f.dropped, ReplayEngine.passes(f.firstRule) ? Verdict.ACCEPT : Verdict.DROP,
                f.passRule < 0 ? null : ReplayEngine.describe(f.passRule, protocol, permitted),
                f.dropRule < 0 ? null : ReplayEngine.describe(f.dropRule, protocol, permitted));
    }

    static String protocol(int number) {
        return switch (number) {
            case 6 -> "tcp";
            case 17 -> "udp";
            case 1 -> "icmp";
            case 58 -> "icmpv6";
            default -> "ip-proto-" + number;
        };
    }

    /** An address as text: IPv4 when it is IPv4-mapped (how the keys hold IPv4), else IPv6. */
    static String address(long high, long low) {
        try {
            if (high == 0 && (low >>> 32) == 0xffff) {
                return InetAddress.getByAddress(ByteBuffer.allocate(4).putInt((int) low).array()).getHostAddress();
            }
            return text(InetAddress.getByAddress(ByteBuffer.allocate(16).putLong(high).putLong(low).array()));
        } catch (UnknownHostException e) {
            throw new IllegalStateException("4 or 16 bytes are always an address", e);
        }
    }

    /** An address as operators write it: IPv6 shortened as RFC 5952 says (fd00:77::2, not fd00:77:0:0:0:0:0:2). */
    static String text(InetAddress a) {
        byte[] b = a.getAddress();
        if (b.length == 4) {
            return a.getHostAddress();
        }
        int[] g = new int[8];
        for (int i = 0; i < 8; i++) {
            g[i] = (b[2 * i] & 0xff) << 8 | b[2 * i + 1] & 0xff;
        }
        int bestStart = -1, bestLength = 1; // a single zero group stays "0"
        for (int i = 0; i < 8; i++) {
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = Math.max(i, j);
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLength - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(g[i]));
        }
        return out.toString();
    }
}
