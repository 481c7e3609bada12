package org.flexwall.api.packet;

/**
 * Mark bits flexwall owns, on sockets (SO_MARK) and on packets (skb->mark):
 * <ul>
 * <li>{@link #VERIFIED_SOCKET} on a socket (set by root through a duplicate of a holder's descriptor): the socket
 * belongs to a trusted program that flexwall verified. Only CAP_NET_ADMIN can set a socket's mark, and the mark dies
 * with the socket, so the permission does too, whether or not the JVM runs (DESIGN principle 7). A side effect: the
 * socket's own outgoing packets carry the bit too; policy routing by fwmark must leave it alone.</li>
 * <li>{@link #ACCEPTED} on a packet: flexwall's bypass found its destination port permitted, or a user-space hook
 * (NFQUEUE) accepted it. A packet mark says nothing about who set it, so no rule accepts on it alone: every accept of
 * an unsolicited packet also needs its destination socket verified.</li>
 * <li>{@link #VERIFIED_SOCKET} on a packet: flexwall's kernel rules looked the packet's destination socket up and found
 * it verified; the user-space hook leaves such a packet to the kernel. A packet to a permitted port whose socket is
 * not verified yet (a new socket of a trusted program) goes to user space instead, which verifies it.</li>
 * <li>{@link #OPERATOR_RULE} on a packet: one of the operator's own kernel rules (anti-lockout, LAN services) matched
 * it; the user-space hook leaves it to that rule, which accepts on its match, never on the mark.</li>
 * </ul>
 */
public final class Marks {

    /** The packet bit: the destination port is permitted, or a user-space hook accepted the packet. */
    public static final int ACCEPTED = 0x2000_0000;

    /** The socket bit: flexwall verified the socket's every holder; on a packet: its destination socket is such. */
    public static final int VERIFIED_SOCKET = 0x1000_0000;

    /** The packet bit: one of the operator's kernel rules decides this packet. */
    public static final int OPERATOR_RULE = 0x0800_0000;

    /** Every bit of the mark flexwall owns. */
    public static final int MASK = ACCEPTED | VERIFIED_SOCKET | OPERATOR_RULE;

    private Marks() {
    }
}
