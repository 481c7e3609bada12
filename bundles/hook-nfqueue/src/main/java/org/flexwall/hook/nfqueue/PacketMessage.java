package org.flexwall.hook.nfqueue;

import java.nio.ByteBuffer;

/** One NFQNL_MSG_PACKET, parsed in place over the receive buffer. One instance is reused for every packet. */
final class PacketMessage {
    private static final int NLA_TYPE_MASK = 0x3fff; // without NLA_F_NESTED and NLA_F_NET_BYTEORDER

    int id;
    int hook;
    /** The packet's skb mark, 0 when the kernel sent none. */
    long mark;
    /** Offset of the IP packet in the buffer, or -1 when the message carries no payload. */
    int payloadOffset;
    int payloadLength;

    /**
     * Reads the attributes of the message at {@code off} whose valid bytes end at {@code off + len}. A truncated or
     * garbled attribute ends the walk; what was read before it stays. Returns whether the packet id was found: without
     * it no verdict can be given (the kernel then drops the packet when the queue is unbound).
     */
    boolean parse(ByteBuffer b, int off, int len) {
        boolean hasId = false;
        mark = 0;
        payloadOffset = -1;
        payloadLength = 0;
        int p = off + Nfq.NLMSG_HDRLEN + Nfq.NFGEN_HDRLEN;
        int end = off + len;
        while (p + Nfq.NLA_HDRLEN <= end) {
            int alen = b.getShort(p) & 0xffff;
            int type = b.getShort(p + 2) & NLA_TYPE_MASK;
            if (alen < Nfq.NLA_HDRLEN || p + alen > end) {
                break;
            }
            if (type == Nfq.NFQA_PACKET_HDR && alen >= Nfq.NLA_HDRLEN + 7) {
                // struct nfqnl_msg_packet_hdr { be32 packet_id; be16 hw_protocol; u8 hook; }
                id = Nfq.ntohl(b.getInt(p + 4));
                hook = b.get(p + 10) & 0xff;
                hasId = true;
            } else if (type == Nfq.NFQA_MARK && alen >= Nfq.NLA_HDRLEN + 4) {
                mark = Nfq.ntohl(b.getInt(p + 4)) & 0xffff_ffffL;
            } else if (type == Nfq.NFQA_PAYLOAD) {
                payloadOffset = p + Nfq.NLA_HDRLEN;
                payloadLength = alen - Nfq.NLA_HDRLEN;
            }
            p += Nfq.align(alen);
        }
        return hasId;
    }
}
