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
    private byte[] array = new byte[0]; // the packet's bytes: this array, or when it is null the buffer
    private ByteBuffer buffer;
    private int offset;
    private int length;
    private int readable; // bytes from offset the capture kept, at most length
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
        array = frame;
        buffer = null;
        return point(offset, length, capturedEnd, direction);
    }

    /** The whole packet of {@code length} bytes from {@code offset} of {@code buffer}, e.g. a native receive buffer. */
    public ByteView set(ByteBuffer buffer, int offset, int length, Direction direction) {
        this.buffer = buffer;
        array = null;
        return point(offset, length, offset + length, direction);
    }

    private ByteView point(int offset, int length, int capturedEnd, Direction direction) {
        this.offset = offset;
        this.length = Math.max(0, length);
        this.readable = Math.max(0, Math.min(this.length, capturedEnd - offset));
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
        if (index >= 0 && index < readable) { // first: the way the engine takes for every byte it reads
            return (array != null ? array[offset + index] : buffer.get(offset + index)) & 0xff;
        }
        if (index < 0 || index >= length) {
            throw new IndexOutOfBoundsException("read at " + index + " of a " + length + "-byte packet");
        }
        return 0; // not captured (snapshot length)
    }
}
