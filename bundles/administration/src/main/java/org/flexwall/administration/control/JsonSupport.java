package org.flexwall.administration.control;

import java.io.StringReader;
import java.io.StringWriter;

import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonWriter;
import jakarta.json.spi.JsonProvider;
import jakarta.json.stream.JsonParsingException;

import org.flexwall.json.JsonProviders;

/** JSON for the control channel: the one provider (see {@link JsonProviders}), parsing with a depth limit, lines. */
public final class JsonSupport {
    private JsonSupport() {}

    public static JsonProvider json() {
        return JsonProviders.provider();
    }

    /** Deeper nesting is refused before parsing: the reader builds nested values recursively. */
    static final int MAX_DEPTH = 32;

    /** Parses one JSON object; the message of the exception says what is wrong with the text. */
    public static JsonObject parse(String text) {
        if (depth(text) > MAX_DEPTH) {
            throw new IllegalArgumentException("nested deeper than " + MAX_DEPTH + " levels");
        }
        try (JsonReader r = json().createReader(new StringReader(text))) {
            return r.readObject();
        } catch (JsonParsingException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getMessage(), e);
        } catch (JsonException | IllegalStateException e) {
            throw new IllegalArgumentException("not a JSON object: " + e.getMessage(), e);
        }
    }

    /** How deep arrays and objects nest in JSON text, brackets inside strings not counted. */
    static int depth(String text) {
        int depth = 0;
        int deepest = 0;
        boolean inString = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                deepest = Math.max(deepest, ++depth);
            } else if (c == '}' || c == ']') {
                depth--;
            }
        }
        return deepest;
    }

    /** One line of JSON, without a line break inside. */
    public static String line(JsonObject o) {
        StringWriter w = new StringWriter();
        try (JsonWriter jw = json().createWriter(w)) {
            jw.writeObject(o);
        }
        return w.toString();
    }
}
