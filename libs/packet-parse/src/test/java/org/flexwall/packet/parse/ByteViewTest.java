package org.flexwall.packet.parse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;

import org.flexwall.api.packet.Direction;
import org.junit.jupiter.api.Test;

class ByteViewTest {

    @Test
    void readsThePacketInsideAFrameAndRefusesReadsPastIt() {
        byte[] frame = { 9, 9, 1, 2, 3, 7 };
        ByteView v = new ByteView().set(frame, 2, 3, 5, Direction.OUTBOUND);
        assertEquals(3, v.length());
        assertEquals(Direction.OUTBOUND, v.direction());
        assertEquals(1, v.byteAt(0));
        assertEquals(3, v.byteAt(2));
        assertThrows(IndexOutOfBoundsException.class, () -> v.byteAt(3), "the next frame's byte is not the packet's");
        assertThrows(IndexOutOfBoundsException.class, () -> v.byteAt(-1));
    }

    @Test
    void aPacketTheCaptureCutShortKeepsItsWireLengthAndReadsZerosWhereNothingWasKept() {
        byte[] frame = { 0x45, (byte) 0xff };
        ByteView v = new ByteView().set(frame, 0, 20, frame.length, Direction.INBOUND);
        assertEquals(20, v.length());
        assertEquals(0xff, v.byteAt(1));
        assertEquals(0, v.byteAt(2));
        assertEquals(0, v.byteAt(19));
    }

    @Test
    void readsAPacketInABufferFromItsOffset() {
        ByteBuffer receive = ByteBuffer.allocateDirect(8).put(new byte[] { 0, 0, 0, 0x60, 1, 2, 0, 0 });
        ByteView v = new ByteView().set(receive, 3, 3, Direction.INBOUND);
        assertEquals(0x60, v.byteAt(0));
        assertEquals(2, v.byteAt(2));
        assertThrows(IndexOutOfBoundsException.class, () -> v.byteAt(3));
    }

    @Test
    void movedToAnotherArrayReadsThatArray() {
        ByteView v = ByteView.of(new byte[] { 1 }, Direction.INBOUND);
        v.set(new byte[] { 2, 3 }, 2, Direction.INBOUND);
        assertEquals(2, v.byteAt(0));
        assertEquals(3, v.byteAt(1));
    }
}
