package org.flexwall.api.audit;

import java.time.Instant;

/** One line of the audit trail. */
public sealed interface AuditEntry permits TrustChange, PortChange {

    /** When it happened. */
    Instant time();

    /** The entry in one line of words for the operator, without the time. */
    String summary();
}
