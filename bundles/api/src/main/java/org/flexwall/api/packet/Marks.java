package org.flexwall.api.packet;

/**
 * Packet marks (skb->mark) shared by the hooks. A user-space hook (NFQUEUE) accepts a packet by giving it
 * {@link #ACCEPTED}; flexwall's nft input chain, which sees the packet later (it hooks at filter priority 0, the
 * NFQUEUE rule at mangle priority -150), accepts packets that carry it. Without the mark the nft chain's default drop
 * would still drop a packet that user space accepted: an accept in one base chain does not bind another.
 * The mark never leaves the host, so a packet cannot arrive carrying it.
 */
public final class Marks {

    /** The bit a user-space hook sets on an inbound packet it accepted (ORed into any mark already there). */
    public static final int ACCEPTED = 0x2000_0000;

    /** The bits of the mark flexwall owns; match with {@code meta mark & MASK == ACCEPTED}. */
    public static final int MASK = 0x2000_0000;

    /** The nft expression that matches a packet a user-space hook accepted: {@value}. */
    public static final String NFT_MATCH_ACCEPTED = "meta mark & 0x20000000 == 0x20000000";

    private Marks() {
    }
}
