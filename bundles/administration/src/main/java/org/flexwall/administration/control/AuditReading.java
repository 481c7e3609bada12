package org.flexwall.administration.control;

import static org.flexwall.administration.control.Replies.error;
import static org.flexwall.administration.control.Replies.lower;
import static org.flexwall.administration.control.Replies.nullable;
import static org.flexwall.administration.control.Replies.ok;

import java.time.Instant;
import java.util.List;

import org.flexwall.api.audit.AuditEntry;
import org.flexwall.api.audit.AuditException;
import org.flexwall.api.audit.AuditQuery;
import org.flexwall.api.audit.AuditTrail;
import org.flexwall.api.audit.PortChange;
import org.flexwall.api.audit.TrustChange;

import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;

/** The {@code audit} operation: the audit trail's entries, newest first, as JSON. */
final class AuditReading {
    /** Entries {@code audit} answers at most when the request sets no limit. */
    static final int LIMIT = 1000;

    private AuditReading() {}

    /**
     * @param trail    may be null (then the answer says the audit trail is not running)
     * @param since    a time ("2026-12-07T10:00:00Z", "2026-12-07") or an age ("30m", "2h", "7d"), or null for all
     * @param limit    at most this many entries, 0 for {@value #LIMIT}
     * @param contains only entries whose words contain this text, ignoring case; null for all
     */
    static JsonObject read(AuditTrail trail, String since, int limit, String contains) {
        if (trail == null) {
            return error("audit", "the audit trail is not running; `flexwall status` shows what it waits for");
        }
        if (limit < 0) {
            throw new IllegalArgumentException("the limit is a number of entries, not " + limit);
        }
        try {
            List<AuditEntry> entries = trail.read(new AuditQuery(since == null ? null : AuditTime.since(since,
                    Instant.now()), limit == 0 ? LIMIT : limit, contains));
            JsonArrayBuilder list = JsonSupport.json().createArrayBuilder();
            entries.forEach(e -> list.add(entry(e)));
            return ok("audit").add("entries", list).build();
        } catch (AuditException e) {
            return error("audit", e.getMessage());
        }
    }

    private static JsonObject entry(AuditEntry e) {
        JsonObjectBuilder b = JsonSupport.json().createObjectBuilder().add("time", e.time().toString());
        if (e instanceof TrustChange t) {
            b.add("type", "trust").add("actor", t.actor()).add("action", lower(t.action()))
                    .add("program", nullable(t.program()))
                    .add("path", nullable(t.path() == null ? null : t.path().toString()))
                    .add("oldSha256", nullable(t.oldSha256())).add("newSha256", nullable(t.newSha256()))
                    .add("detail", t.detail());
        } else if (e instanceof PortChange p) {
            b.add("type", "port").add("kind", lower(p.kind())).add("protocol", lower(p.protocol()))
                    .add("family", lower(p.family())).add("port", p.port()).add("program", p.program())
                    .add("executable", nullable(p.executable() == null ? null : p.executable().toString()))
                    .add("sha256", nullable(p.sha256())).add("pid", p.pid()).add("user", nullable(p.user()))
                    .add("why", p.why());
        }
        return b.add("summary", e.summary()).build();
    }
}
