package org.flexwall.hook.nfqueue;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.DroppedPacket;
import org.junit.jupiter.api.Test;

class DropRingTest {
    @Test
    void keepsTheNewestDropsOldestFirstWithAddressesAndPorts() {
        DropRing ring = new DropRing(3);
        for (int port = 1; port <= 5; port++) {
            ring.record(1000 + port, Packets.view(Packets.ipv4(6, port, 0x02)));
        }
        List<DroppedPacket> d = ring.snapshot();
        assertEquals(List.of(3, 4, 5), d.stream().map(DroppedPacket::port).toList());
        assertEquals("192.0.2.1", d.get(0).source());
        assertEquals("192.0.2.2", d.get(0).destination());
        assertEquals(6, d.get(0).protocol());
        assertEquals(1003, d.get(0).time().toEpochMilli());
        assertEquals(5, ring.total());
    }

    @Test
    void recordsIpv6AndUnparsablePackets() {
        DropRing ring = new DropRing(4);
        ring.record(1, Packets.view(Packets.ipv6(17, 53, 0), Direction.OUTBOUND));
        ring.record(2, Packets.view(new byte[] { 0x45, 0 }));
        List<DroppedPacket> d = ring.snapshot();
        assertEquals("2001:db8:0:0:0:0:0:1", d.get(0).source());
        assertEquals(17, d.get(0).protocol());
        assertEquals(Direction.OUTBOUND, d.get(0).direction());
        assertEquals("?", d.get(1).source());
        assertEquals(-1, d.get(1).protocol());
    }
}
