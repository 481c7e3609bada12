package org.flexwall.port.store;

import java.util.Comparator;
import java.util.List;

import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.SocketOwner;
import org.flexwall.api.program.TrustedProgram;

/**
 * S703 for one socket: may inbound packets reach it?
 *
 * @param outcome   the decision
 * @param program   the trusted program the socket is permitted for (PERMIT), or the trusted program sharing it (REFUSE)
 * @param untrusted the owners that are not trusted (REFUSE, UNTRUSTED)
 */
record Evaluation(Outcome outcome, TrustedProgram program, List<SocketOwner> untrusted) {

    enum Outcome {
        /** Every owner runs a trusted image. */
        PERMIT,
        /** A trusted program holds the socket together with untrusted processes: reported, never opened. */
        REFUSE,
        /** No owner is trusted, or no owner could be resolved. */
        UNTRUSTED,
        /** Bound to a loopback address only: no packet from the network can reach it, so opening its port would
         * only let the kernel answer scans with resets. */
        LOOPBACK
    }

    // The oldest process most likely created the socket and handed it on; it names the program.
    private static final Comparator<SocketOwner> OLDEST_FIRST =
            Comparator.comparingLong(SocketOwner::startTime).thenComparingInt(SocketOwner::pid);

    static Evaluation of(ListeningSocket socket, Trust trust, boolean permitLoopback) {
        if (!permitLoopback && Addresses.isLoopback(socket.address())) {
            return new Evaluation(Outcome.LOOPBACK, null, List.of());
        }
        if (socket.owners().isEmpty()) {
            return new Evaluation(Outcome.UNTRUSTED, null, List.of());
        }
        TrustedProgram first = null;
        SocketOwner firstOwner = null;
        List<SocketOwner> untrusted = new java.util.ArrayList<>();
        for (SocketOwner o : socket.owners()) {
            TrustedProgram p = trust.bySha256(o.sha256()).orElse(null);
            if (p == null) {
                untrusted.add(o);
            } else if (firstOwner == null || OLDEST_FIRST.compare(o, firstOwner) < 0) {
                first = p;
                firstOwner = o;
            }
        }
        if (first == null) {
            return new Evaluation(Outcome.UNTRUSTED, null, List.copyOf(untrusted));
        }
        if (!untrusted.isEmpty()) {
            return new Evaluation(Outcome.REFUSE, first, List.copyOf(untrusted));
        }
        return new Evaluation(Outcome.PERMIT, first, List.of());
    }
}
