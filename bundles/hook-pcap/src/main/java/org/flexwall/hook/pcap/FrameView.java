package org.flexwall.hook.pcap;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.PacketView;

/** The {@link PacketView} of a frame's IP packet (the frame without its Ethernet header), moved to each frame. */
final class FrameView implements PacketView {
    private final Direction direction;
    private byte[] frame;
    private int offset;
    private int length;

    FrameView(Direction direction) {
        this.direction = direction;
    }

    /** Points the view at the bytes of {@code frame} from {@code offset} to {@code end}. */
    FrameView set(byte[] frame, int offset, int end) {
        this.frame = frame;
        this.offset = offset;
        this.length = Math.max(0, end - offset);
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
            throw new IndexOutOfBoundsException(index);
        }
        return frame[offset + index] & 0xff;
    }
}
