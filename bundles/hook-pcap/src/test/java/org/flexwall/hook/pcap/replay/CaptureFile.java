package org.flexwall.hook.pcap.replay;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a classic pcap file of a given link type: microsecond and little-endian, or as asked. */
final class CaptureFile {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final int linkType;
    private final ByteOrder order;
    private final boolean nanosecond;

    CaptureFile(int linkType) {
        this(linkType, ByteOrder.LITTLE_ENDIAN, false);
    }

    CaptureFile(int linkType, ByteOrder order, boolean nanosecond) {
        this.linkType = linkType;
        this.order = order;
        this.nanosecond = nanosecond;
        ByteBuffer h = ByteBuffer.allocate(24).order(order).putInt(nanosecond ? 0xa1b23c4d : 0xa1b2c3d4)
                .putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(262144).putInt(linkType);
        out.writeBytes(h.array());
    }

    /** An IP packet at {@code micros} since the epoch, wrapped in this file's link header. */
    CaptureFile add(long micros, byte[] ip) {
        return add(micros, ip, Integer.MAX_VALUE);
    }

    /** As above, of which the capture kept only the first {@code snapshot} bytes of the frame. */
    CaptureFile add(long micros, byte[] ip, int snapshot) {
        byte[] frame = frame(ip);
        int kept = Math.min(snapshot, frame.length);
        int fraction = (int) (micros % 1_000_000) * (nanosecond ? 1000 : 1);
        ByteBuffer r = ByteBuffer.allocate(16).order(order).putInt((int) (micros / 1_000_000)).putInt(fraction)
                .putInt(kept).putInt(frame.length);
        out.writeBytes(r.array());
        out.write(frame, 0, kept);
        return this;
    }

    /** A pcapng file (section header, one interface, one enhanced packet block per packet) of Ethernet frames. */
    static byte[] pcapng(long micros, byte[]... ips) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes(le(28).putInt(0x0a0d0d0a).putInt(28).putInt(0x1a2b3c4d).putShort((short) 1).putShort((short) 0)
                .putLong(-1).putInt(28).array());
        o.writeBytes(le(20).putInt(1).putInt(20).putShort((short) LinkLayer.EN10MB).putShort((short) 0)
                .putInt(262144).putInt(20).array());
        CaptureFile ethernet = new CaptureFile(LinkLayer.EN10MB);
        for (byte[] ip : ips) {
            byte[] frame = ethernet.frame(ip);
            int padded = (frame.length + 3) & ~3, total = 32 + padded;
            ByteBuffer b = le(total).putInt(6).putInt(total).putInt(0).putInt((int) (micros >>> 32))
                    .putInt((int) micros).putInt(frame.length).putInt(frame.length).put(frame);
            b.position(total - 4);
            o.writeBytes(b.putInt(total).array());
        }
        return o.toByteArray();
    }

    private byte[] frame(byte[] ip) {
        boolean v6 = (ip[0] & 0xf0) == 0x60;
        int type = v6 ? 0x86dd : 0x0800;
        ByteBuffer b;
        switch (linkType) {
            case LinkLayer.EN10MB -> b = ByteBuffer.allocate(14 + ip.length).put(new byte[12]).putShort((short) type);
            case LinkLayer.LINUX_SLL -> b = ByteBuffer.allocate(16 + ip.length).putShort((short) 0)
                    .putShort((short) 1).putShort((short) 6).put(new byte[8]).putShort((short) type);
            case LinkLayer.LINUX_SLL2 -> b = ByteBuffer.allocate(20 + ip.length).putShort((short) type)
                    .putShort((short) 0).putInt(2).putShort((short) 1).put((byte) 0).put((byte) 6).put(new byte[8]);
            default -> b = ByteBuffer.allocate(ip.length);
        }
        return b.put(ip).array();
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    Path write(Path file) throws IOException {
        return Files.write(file, bytes());
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }
}
