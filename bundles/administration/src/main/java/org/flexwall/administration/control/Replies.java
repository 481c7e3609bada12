package org.flexwall.administration.control;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;

import org.osgi.service.log.Logger;

import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

/**
 * The shape every operation shares: reading a request's fields, answering {@code {"ok":true,"op":…}} or
 * {@code {"ok":false,"error":…}}, and telling the log (which is null without OSGi).
 */
final class Replies {
    private Replies() {}

    static JsonObjectBuilder ok(String op) {
        return JsonSupport.json().createObjectBuilder().add("ok", true).add("op", op);
    }

    static JsonObject error(String op, String message) {
        JsonObjectBuilder b = JsonSupport.json().createObjectBuilder().add("ok", false);
        if (op != null) {
            b.add("op", op);
        }
        return b.add("error", message).build();
    }

    static JsonObject noRegistry(String op) {
        return error(op, "the program registry is not running, so nothing can be trusted or listed; "
                + "`flexwall status` shows what it waits for");
    }

    static Path fullPath(String path) {
        Path p;
        try {
            p = Path.of(path);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("'" + path + "' is not a path: " + e.getReason());
        }
        if (!p.isAbsolute()) {
            throw new IllegalArgumentException("give the full path of the program, such as /usr/sbin/sshd, not '"
                    + path + "'");
        }
        return p.normalize();
    }

    static String text(JsonObject o, String key) {
        JsonValue v = o.get(key);
        if (v == null || v == JsonValue.NULL) {
            return null;
        }
        if (v instanceof JsonString s) {
            return s.getString();
        }
        throw new IllegalArgumentException("\"" + key + "\" must be a string");
    }

    static String requiredText(JsonObject o, String key) {
        String s = text(o, key);
        if (s == null || s.isBlank()) {
            throw new IllegalArgumentException("the " + text(o, "op") + " request needs \"" + key + "\"");
        }
        return s;
    }

    static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    static JsonValue nullable(String s) {
        return s == null ? JsonValue.NULL : JsonSupport.json().createValue(s);
    }

    static void audit(Logger log, String message) {
        if (log != null) {
            log.audit(message);
        }
    }

    static void warn(Logger log, String message) {
        if (log != null) {
            log.warn(message);
        }
    }
}
