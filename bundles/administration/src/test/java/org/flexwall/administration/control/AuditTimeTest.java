package org.flexwall.administration.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;

import org.junit.jupiter.api.Test;

class AuditTimeTest {
    private static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");

    @Test
    void anAgeCountsBackFromNow() {
        assertEquals(Instant.parse("2026-12-07T11:30:00Z"), AuditTime.since("30m", NOW));
        assertEquals(Instant.parse("2026-12-07T10:00:00Z"), AuditTime.since("2h", NOW));
        assertEquals(Instant.parse("2026-11-30T12:00:00Z"), AuditTime.since("7d", NOW));
        assertEquals(Instant.parse("2026-12-07T11:58:30Z"), AuditTime.since("90s", NOW));
    }

    @Test
    void aTimeOrADayIsTakenAsItIs() {
        assertEquals(Instant.parse("2026-12-01T08:00:00Z"), AuditTime.since("2026-12-01T08:00:00Z", NOW));
        assertEquals(LocalDate.of(2026, 12, 1).atStartOfDay(ZoneId.systemDefault()).toInstant(),
                AuditTime.since("2026-12-01", NOW));
    }

    @Test
    void anythingElseIsRefusedWithTheFormsThatWork() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AuditTime.since("yesterday", NOW));
        assertTrue(e.getMessage().contains("30m") && e.getMessage().contains("yesterday"), e.getMessage());
    }
}
