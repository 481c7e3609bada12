package org.flexwall.hook.pcap.replay;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.PacketView;

/**
 * The IP packet inside a captured frame, reused for every frame; like the hooks' views it refuses reads past it. A
 * frame the capture cut short (its snapshot length) keeps its length on the wire, and reads zeros where the capture
 * kept no bytes: the engine decides on headers, which the capture kept.
 */
final class FrameView implements PacketView {
    private byte[] frame = new byte[0];
    private int offset;
    private int length;
    private int capturedEnd;
    private Direction direction = Direction.INBOUND;

    /**
     * The packet from {@code offset} of {@code frame}, {@code length} bytes long on the wire, of which the capture kept
     * those before {@code capturedEnd}.
     */
    FrameView set(byte[] frame, int offset, int length, int capturedEnd, Direction direction) {
        this.frame = frame;
        this.offset = offset;
        this.length = length;
        this.capturedEnd = capturedEnd;
        this.direction = direction;
        return this;
    }

    @Override
    public Direction direction() {
        return direction;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public int byteAt(int index) {
        if (index < 0 || index >= length) {
            throw new IndexOutOfBoundsException("read at " + index + " of a " + length + "-byte packet");
        }
        int at = offset + index;
        return at < capturedEnd ? frame[at] & 0xff : 0; // not captured (snapshot length)
    }
}
