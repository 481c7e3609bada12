package org.flexwall.packet.testing;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.PacketView;

/** A reusable {@link PacketView} over a byte array that, like the hooks' views, refuses reads past the packet. */
public final class ByteView implements PacketView {
    private byte[] bytes = new byte[0];
    private int length;
    private Direction direction = Direction.INBOUND;

    public ByteView() {
    }

    public ByteView(byte[] bytes, Direction direction) {
        set(bytes, bytes.length, direction);
    }

    public static ByteView of(byte[] bytes, Direction direction) {
        return new ByteView(bytes, direction);
    }

    public ByteView set(byte[] bytes, int length, Direction direction) {
        this.bytes = bytes;
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
            throw new IndexOutOfBoundsException("read at " + index + " of a " + length + "-byte packet");
        }
        return bytes[index] & 0xff;
    }
}
