package org.flexwall.hook.nfqueue;

import java.nio.ByteBuffer;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.PacketView;

/** The reusable {@link PacketView} over the receive buffer: moved to each packet in turn, never copied. */
final class BufferView implements PacketView {
    private final ByteBuffer buffer;
    private int offset;
    private int length;
    private Direction direction = Direction.INBOUND;

    BufferView(ByteBuffer buffer) {
        this.buffer = buffer;
    }

    /** Points the view at {@code length} bytes from {@code offset}. */
    BufferView set(int offset, int length, Direction direction) {
        this.offset = offset;
        this.length = length;
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
            throw new IndexOutOfBoundsException(index); // a decider reading past the packet must not see the next one
        }
        return buffer.get(offset + index) & 0xff;
    }
}
