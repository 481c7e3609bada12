package org.flexwall.administration.control;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The {@code --since} of {@code flexwall audit}: a time, a day, or an age counted back from now. */
final class AuditTime {
    private static final Pattern AGE = Pattern.compile("(\\d{1,9})([smhd])");

    private AuditTime() {}

    /**
     * @param text "2026-12-07T10:00:00Z", "2026-12-07" (midnight, this machine's time zone), or "90s", "30m", "2h",
     *             "7d" before {@code now}
     */
    static Instant since(String text, Instant now) {
        String t = text.strip();
        Matcher age = AGE.matcher(t);
        if (age.matches()) {
            long n = Long.parseLong(age.group(1));
            Duration d = switch (age.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
            return now.minus(d);
        }
        try {
            return Instant.parse(t);
        } catch (DateTimeParseException e) {
            // not a time: perhaps a day
        }
        try {
            return LocalDate.parse(t).atStartOfDay(ZoneId.systemDefault()).toInstant();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("--since takes a time (2026-12-07T10:00:00Z), a day (2026-12-07) or "
                    + "an age (90s, 30m, 2h, 7d), not '" + text + "'");
        }
    }
}
