package org.flexwall.hook.pcap;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.PacketView;

/**
 * The {@link PacketView} of the IP packet inside a frame (the frame without its link header), moved to each frame in
 * turn, never copied; like the other hooks' views it refuses reads past the packet. A frame a capture cut short (its
 * snapshot length, in a replayed file) keeps its length on the wire and reads zeros where the capture kept no bytes:
 * the engine decides on headers, which the capture kept. The bridge's live frames are always whole.
 */
public final class FrameView implements PacketView {
    private byte[] frame = new byte[0];
    private int offset;
    private int length;
    private int capturedEnd;
    private Direction direction;

    public FrameView(Direction direction) {
        this.direction = direction;
    }

    /** A whole frame's packet: the bytes of {@code frame} from {@code offset} to {@code end}. */
    FrameView set(byte[] frame, int offset, int end) {
        return set(frame, offset, Math.max(0, end - offset), end, direction);
    }

    /**
     * The packet from {@code offset} of {@code frame}, {@code length} bytes long on the wire, of which the capture kept
     * those before {@code capturedEnd}.
     */
    public FrameView set(byte[] frame, int offset, int length, int capturedEnd, Direction direction) {
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
