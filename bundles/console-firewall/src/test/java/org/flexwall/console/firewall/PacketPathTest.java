package org.flexwall.console.firewall;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PacketPathTest {

    @Test
    void queueCountersAreSummedOverEveryQueue() {
        PacketPath.QueueCounters c = PacketPath.queues("""
                   42  24771     0 2   256     3     4      100  1
                   43  24772     0 2   256     0     1       50  1
                """);
        assertEquals(150, c.queued());
        assertEquals(8, c.dropped());
    }

    @Test
    void samplesAreRatesPerSecondAndTheHistoryKeepsTheLastFiveMinutes() {
        PacketPath p = new PacketPath();
        p.sample(0, new PacketPath.QueueCounters(10, 0), 5, 1, 100);
        PacketPath.Sample s = p.sample(1, new PacketPath.QueueCounters(25, 2), 9, 3, 100);
        assertEquals(15, s.decisionsPerSecond());
        assertEquals(2, s.queueDropsPerSecond());
        assertEquals(4, s.dropsPerSecond());
        for (int i = 2; i < 1000; i++) {
            p.sample(i, new PacketPath.QueueCounters(25, 2), 9, 3, 100);
        }
        assertEquals(PacketPath.SECONDS, p.history().size());
        assertEquals(999, p.history().get(PacketPath.SECONDS - 1).epochSecond());
        assertEquals(700, p.history().get(0).epochSecond());
    }
}
