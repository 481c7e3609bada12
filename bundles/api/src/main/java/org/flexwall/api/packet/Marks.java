package org.flexwall.api.packet;

/**
 * Mark bits flexwall owns. Two kinds:
 * <ul>
 * <li>{@link #ACCEPTED} on a packet (skb->mark): a user-space hook (NFQUEUE) accepted it, or the kernel's bypass
 * looked its port up. A mark says nothing about who set it (another table can set any mark), so flexwall's rules
 * never accept a packet on this bit alone: every accept of an unsolicited packet also needs {@link #VERIFIED_SOCKET}
 * on the destination socket.</li>
 * <li>{@link #VERIFIED_SOCKET} on a socket (SO_MARK, set by root through a duplicate of a holder's descriptor): the
 * socket belongs to a trusted program that flexwall verified. Only CAP_NET_ADMIN can set a socket's mark, and the
 * mark dies with the socket, so the permission does too, whether or not the JVM runs (DESIGN principle 7). A side
 * effect: the socket's own outgoing packets carry the bit too; policy routing by fwmark must leave it alone.</li>
 * </ul>
 */
public final class Marks {

    /** The packet bit: a user-space hook accepted the packet (ORed into any mark already there). */
    public static final int ACCEPTED = 0x2000_0000;

    /** The socket bit: flexwall verified the socket's every holder as a trusted program. */
    public static final int VERIFIED_SOCKET = 0x1000_0000;

    /** Every bit of the mark flexwall owns. */
    public static final int MASK = ACCEPTED | VERIFIED_SOCKET;

    private Marks() {
    }
}
