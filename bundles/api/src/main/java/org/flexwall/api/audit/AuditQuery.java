package org.flexwall.api.audit;

import java.time.Instant;
import java.util.Locale;

/**
 * Which entries to read.
 *
 * @param since    only entries at or after this time, or null for all that are kept
 * @param limit    at most this many (the newest), 0 for no limit
 * @param contains only entries whose {@link AuditEntry#summary()} contains this text, ignoring case; null or empty
 *                 for all
 */
public record AuditQuery(Instant since, int limit, String contains) {

    public AuditQuery {
        if (limit < 0) {
            throw new IllegalArgumentException("a limit is 0 (none) or more, not " + limit);
        }
        contains = contains == null || contains.isBlank() ? null : contains.toLowerCase(Locale.ROOT);
    }

    /** Every entry kept. */
    public static AuditQuery all() {
        return new AuditQuery(null, 0, null);
    }

    /** The newest {@code limit} entries. */
    public static AuditQuery newest(int limit) {
        return new AuditQuery(null, limit, null);
    }

    /** Whether {@code entry} is one this query asks for (the limit aside). */
    public boolean matches(AuditEntry entry) {
        return (since == null || !entry.time().isBefore(since))
                && (contains == null || entry.summary().toLowerCase(Locale.ROOT).contains(contains));
    }
}
