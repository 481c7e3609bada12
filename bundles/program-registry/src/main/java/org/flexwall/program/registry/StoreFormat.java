package org.flexwall.program.registry;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.flexwall.api.program.TrustedProgram;
import org.flexwall.program.registry.ProgramStore.Snapshot;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonReaderFactory;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.json.stream.JsonGenerator;
import jakarta.json.stream.JsonGeneratorFactory;

/**
 * The bytes of {@code programs.json}: {@code {"sha256":"<64 hex>","store":{...}}} and a newline, where the checksum
 * is the SHA-256 of the exact bytes of the {@code store} value. Any truncation or changed bit is therefore detected,
 * independent of how a JSON library would re-format the content. The store object holds {@code format},
 * {@code version}, {@code generation} (one more at every commit), {@code written} and the {@code programs}.
 */
final class StoreFormat {
    static final String FORMAT = "flexwall-programs";
    /** Version 2 added the optional user, uid and unit of a program; version 1 stores are read as they are. */
    static final int VERSION = 2;
    private static final int OLDEST_READ = 1;
    private static final byte[] HEAD = "{\"sha256\":\"".getBytes(US_ASCII);
    private static final byte[] MIDDLE = "\",\"store\":".getBytes(US_ASCII);
    private static final byte[] TAIL = "}\n".getBytes(US_ASCII);
    private static final int BODY_START = HEAD.length + 64 + MIDDLE.length;
    private static final JsonGeneratorFactory WRITER = Json.createGeneratorFactory(
            Map.of(JsonGenerator.PRETTY_PRINTING, true));
    private static final JsonReaderFactory READER = Json.createReaderFactory(Map.of());

    /** The bytes are not a store this code wrote; the message says how, in words for the operator. */
    static final class DamagedException extends Exception {
        private static final long serialVersionUID = 1L;

        DamagedException(String message) {
            super(message);
        }
    }

    private StoreFormat() {}

