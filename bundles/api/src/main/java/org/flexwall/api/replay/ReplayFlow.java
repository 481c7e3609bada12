package org.flexwall.api.replay;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.Verdict;

/**
 * One flow of a replayed capture: the packets of one direction of a 5-tuple (a TCP connection is two flows, the
 * client's and the server's), with what the engine decided about them.
 *
 * @param protocol    "tcp", "udp", "icmp", "icmpv6" or the IP protocol number
 * @param source      the source address as text
 * @param sourcePort  0 for protocols without ports
 * @param direction   {@link Direction#INBOUND} or {@link Direction#OUTBOUND}
 * @param verdict     what its first packet met: whether the flow could start (a TCP connection whose SYN is dropped
 *                    breaks, however its later packets would fare)
 * @param passReason  the part and rule that passed its first passed packet ("bypass: permitted tcp/5400"), or null
 * @param dropReason  the part and rule that dropped its first dropped packet ("icf: unsolicited"), or null
 */
public record ReplayFlow(String protocol, String source, int sourcePort, String destination, int destinationPort,
        Direction direction, long packets, long bytes, long passed, long dropped, Verdict verdict, String passReason,
        String dropReason) {

    /** The reason for the flow's verdict. */
    public String reason() {
        return verdict == Verdict.ACCEPT ? passReason : dropReason;
    }
}
