package org.flexwall.port.monitor.tracefs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

import org.junit.jupiter.api.Test;

/** How the reader cuts trace_pipe's reads into lines, and when it says it has caught up with the kernel. */
class TraceLinesTest {

    /** Hands out one chunk per read, as trace_pipe hands out what the kernel has at that moment. */
    private static InputStream reads(String... chunks) {
        Deque<byte[]> left = new ArrayDeque<>();
        for (String c : chunks) {
            left.add(c.getBytes(StandardCharsets.US_ASCII));
        }
        return new InputStream() {
            @Override
            public int read() {
                throw new UnsupportedOperationException("the reader reads whole chunks");
            }

            @Override
            public int read(byte[] b, int off, int len) {
                byte[] next = left.poll();
                if (next == null) {
                    return -1;
                }
                System.arraycopy(next, 0, b, off, next.length);
                return next.length;
            }
        };
    }

    private static List<String> read(InputStream in) throws IOException {
        List<String> seen = new ArrayList<>();
        TraceInstance.readLines(in, () -> true, seen::add, () -> seen.add("<caught up>"));
        return seen;
    }

    @Test
    void eachReadThatEndsOnALineEndIsCaughtUpOnceAfterItsLines() throws IOException {
        assertEquals(List.of("a", "b", "<caught up>", "c", "<caught up>"), read(reads("a\nb\n", "c\n")));
    }

    @Test
    void aLineCutByTheEndOfAReadIsJoinedWithTheNextAndNotCaughtUpBefore() throws IOException {
        assertEquals(List.of("a", "b-c", "d", "<caught up>"), read(reads("a\nb-", "c\nd\n")));
    }

    @Test
    void readingStopsWhenTheInstanceIsClosed() throws IOException {
        List<String> seen = new ArrayList<>();
        TraceInstance.readLines(new ByteArrayInputStream("a\n".getBytes(StandardCharsets.US_ASCII)), () -> false,
                seen::add, () -> seen.add("<caught up>"));
        assertEquals(List.of(), seen);
    }
}
