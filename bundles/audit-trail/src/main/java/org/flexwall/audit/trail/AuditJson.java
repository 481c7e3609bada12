package org.flexwall.audit.trail;

import java.io.StringReader;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

import org.flexwall.api.audit.AuditEntry;
import org.flexwall.api.audit.PortChange;
import org.flexwall.api.audit.TrustChange;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.flexwall.json.JsonProviders;

import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

/** One audit entry as one line of JSON, and back. The field "type" says which kind of entry a line holds. */
final class AuditJson {
    private AuditJson() {}

    static String line(AuditEntry entry) {
        return object(entry).toString();
    }

    static JsonObject object(AuditEntry entry) {
        JsonObjectBuilder b = JsonProviders.provider().createObjectBuilder().add("time", entry.time().toString());
        if (entry instanceof TrustChange t) {
            b.add("type", "trust").add("actor", t.actor()).add("action", lower(t.action()));
            text(b, "program", t.program());
            text(b, "path", t.path() == null ? null : t.path().toString());
            text(b, "oldSha256", t.oldSha256());
            text(b, "newSha256", t.newSha256());
            b.add("detail", t.detail());
        } else if (entry instanceof PortChange p) {
            b.add("type", "port").add("kind", lower(p.kind())).add("protocol", lower(p.protocol()))
                    .add("family", lower(p.family())).add("port", p.port()).add("program", p.program());
            text(b, "executable", p.executable() == null ? null : p.executable().toString());
            text(b, "sha256", p.sha256());
            b.add("pid", p.pid());
            text(b, "user", p.user());
            b.add("why", p.why());
        }
        return b.build();
    }

    /** The entry a line holds, or empty when the line is not a whole entry (torn by a crash, or damaged). */
    static Optional<AuditEntry> parse(String line) {
        try (JsonReader r = JsonProviders.provider().createReader(new StringReader(line))) {
            JsonObject o = r.readObject();
            Instant time = Instant.parse(o.getString("time"));
            return Optional.of(switch (o.getString("type")) {
                case "trust" -> new TrustChange(time, o.getString("actor"),
                        TrustChange.Action.valueOf(upper(o.getString("action"))), text(o, "program"),
                        path(o, "path"), text(o, "oldSha256"), text(o, "newSha256"), text(o, "detail"));
                case "port" -> new PortChange(time, PortChange.Kind.valueOf(upper(o.getString("kind"))),
                        Protocol.valueOf(upper(o.getString("protocol"))),
                        AddressFamily.valueOf(upper(o.getString("family"))), o.getInt("port"),
                        o.getString("program"), path(o, "executable"), text(o, "sha256"),
                        o.get("pid") instanceof JsonNumber n ? n.intValue() : 0, text(o, "user"), o.getString("why"));
                default -> throw new IllegalArgumentException("unknown type");
            });
        } catch (JsonException | IllegalStateException | IllegalArgumentException | NullPointerException
                | ClassCastException | java.time.format.DateTimeParseException e) {
            return Optional.empty();
        }
    }

    private static void text(JsonObjectBuilder b, String key, String value) {
        b.add(key, value == null ? JsonValue.NULL : JsonProviders.provider().createValue(value));
    }

    private static String text(JsonObject o, String key) {
        return o.get(key) instanceof JsonString s ? s.getString() : null;
    }

    private static Path path(JsonObject o, String key) {
        String s = text(o, key);
        return s == null ? null : Path.of(s);
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    private static String upper(String s) {
        return s.toUpperCase(Locale.ROOT);
    }
}
