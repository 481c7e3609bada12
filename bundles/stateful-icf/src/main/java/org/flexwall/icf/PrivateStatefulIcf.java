package org.flexwall.icf;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.IcfDecision;
import org.flexwall.api.packet.PacketView;
import org.flexwall.api.packet.PrivateIcf;
import org.flexwall.api.packet.Verdict;

/**
 * A {@link StatefulIcf} of one caller's own that names the rule behind each decision: the one counter of its own that
 * the decision moved (exact, as nothing else decides on this ICF).
 */
public final class PrivateStatefulIcf implements PrivateIcf {
    private static final int[] DROPS = { StatefulIcf.UNSOLICITED, StatefulIcf.OUT_OF_WINDOW, StatefulIcf.TABLE_FULL,
            StatefulIcf.UNKNOWN_FRAGMENT, StatefulIcf.UNKNOWN_ICMP_ERROR, StatefulIcf.MALFORMED };
    private static final IcfDecision[] DROP_DECISIONS = { IcfDecision.UNSOLICITED, IcfDecision.OUT_OF_WINDOW,
            IcfDecision.TABLE_FULL, IcfDecision.UNKNOWN_FRAGMENT, IcfDecision.UNKNOWN_ICMP_ERROR,
            IcfDecision.MALFORMED };

    private final StatefulIcf icf;
    private final long[] dropsBefore = new long[DROPS.length];

    public PrivateStatefulIcf(StatefulIcf.Settings settings) {
        icf = new StatefulIcf(settings);
    }

    @Override
    public IcfDecision decide(PacketView packet, long nanos) {
        for (int i = 0; i < DROPS.length; i++) {
            dropsBefore[i] = icf.counter(DROPS[i]);
        }
        long replies = icf.counter(StatefulIcf.REPLIES);
        if (icf.decide(packet, nanos) == Verdict.ACCEPT) {
            Direction d = packet.direction();
            return d == Direction.OUTBOUND || d == Direction.FORWARD_FROM_LAN ? IcfDecision.OUTBOUND
                    : icf.counter(StatefulIcf.REPLIES) != replies ? IcfDecision.REPLY
                    : IcfDecision.ON_LINK_OR_FRAGMENT;
        }
        for (int i = 0; i < DROPS.length; i++) {
            if (icf.counter(DROPS[i]) != dropsBefore[i]) {
                return DROP_DECISIONS[i];
            }
        }
        return IcfDecision.UNSOLICITED; // every drop moves one of the counters above; kept closed if one did not
    }

    /** The ICF behind, for tests. */
    StatefulIcf icf() {
        return icf;
    }
}
