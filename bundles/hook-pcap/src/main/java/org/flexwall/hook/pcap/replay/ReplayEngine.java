package org.flexwall.hook.pcap.replay;

import java.util.Set;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.PacketDecider;
import org.flexwall.api.packet.PacketView;
import org.flexwall.api.packet.Verdict;
import org.flexwall.api.port.PortKey;
import org.flexwall.icf.StatefulIcf;
import org.flexwall.packet.bypass.Bypass;
import org.flexwall.packet.parse.Ip;

/**
 * A private copy of the live engine's chain: packet bypass over the given permitted ports, then a stateful ICF with
 * its own connection table, on the capture's clock. Both are the live bundles' classes (embedded in this bundle), so
 * a replay decides as the firewall does; nothing here is shared with the running firewall. Each decision comes back
 * as the rule that made it, read from the two stages' own counters around the call.
 */
final class ReplayEngine {
    /** The rule that decided a packet; the first {@link #FIRST_DROP} pass it, the rest drop it. */
    static final int BYPASS_PERMITTED = 0, BYPASS_FROM_PERMITTED = 1, BYPASS_FRAGMENT = 2, ICF_OUTBOUND = 3,
            ICF_REPLY = 4, ICF_ON_LINK_OR_FRAGMENT = 5, FIRST_DROP = 6, BYPASS_MALFORMED = 6, ICF_UNSOLICITED = 7,
            ICF_OUT_OF_WINDOW = 8, ICF_TABLE_FULL = 9, ICF_UNKNOWN_FRAGMENT = 10, ICF_UNKNOWN_ICMP_ERROR = 11,
            ICF_MALFORMED = 12;
    private static final int[] ICF_DROPS = { StatefulIcf.UNSOLICITED, StatefulIcf.OUT_OF_WINDOW,
            StatefulIcf.TABLE_FULL, StatefulIcf.UNKNOWN_FRAGMENT, StatefulIcf.UNKNOWN_ICMP_ERROR, StatefulIcf.MALFORMED };
    private static final int[] ICF_DROP_RULES = { ICF_UNSOLICITED, ICF_OUT_OF_WINDOW, ICF_TABLE_FULL,
            ICF_UNKNOWN_FRAGMENT, ICF_UNKNOWN_ICMP_ERROR, ICF_MALFORMED };

    private final StatefulIcf icf;
    private final Bypass bypass;
    private final long[] dropsBefore = new long[ICF_DROPS.length];
    private long now;
    private int icfRule;

    ReplayEngine(Set<PortKey> permitted, StatefulIcf.Settings settings) {
        icf = new StatefulIcf(settings);
        PacketDecider icfStage = this::askIcf;
        bypass = Bypass.of(permitted, () -> icfStage, () -> now);
    }

    /** Decides {@code packet} at capture time {@code nanos}; returns the rule (the constants above). */
    int decide(PacketView packet, long nanos) {
        now = nanos;
        icfRule = -1;
        Verdict v = bypass.decide(packet);
        if (icfRule >= 0) {
            return icfRule;
        }
        if (v == Verdict.DROP) {
            return BYPASS_MALFORMED; // the only drop packet bypass makes while an ICF stands behind it
        }
        if (packet.direction() == Direction.OUTBOUND) {
            return BYPASS_FROM_PERMITTED;
        }
        long d = Ip.parse(packet);
        return Ip.nonFirstFragment(d) ? BYPASS_FRAGMENT : BYPASS_PERMITTED;
    }

    static boolean passes(int rule) {
        return rule < FIRST_DROP;
    }

    private Verdict askIcf(PacketView p) {
        for (int i = 0; i < ICF_DROPS.length; i++) {
            dropsBefore[i] = icf.counter(ICF_DROPS[i]);
        }
        long replies = icf.counter(StatefulIcf.REPLIES);
        Verdict v = icf.decide(p, now);
        if (v == Verdict.ACCEPT) {
            icfRule = p.direction() == Direction.OUTBOUND ? ICF_OUTBOUND
                    : icf.counter(StatefulIcf.REPLIES) != replies ? ICF_REPLY : ICF_ON_LINK_OR_FRAGMENT;
        } else {
            icfRule = ICF_UNSOLICITED;
            for (int i = 0; i < ICF_DROPS.length; i++) {
                if (icf.counter(ICF_DROPS[i]) != dropsBefore[i]) {
                    icfRule = ICF_DROP_RULES[i];
                }
            }
        }
        return v;
    }

    /**
     * The rule in words, as the report shows it: the part that decided, then why. {@code protocol} and {@code port}
     * name the permitted port for the bypass rules (the destination port inbound, the source port outbound).
     */
    static String describe(int rule, String protocol, int port) {
        return switch (rule) {
            case BYPASS_PERMITTED -> "bypass: permitted " + protocol + "/" + port;
            case BYPASS_FROM_PERMITTED -> "bypass: sent from permitted " + protocol + "/" + port;
            case BYPASS_FRAGMENT -> "bypass: fragment of a permitted packet";
            case ICF_OUTBOUND -> "icf: sent by the appliance (its flow remembered)";
            case ICF_REPLY -> "icf: reply to an outbound flow";
            case ICF_ON_LINK_OR_FRAGMENT -> "icf: neighbour discovery or a fragment of an admitted packet";
            case BYPASS_MALFORMED -> "bypass: malformed";
            case ICF_UNSOLICITED -> "icf: unsolicited";
            case ICF_OUT_OF_WINDOW -> "icf: out of window";
            case ICF_TABLE_FULL -> "icf: connection table full";
            case ICF_UNKNOWN_FRAGMENT -> "icf: fragment of an unknown packet";
            case ICF_UNKNOWN_ICMP_ERROR -> "icf: ICMP error about no flow of ours";
            case ICF_MALFORMED -> "icf: malformed";
            default -> throw new IllegalArgumentException("no rule " + rule);
        };
    }
}
