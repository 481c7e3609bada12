package org.flexwall.packet.parse;

import java.nio.ByteBuffer;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.PacketView;

/**
 * The {@link PacketView} the Java-deciding hooks, the replay and the tests use: a window on bytes already there (a
 * receive buffer, a frame, a test's array), moved to each packet in turn, never copied. It refuses reads past the
 * packet, so a decider reading too far does not see the next one. A packet a capture cut short (its snapshot length,
 * in a replayed file) keeps its length on the wire and reads zeros where the capture kept no bytes: the engine
 * decides on headers, which the capture kept.
 */
public final class ByteView implements PacketView {
    private ByteBuffer bytes = ByteBuffer.allocate(0);
    private byte[] wrapped; // the array bytes wraps, so a view set on the same array again allocates nothing
    private int offset;
    private int length;
    private int capturedEnd;
    private Direction direction = Direction.INBOUND;

    /** A view of a whole packet. */
    public static ByteView of(byte[] packet, Direction direction) {
        return new ByteView().set(packet, packet.length, direction);
    }

    /** The first {@code length} bytes of {@code packet}. */
    public ByteView set(byte[] packet, int length, Direction direction) {
        return set(packet, 0, length, length, direction);
    }

    /**
     * The packet from {@code offset} of {@code frame}, {@code length} bytes long on the wire, of which the capture kept
     * those before {@code capturedEnd} (for a whole packet: {@code offset + length}).
     */
    public ByteView set(byte[] frame, int offset, int length, int capturedEnd, Direction direction) {
        if (frame != wrapped) {
            wrapped = frame;
            bytes = ByteBuffer.wrap(frame);
        }
        return point(offset, length, capturedEnd, direction);
    }

    /** The whole packet of {@code length} bytes from {@code offset} of {@code buffer}, e.g. a native receive buffer. */
    public ByteView set(ByteBuffer buffer, int offset, int length, Direction direction) {
        bytes = buffer;
        wrapped = null;
        return point(offset, length, offset + length, direction);
    }

    private ByteView point(int offset, int length, int capturedEnd, Direction direction) {
        this.offset = offset;
        this.length = Math.max(0, length);
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
        return at < capturedEnd ? bytes.get(at) & 0xff : 0; // not captured (snapshot length)
    }
}
