package org.flexwall.port.store;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.SocketOwner;
import org.flexwall.api.program.TrustedProgram;

/**
 * S703 for one socket: may inbound packets reach it?
 *
 * @param outcome   the decision
 * @param program   the trusted program the socket is permitted for (PERMIT), or the trusted program involved (REFUSE)
 * @param untrusted the owners that are not trusted (REFUSE, UNTRUSTED)
 * @param reason    why it is not permitted, in words for the operator; empty for PERMIT and LOOPBACK only
 */
record Evaluation(Outcome outcome, TrustedProgram program, List<SocketOwner> untrusted, String reason) {

    enum Outcome {
        /** Every owner runs a trusted image, as the user and in the unit it is trusted for, without signs of tampering. */
        PERMIT,
        /** A trusted program's image is involved, but some holder is untrusted, tampered with, or of another user or
         * unit: reported, never opened. */
        REFUSE,
        /** No owner runs a trusted image, or no owner could be resolved. */
        UNTRUSTED,
        /** Bound to a loopback address only: no packet from the network can reach it, so opening its port would
         * only let the kernel answer scans with resets. */
        LOOPBACK
    }

    static final String NO_HOLDER = "no process holds it (it is being created, closed, or passed between processes)";

    // The oldest process most likely created the socket and handed it on; it names the program.
    private static final Comparator<SocketOwner> OLDEST_FIRST =
            Comparator.comparingLong(SocketOwner::startTime).thenComparingInt(SocketOwner::pid);

    static Evaluation of(ListeningSocket socket, Trust trust, boolean permitLoopback) {
        if (!permitLoopback && socket.isLoopback()) {
            return new Evaluation(Outcome.LOOPBACK, null, List.of(), "");
        }
        if (socket.owners().isEmpty()) {
            return new Evaluation(Outcome.UNTRUSTED, null, List.of(), NO_HOLDER);
        }
        TrustedProgram involved = null;
        SocketOwner involvedOwner = null;
        List<SocketOwner> untrusted = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        for (SocketOwner o : socket.owners()) {
            List<TrustedProgram> approvals = trust.approvals(o.sha256());
            TrustedProgram admitting = trust.admitting(o).orElse(null);
            String why = why(o, approvals, admitting);
            if (why != null) {
                untrusted.add(o);
                reasons.add(why);
            }
            if (!approvals.isEmpty() && (involvedOwner == null || OLDEST_FIRST.compare(o, involvedOwner) < 0)) {
                involved = admitting != null ? admitting : approvals.get(0);
                involvedOwner = o;
            }
        }
        if (involved == null) {
            return new Evaluation(Outcome.UNTRUSTED, null, List.copyOf(untrusted), String.join("; ", reasons));
        }
        if (!untrusted.isEmpty()) {
            return new Evaluation(Outcome.REFUSE, involved, List.copyOf(untrusted), String.join("; ", reasons));
        }
        return new Evaluation(Outcome.PERMIT, involved, List.of(), "");
    }

    /** Why {@code o} does not count as a trusted program's process, or null when it does. */
    private static String why(SocketOwner o, List<TrustedProgram> approvals, TrustedProgram admitting) {
        String who = describe(o) + (o.taken() ? ", which took the socket from its holder (pidfd_getfd)," : "");
        if (o.sha256() == null) {
            return who + " runs an image that could not be read";
        }
        if (approvals.isEmpty()) {
            return who + " is not a trusted program";
        }
        if (o.tampered() != null) {
            return who + " runs trusted bytes, but " + o.tampered();
        }
        if (admitting == null) {
            TrustedProgram p = approvals.get(0);
            return who + " runs as uid " + (o.uid() == SocketOwner.UNKNOWN_UID ? "unknown" : o.uid())
                    + (o.unit() == null ? " outside any systemd unit" : " in unit " + o.unit()) + ", but '" + p.name()
                    + "' is trusted only " + p.restrictions();
        }
        return null;
    }

    /** One owner for messages: "pid 812 /usr/sbin/sshd (sha256 1f2e…)". */
    static String describe(SocketOwner o) {
        return "pid " + o.pid() + " " + o.executable() + (o.sha256() == null ? ""
                : " (sha256 " + o.sha256().substring(0, Math.min(12, o.sha256().length())) + "…)");
    }
}
