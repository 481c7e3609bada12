package org.flexwall.console.firewall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.flexwall.api.packet.DropCount;
import org.flexwall.api.packet.DroppedPacket;
import org.flexwall.api.packet.Direction;
import org.junit.jupiter.api.Test;

class DropTallyTest {
    private static final Instant T0 = Instant.parse("2026-12-07T01:00:00Z");

    private static DroppedPacket drop(long millis, String source, int port) {
        return new DroppedPacket(T0.plusMillis(millis), Direction.INBOUND, source, "10.0.0.2", 6, port);
    }

    @Test
    void userSpaceDropsSeenTwiceInOverlappingSnapshotsAreCountedOnce() {
        DropTally t = new DropTally(100);
        List<DroppedPacket> ring = new ArrayList<>(List.of(drop(1, "a", 80), drop(2, "a", 80), drop(2, "b", 80)));
        t.userSpace(ring);
        ring.add(drop(2, "a", 80)); // a third drop in the same millisecond, after the first look
        ring.add(drop(5, "a", 80));
        t.userSpace(ring);
        t.userSpace(ring);
        assertEquals(5, t.total());
        assertEquals(5, t.atPort(6, 80));
        assertEquals(List.of(4L, 1L), t.rows(10).stream().map(DropTally.Row::count).sorted((x, y) -> Long.compare(y, x)).toList());
    }

    @Test
    void kernelCountersAreTakenAsTheyGrowAndStartAgainAfterATimeout() {
        DropTally t = new DropTally(100);
        t.kernel(List.of(new DropCount("a", 17, 53, 3, T0)));
        t.kernel(List.of(new DropCount("a", 17, 53, 5, T0.plusSeconds(1))));
        t.kernel(List.of(new DropCount("a", 17, 53, 2, T0.plusSeconds(900)))); // forgotten by the kernel, back again
        assertEquals(7, t.total());
        DropTally.Row r = t.rows(10).get(0);
        assertEquals(2, r.count(), "the row shows the kernel's counter as it is now");
        assertEquals(T0, r.firstSeen());
        assertEquals(T0.plusSeconds(900), r.lastSeen());
    }

    @Test
    void staysWithinItsCapacityWhateverArrivesKeepingTheMostRecentlySeen() {
        DropTally t = new DropTally(1000);
        List<DroppedPacket> flood = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            flood.add(drop(i, "10." + (i >> 16) + "." + (i >> 8 & 255) + "." + (i & 255), 1 + i % 1000));
        }
        t.userSpace(flood);
        assertEquals(1000, t.size());
        assertEquals(100_000, t.total());
        assertTrue(t.rows(5).get(0).source().equals("10.1.134.159"), t.rows(1).toString()); // the last of the flood
    }

    @Test
    void outboundAndUnparsedDropsAreNoInboundAttempts() {
        DropTally t = new DropTally(10);
        t.userSpace(List.of(new DroppedPacket(T0, Direction.OUTBOUND, "a", "b", 6, 80),
                new DroppedPacket(T0.plusMillis(1), Direction.INBOUND, "?", "?", -1, 0)));
        assertEquals(0, t.size());
    }
}
