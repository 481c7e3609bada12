package org.flexwall.hook.nfqueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The nfnetlink_queue messages we write and read, checked byte by byte against the kernel's layout. */
class WireFormatTest {
    private final ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.nativeOrder());

    /** A packet message as the kernel sends it: packet header, mark, payload. */
    private int packetMessage(int at, int id, int hook, int mark, byte[] payload) {
        int p = Nfq.begin(b, at, Nfq.MSG_PACKET, 0, 0, 3);
        b.putShort(p, (short) 11).putShort(p + 2, (short) Nfq.NFQA_PACKET_HDR);
        b.putInt(p + 4, Nfq.htonl(id)).putShort(p + 8, Nfq.htons(0x0800)).put(p + 10, (byte) hook);
        p += 12;
        if (mark != 0) {
            p = Nfq.putBe32(b, p, Nfq.NFQA_MARK, mark);
        }
        b.putShort(p, (short) (4 + payload.length)).putShort(p + 2, (short) Nfq.NFQA_PAYLOAD);
        b.put(p + 4, payload);
        p += Nfq.align(4 + payload.length);
        return Nfq.end(b, at, p);
    }

    @Test
    void packetMessageYieldsIdHookMarkAndPayload() {
        byte[] payload = Packets.ipv4(6, 8080, 0x02);
        int end = packetMessage(0, 77, Nfq.HOOK_LOCAL_IN, 0x10, payload);
        PacketMessage m = new PacketMessage();
        assertTrue(m.parse(b, 0, end));
        assertEquals(77, m.id);
        assertEquals(Nfq.HOOK_LOCAL_IN, m.hook);
        assertEquals(0x10, m.mark);
        assertEquals(payload.length, m.payloadLength);
        assertEquals(0x45, b.get(m.payloadOffset) & 0xff);
    }

    @Test
    void truncatedMessageKeepsItsIdButLosesThePayload() {
        int end = packetMessage(0, 5, Nfq.HOOK_LOCAL_IN, 0, Packets.ipv4(6, 80, 0x02));
        PacketMessage m = new PacketMessage();
        assertTrue(m.parse(b, 0, end - 10));
        assertEquals(5, m.id);
        assertEquals(-1, m.payloadOffset);
        assertFalse(m.parse(b, 0, 24), "no packet header, no id");
    }

    @Test
    void bindConfigurationAsksForPacketCopyGsoAndClearsFailOpen() {
        int len = Nfq.configBind(b, 0, 1, 258, 256, 1024);
        assertEquals(len, b.getInt(0));
        assertEquals(Nfq.MSG_CONFIG, b.getShort(4));
        assertEquals(Nfq.NLM_F_REQUEST | Nfq.NLM_F_ACK, b.getShort(6));
        assertEquals(258, Nfq.ntohs(b.getShort(18)), "res_id is the queue number in network order");
        List<int[]> attrs = attributes(20, len);
        assertEquals(Nfq.NFQA_CFG_CMD, attrs.get(0)[0]);
        assertEquals(Nfq.CMD_BIND, b.get(attrs.get(0)[1]));
        assertEquals(Nfq.NFQA_CFG_PARAMS, attrs.get(1)[0]);
        assertEquals(256, Nfq.ntohl(b.getInt(attrs.get(1)[1])));
        assertEquals(Nfq.COPY_PACKET, b.get(attrs.get(1)[1] + 4));
        assertEquals(1024, Nfq.ntohl(b.getInt(attrs.get(2)[1])));
        assertEquals(Nfq.NFQA_CFG_FLAGS, attrs.get(3)[0]);
        assertEquals(Nfq.CFG_F_GSO, Nfq.ntohl(b.getInt(attrs.get(3)[1])), "GSO on, FAIL_OPEN off");
        assertEquals(Nfq.NFQA_CFG_MASK, attrs.get(4)[0]);
        assertTrue((Nfq.ntohl(b.getInt(attrs.get(4)[1])) & Nfq.CFG_F_FAIL_OPEN) != 0, "the mask must clear FAIL_OPEN");
    }

    private List<int[]> attributes(int from, int to) {
        List<int[]> out = new ArrayList<>();
        for (int p = from; p < to; p += Nfq.align(b.getShort(p))) {
            out.add(new int[] { b.getShort(p + 2), p + 4 });
        }
        return out;
    }

    @Test
    void runsOfEqualVerdictsBecomeOneBatchMessageEach() {
        ByteBuffer out = ByteBuffer.allocate(1024).order(ByteOrder.nativeOrder());
        List<int[]> sent = new ArrayList<>(); // verdict, id, mark
        VerdictBatcher v = new VerdictBatcher(out, 3, (buf, length) -> {
            for (int p = 0; p < length; p += buf.getInt(p)) {
                assertEquals(Nfq.MSG_VERDICT_BATCH, buf.getShort(p + 4));
                int mark = buf.getInt(p) > 32 ? Nfq.ntohl(buf.getInt(p + 36)) : -1;
                sent.add(new int[] { Nfq.ntohl(buf.getInt(p + 24)), Nfq.ntohl(buf.getInt(p + 28)), mark });
            }
        });
        v.add(1, Nfq.NF_ACCEPT, 0x2000_0000L);
        v.add(2, Nfq.NF_ACCEPT, 0x2000_0000L);
        v.add(3, Nfq.NF_DROP, -1);
        v.add(4, Nfq.NF_DROP, -1);
        v.add(5, Nfq.NF_ACCEPT, 0x2000_0001L); // the packet had a mark of its own: kept, ours ORed in
        v.add(6, Nfq.NF_ACCEPT, -1);
        v.flush();

        assertEquals(4, sent.size());
        assertEquals(List.of("1/2/536870912", "0/4/-1", "1/5/536870913", "1/6/-1"),
                sent.stream().map(s -> s[0] + "/" + s[1] + "/" + s[2]).toList());
    }

    @Test
    void aFullVerdictBufferIsSentBeforeItOverflows() {
        ByteBuffer out = ByteBuffer.allocate(2 * Nfq.VERDICT_MSG_MAX).order(ByteOrder.nativeOrder());
        List<Integer> sends = new ArrayList<>();
        VerdictBatcher v = new VerdictBatcher(out, 3, (buf, length) -> sends.add(length));
        for (int id = 1; id <= 10; id++) {
            v.add(id, id % 2 == 0 ? Nfq.NF_ACCEPT : Nfq.NF_DROP, -1); // no two alike in a row
        }
        v.flush();
        assertEquals(10, v.messages());
        assertEquals(10 * 32, sends.stream().mapToInt(Integer::intValue).sum());
        assertTrue(sends.stream().allMatch(l -> l <= out.capacity()));
    }
}
