package org.flexwall.hook.pcap.replay;

import java.util.Set;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.IcfDecision;
import org.flexwall.api.packet.PacketDecider;
import org.flexwall.api.packet.PacketView;
import org.flexwall.api.packet.PrivateBypassFactory;
import org.flexwall.api.packet.PrivateIcf;
import org.flexwall.api.packet.PrivateIcfFactory;
import org.flexwall.api.packet.Verdict;
import org.flexwall.api.port.PortKey;
import org.flexwall.packet.parse.Ip;

/**
 * A private copy of the live engine's chain: packet bypass over the given permitted ports, then a stateful ICF with
 * its own connection table, on the capture's clock. Both stages come fresh from the live bundles' factory services
 * ({@link PrivateBypassFactory}, {@link PrivateIcfFactory}), so a replay decides as the running firewall's code does
 * and shares nothing with it. Each decision comes back as the rule that made it: the ICF names its own, the bypass
 * rules are read from the packet.
 */
final class ReplayEngine {
    /** The rule that decided a packet; the first {@link #FIRST_DROP} pass it, the rest drop it. */
    static final int BYPASS_PERMITTED = 0, BYPASS_FROM_PERMITTED = 1, BYPASS_FRAGMENT = 2, ICF_OUTBOUND = 3,
            ICF_REPLY = 4, ICF_ON_LINK_OR_FRAGMENT = 5, FIRST_DROP = 6, BYPASS_MALFORMED = 6, ICF_UNSOLICITED = 7,
            ICF_OUT_OF_WINDOW = 8, ICF_TABLE_FULL = 9, ICF_UNKNOWN_FRAGMENT = 10, ICF_UNKNOWN_ICMP_ERROR = 11,
            ICF_MALFORMED = 12;

    private final PrivateIcf icf;
    private final PacketDecider bypass;
    private long now;
    private int icfRule;

    ReplayEngine(Set<PortKey> permitted, PrivateBypassFactory bypasses, PrivateIcfFactory icfs) {
        icf = icfs.newIcf();
        bypass = bypasses.newBypass(permitted, this::askIcf, () -> now);
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
        IcfDecision decision = icf.decide(p, now);
        icfRule = switch (decision) {
            case OUTBOUND -> ICF_OUTBOUND;
            case REPLY -> ICF_REPLY;
            case ON_LINK_OR_FRAGMENT -> ICF_ON_LINK_OR_FRAGMENT;
            case UNSOLICITED -> ICF_UNSOLICITED;
            case OUT_OF_WINDOW -> ICF_OUT_OF_WINDOW;
            case TABLE_FULL -> ICF_TABLE_FULL;
            case UNKNOWN_FRAGMENT -> ICF_UNKNOWN_FRAGMENT;
            case UNKNOWN_ICMP_ERROR -> ICF_UNKNOWN_ICMP_ERROR;
            case MALFORMED -> ICF_MALFORMED;
        };
        return decision.verdict();
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
