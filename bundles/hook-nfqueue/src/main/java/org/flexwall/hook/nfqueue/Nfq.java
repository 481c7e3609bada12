package org.flexwall.hook.nfqueue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The nfnetlink_queue wire format (linux/netfilter/nfnetlink_queue.h), written and read directly: netlink and
 * attribute headers are in host byte order, nfqueue's values in network byte order. The buffers handed in must use
 * {@link ByteOrder#nativeOrder()}.
 */
final class Nfq {
    static final int NLMSG_HDRLEN = 16;
    static final int NFGEN_HDRLEN = 4;
    static final int NLA_HDRLEN = 4;

    static final int NLMSG_ERROR = 2;
    static final int NLMSG_DONE = 3;
    static final int NLM_F_REQUEST = 1;
    static final int NLM_F_ACK = 4;

    static final int NFNL_SUBSYS_QUEUE = 3;
    static final int MSG_PACKET = NFNL_SUBSYS_QUEUE << 8;            // NFQNL_MSG_PACKET
    static final int MSG_VERDICT = (NFNL_SUBSYS_QUEUE << 8) | 1;     // NFQNL_MSG_VERDICT
    static final int MSG_CONFIG = (NFNL_SUBSYS_QUEUE << 8) | 2;      // NFQNL_MSG_CONFIG
    static final int MSG_VERDICT_BATCH = (NFNL_SUBSYS_QUEUE << 8) | 3;

    // packet attributes (enum nfqnl_attr_type)
    static final int NFQA_PACKET_HDR = 1;
    static final int NFQA_VERDICT_HDR = 2;
    static final int NFQA_MARK = 3;
    static final int NFQA_PAYLOAD = 10;
    static final int NFQA_CAP_LEN = 13;

    // config attributes (enum nfqnl_attr_config)
    static final int NFQA_CFG_CMD = 1;
    static final int NFQA_CFG_PARAMS = 2;
    static final int NFQA_CFG_QUEUE_MAXLEN = 3;
    static final int NFQA_CFG_MASK = 4;
    static final int NFQA_CFG_FLAGS = 5;

    static final int CMD_BIND = 1;
    static final int CMD_UNBIND = 2;
    static final int COPY_PACKET = 2;

    static final int CFG_F_FAIL_OPEN = 1;
    static final int CFG_F_CONNTRACK = 2;
    static final int CFG_F_GSO = 4;

    static final int NF_DROP = 0;
    static final int NF_ACCEPT = 1;

    // netfilter hooks (enum nf_inet_hooks) as the packet header reports them
    static final int HOOK_LOCAL_IN = 1;
    static final int HOOK_FORWARD = 2;
    static final int HOOK_LOCAL_OUT = 3;

    /** Size of one verdict message with a mark: header, nfgenmsg, verdict header, mark. */
    static final int VERDICT_MSG_MAX = NLMSG_HDRLEN + NFGEN_HDRLEN + 12 + 8;

    private Nfq() {
    }

    static int align(int n) {
        return (n + 3) & ~3;
    }

    /** Starts a message at {@code off}; returns the offset after the nfgenmsg. Finish with {@link #end}. */
    static int begin(ByteBuffer b, int off, int type, int flags, int seq, int queueNum) {
        b.putInt(off, 0); // length, set by end()
        b.putShort(off + 4, (short) type);
        b.putShort(off + 6, (short) flags);
        b.putInt(off + 8, seq);
        b.putInt(off + 12, 0);
        b.put(off + 16, (byte) 0); // AF_UNSPEC
        b.put(off + 17, (byte) 0); // NFNETLINK_V0
        b.putShort(off + 18, htons(queueNum)); // res_id: the queue number, big-endian
        return off + NLMSG_HDRLEN + NFGEN_HDRLEN;
    }

    /** Sets the length of the message that starts at {@code start} and ends at {@code end}; returns {@code end}. */
    static int end(ByteBuffer b, int start, int end) {
        b.putInt(start, end - start);
        return end;
    }

    /** Writes a 32-bit network-order attribute; returns the offset after it. */
    static int putBe32(ByteBuffer b, int off, int type, int value) {
        b.putShort(off, (short) (NLA_HDRLEN + 4));
        b.putShort(off + 2, (short) type);
        b.putInt(off + 4, htonl(value));
        return off + 8;
    }

    /** The configuration message that binds {@code queueNum} to this socket with the given copy and flags. */
    static int configBind(ByteBuffer b, int off, int seq, int queueNum, int copyRange, int maxLen) {
        int p = begin(b, off, MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, seq, queueNum);
        b.putShort(p, (short) (NLA_HDRLEN + 4)); // struct nfqnl_msg_config_cmd { u8 command; u8 pad; be16 pf; }
        b.putShort(p + 2, (short) NFQA_CFG_CMD);
        b.put(p + 4, (byte) CMD_BIND);
        b.put(p + 5, (byte) 0);
        b.putShort(p + 6, (short) 0);
        p += 8;
        b.putShort(p, (short) (NLA_HDRLEN + 5)); // struct nfqnl_msg_config_params { be32 copy_range; u8 mode; }
        b.putShort(p + 2, (short) NFQA_CFG_PARAMS);
        b.putInt(p + 4, htonl(copyRange));
        b.put(p + 8, (byte) COPY_PACKET);
        b.put(p + 9, (byte) 0);
        b.putShort(p + 10, (short) 0);
        p += 12;
        p = putBe32(b, p, NFQA_CFG_QUEUE_MAXLEN, maxLen);
        // The mask names FAIL_OPEN so the kernel clears it: a full queue drops, never passes (fail closed).
        p = putBe32(b, p, NFQA_CFG_FLAGS, CFG_F_GSO);
        p = putBe32(b, p, NFQA_CFG_MASK, CFG_F_GSO | CFG_F_FAIL_OPEN | CFG_F_CONNTRACK);
        return end(b, off, p);
    }

    /** The configuration message that unbinds {@code queueNum}. */
    static int configUnbind(ByteBuffer b, int off, int seq, int queueNum) {
        int p = begin(b, off, MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, seq, queueNum);
        b.putShort(p, (short) (NLA_HDRLEN + 4));
        b.putShort(p + 2, (short) NFQA_CFG_CMD);
        b.put(p + 4, (byte) CMD_UNBIND);
        b.put(p + 5, (byte) 0);
        b.putShort(p + 6, (short) 0);
        return end(b, off, p + 8);
    }

    /**
     * A verdict for every queued packet up to and including {@code id} (NFQNL_MSG_VERDICT_BATCH), setting the mark
     * when {@code mark} is not negative. Returns the offset after the message.
     */
    static int verdictBatch(ByteBuffer b, int off, int queueNum, int verdict, int id, long mark) {
        int p = begin(b, off, MSG_VERDICT_BATCH, NLM_F_REQUEST, 0, queueNum);
        b.putShort(p, (short) (NLA_HDRLEN + 8)); // struct nfqnl_msg_verdict_hdr { be32 verdict; be32 id; }
        b.putShort(p + 2, (short) NFQA_VERDICT_HDR);
        b.putInt(p + 4, htonl(verdict));
        b.putInt(p + 8, htonl(id));
        p += 12;
        if (mark >= 0) {
            p = putBe32(b, p, NFQA_MARK, (int) mark);
        }
        return end(b, off, p);
    }

    private static final boolean BIG_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN;

    static int htonl(int v) {
        return BIG_ENDIAN ? v : Integer.reverseBytes(v);
    }

    static short htons(int v) {
        short s = (short) v;
        return BIG_ENDIAN ? s : Short.reverseBytes(s);
    }

    static int ntohl(int v) {
        return htonl(v);
    }

    static int ntohs(short v) {
        return htons(v) & 0xffff;
    }
}
