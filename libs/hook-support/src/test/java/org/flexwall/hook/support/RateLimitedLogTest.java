package org.flexwall.hook.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class RateLimitedLogTest {

    @Test
    void logsOnceAnIntervalAndCountsWhatItHeldBack() {
        List<String> logged = new ArrayList<>();
        RateLimitedLog hourly = new RateLimitedLog((m, t) -> logged.add(m), 3_600_000);
        for (int i = 0; i < 5; i++) {
            hourly.log("queue full", null);
        }
        assertEquals(List.of("queue full"), logged);

        RateLimitedLog always = new RateLimitedLog((m, t) -> logged.add(m), 0);
        always.log("a", null);
        always.log("b", null);
        assertEquals(List.of("queue full", "a", "b"), logged);
    }

    @Test
    void theNextReportAfterTheIntervalSaysHowManyWereHeldBack() {
        List<String> logged = new ArrayList<>();
        long[] now = { 0 };
        RateLimitedLog log = new RateLimitedLog((m, t) -> logged.add(m), 1000, () -> now[0]);
        log.log("send failed", null);
        now[0] = 999_999_999L;
        log.log("send failed", null);
        log.log("send failed", null);
        now[0] = 1_000_000_000L;
        log.log("send failed", null);
        assertEquals(List.of("send failed", "send failed (2 more since the last report)"), logged);
    }
}
