package org.flexwall.port.monitor.tracefs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;

import org.flexwall.testing.SystemTests;
import org.junit.jupiter.api.Test;

class ReaderPriorityTest {

    @Test
    void theReaderThreadRunsAtTheLowestRealTimePriorityAndNoOtherThreadDoes() throws Exception {
        SystemTests.requireRoot("set a real-time scheduling policy");
        String[][] seen = new String[2][];
        Thread reader = new Thread(() -> {
            assertNull(ReaderPriority.raiseCallingThread(2));
            seen[0] = policyAndPriority();
            Thread started = new Thread(() -> seen[1] = policyAndPriority()); // as a pool's first worker would be
            started.start();
            try {
                started.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        reader.start();
        reader.join();
        assertEquals("1 " + ReaderPriority.PRIORITY, seen[0][0] + " " + seen[0][1], "SCHED_FIFO 1 in /proc");
        assertEquals("0 0", seen[1][0] + " " + seen[1][1], "a thread it starts is back at SCHED_OTHER");
        assertEquals("0 0", String.join(" ", policyAndPriority()), "only the calling thread was raised");
    }

    @Test
    void withOneCpuTheReaderStaysAtNormalPrioritySoItCannotTakeTheOnlyCpu() throws Exception {
        String[] seen = new String[2];
        Thread reader = new Thread(() -> {
            seen[0] = ReaderPriority.raiseCallingThread(1);
            seen[1] = String.join(" ", policyAndPriority());
        });
        reader.start();
        reader.join();
        assertEquals("one CPU only, which a busy real-time thread would take from everything else", seen[0]);
        assertEquals("0 0", seen[1], "SCHED_OTHER");
    }

    /** The calling thread's scheduling policy and real-time priority, as /proc shows them (stat fields 41 and 40). */
    private static String[] policyAndPriority() {
        try {
            String stat = Files.readString(Path.of("/proc/thread-self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" "); // f[0] is field 3
            return new String[] { f[41 - 3], f[40 - 3] };
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