    static byte[] encode(Snapshot snapshot) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        try (JsonGenerator g = WRITER.createGenerator(body, UTF_8)) {
            g.writeStartObject()
                    .write("format", FORMAT)
                    .write("version", VERSION)
                    .write("generation", snapshot.generation())
                    .write("written", snapshot.written().toString())
                    .writeStartArray("programs");
            for (StoredProgram stored : snapshot.programs()) {
                TrustedProgram p = stored.program();
                g.writeStartObject()
                        .write("name", p.name())
                        .write("path", p.path().toString())
                        .write("realPath", stored.realPath().toString())
                        .write("sha256", p.sha256())
                        .write("md5", p.md5())
                        .write("approvedAt", p.approvedAt().toString())
                        .write("interpreter", p.interpreter());
                if (p.user() != null) {
                    g.write("user", p.user()).write("uid", p.uid());
                }
                if (p.unit() != null) {
                    g.write("unit", p.unit());
                }
                g.writeEnd();
            }
            g.writeEnd().writeEnd();
        }
        byte[] store = body.toByteArray();
        ByteArrayOutputStream out = new ByteArrayOutputStream(BODY_START + store.length + TAIL.length);
        out.writeBytes(HEAD);
        out.writeBytes(ExecutableHasher.sha256(store).getBytes(US_ASCII));
        out.writeBytes(MIDDLE);
        out.writeBytes(store);
        out.writeBytes(TAIL);
        return out.toByteArray();
    }

    static Snapshot decode(byte[] bytes) throws DamagedException {
        if (bytes.length == 0) {
            throw new DamagedException("it is empty (0 bytes)");
        }
        if (!regionEquals(bytes, 0, HEAD, Math.min(HEAD.length, bytes.length))) {
            throw new DamagedException("it does not begin the way flexwall writes its store (damaged, or not a "
                    + "flexwall program store)");
        }
        if (bytes.length < BODY_START + TAIL.length + 2 || !regionEquals(bytes, bytes.length - TAIL.length, TAIL,
                TAIL.length)) {
            throw new DamagedException("it is incomplete: it ends after " + bytes.length + " bytes without the closing "
                    + "bytes flexwall writes (cut short, or damaged at its end)");
        }
        String checksum = new String(bytes, HEAD.length, 64, US_ASCII);
        if (!checksum.matches("[0-9a-f]{64}") || !regionEquals(bytes, HEAD.length + 64, MIDDLE, MIDDLE.length)) {
            throw new DamagedException("its checksum header is damaged");
        }
        byte[] store = Arrays.copyOfRange(bytes, BODY_START, bytes.length - TAIL.length);
        if (!ExecutableHasher.sha256(store).equals(checksum)) {
            throw new DamagedException("its content does not match its SHA-256 checksum (it was damaged, or edited by "
                    + "hand, after flexwall wrote it)");
        }
        JsonObject o;
        try (JsonReader reader = READER.createReader(new ByteArrayInputStream(store))) {
            o = reader.readObject();
        } catch (JsonException | IllegalStateException e) {
            throw new DamagedException("its content is not valid JSON (" + e.getMessage() + ")");
        }
        try {
            return snapshot(o);
        } catch (RuntimeException e) { // missing keys, wrong types, bad values: all say the content is not ours
            throw new DamagedException("its content is not a valid program list (" + e.getMessage() + ")");
        }
    }

    private static Snapshot snapshot(JsonObject o) throws DamagedException {
        if (!FORMAT.equals(text(o, "format"))) {
            throw new DamagedException("it is not a flexwall program store (format '" + text(o, "format") + "')");
        }
        int version = number(o, "version").intValueExact();
        if (version < OLDEST_READ || version > VERSION) {
            throw new DamagedException("it is store version " + version + ", written by "
                    + (version > VERSION ? "a newer" : "another") + " flexwall; this one reads versions " + OLDEST_READ + " to "
                    + VERSION + " only. Run the flexwall that wrote it, or restore a store written by this one");
        }
        long generation = number(o, "generation").longValueExact();
        if (generation < 1) {
            throw new DamagedException("its generation " + generation + " is not positive");
        }
        Instant written = Instant.parse(text(o, "written"));
        JsonArray rows = o.getJsonArray("programs");
        if (rows == null) {
            throw new DamagedException("it has no program list");
        }
        List<StoredProgram> programs = new ArrayList<>(rows.size());
        Set<Path> paths = new HashSet<>();
        for (JsonValue row : rows) {
            JsonObject p = row.asJsonObject();
            boolean restricted = p.containsKey("user");
            TrustedProgram program = new TrustedProgram(text(p, "name"), Path.of(text(p, "path")),
                    text(p, "sha256"), text(p, "md5"), Instant.parse(text(p, "approvedAt")), bool(p, "interpreter"),
                    restricted ? text(p, "user") : null,
                    restricted ? number(p, "uid").intValueExact() : TrustedProgram.ANY_UID,
                    p.containsKey("unit") ? text(p, "unit") : null);
            if (!paths.add(program.path().normalize())) {
                throw new DamagedException("it lists " + program.path() + " twice");
            }
            programs.add(new StoredProgram(program, Path.of(text(p, "realPath"))));
        }
        return new Snapshot(generation, written, programs);
    }

    private static String text(JsonObject o, String key) {
        JsonValue v = o.get(key);
        if (!(v instanceof JsonString s)) {
            throw new IllegalArgumentException("'" + key + "' must be a string");
        }
        return s.getString();
    }

    private static JsonNumber number(JsonObject o, String key) {
        JsonValue v = o.get(key);
        if (!(v instanceof JsonNumber n)) {
            throw new IllegalArgumentException("'" + key + "' must be a number");
        }
        return n;
    }

    private static boolean bool(JsonObject o, String key) {
        JsonValue v = o.get(key);
        if (v == JsonValue.TRUE || v == JsonValue.FALSE) {
            return v == JsonValue.TRUE;
        }
        throw new IllegalArgumentException("'" + key + "' must be true or false");
    }

    private static boolean regionEquals(byte[] bytes, int offset, byte[] expected, int length) {
        return Arrays.equals(bytes, offset, offset + length, expected, 0, length);
    }
}
