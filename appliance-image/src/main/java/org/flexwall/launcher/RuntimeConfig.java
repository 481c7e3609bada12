package org.flexwall.launcher;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import jakarta.json.Json;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.json.stream.JsonParsingException;

/**
 * The Configurator JSON files of runtime-config/, checked before the framework starts so a malformed file stops the
 * launch with one message naming it, instead of a configuration silently missing at run time.
 */
final class RuntimeConfig {
    static final String HTTP_PID = "org.apache.felix.http";
    static final String HOST = "org.apache.felix.http.host";
    static final String PORT = "org.osgi.service.http.port";

    private final List<Path> files;
    private final List<JsonObject> contents;

    private RuntimeConfig(List<Path> files, List<JsonObject> contents) {
        this.files = files;
        this.contents = contents;
    }

    static RuntimeConfig load(Path dir, String setting) throws LaunchException {
        if (!Files.isDirectory(dir)) {
            throw new LaunchException("the configuration directory " + dir + " (" + setting + ") does not exist; "
                    + "point " + setting + " at the runtime-config folder of the appliance image");
        }
        List<Path> files = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().forEach(files::add);
        } catch (IOException e) {
            throw new LaunchException("cannot list the configuration directory " + dir + " (" + setting + "): " + e);
        }
        List<JsonObject> contents = new ArrayList<>();
        for (Path f : files) {
            contents.add(parse(f));
        }
        return new RuntimeConfig(files, contents);
    }

    private static JsonObject parse(Path file) throws LaunchException {
        JsonValue value;
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            value = Json.createReader(r).readValue();
        } catch (JsonParsingException e) {
            var where = e.getLocation();
            throw new LaunchException("configuration file " + file + " is not valid JSON at line "
                    + where.getLineNumber() + ", column " + where.getColumnNumber() + ": " + e.getMessage()
                    + ". Fix it, or restore it from the appliance image");
        } catch (JsonException | IOException e) {
            throw new LaunchException("cannot read configuration file " + file + ": " + e.getMessage()
                    + ". Fix it, or restore it from the appliance image");
        }
        if (!(value instanceof JsonObject object)) {
            throw new LaunchException("configuration file " + file + " must hold one JSON object whose keys are "
                    + "configuration PIDs, but it holds " + value.getValueType());
        }
        for (var entry : object.entrySet()) {
            if (!entry.getKey().startsWith(":configurator:") && entry.getValue().getValueType() != JsonValue.ValueType.OBJECT) {
                throw new LaunchException("configuration file " + file + ": the value of PID \"" + entry.getKey()
                        + "\" must be an object of settings, but it is " + entry.getValue().getValueType());
            }
        }
        return object;
    }

    /** The files as URLs, for the Configurator's configurator.initial property. */
    String initialUrls() {
        return String.join(",", files.stream().map(f -> f.toUri().toString()).toList());
    }

    /** A setting of a PID, from the last file that sets it; keys may carry a ":Type" suffix. */
    String setting(String pid, String key, String fallback) {
        String found = fallback;
        for (JsonObject o : contents) {
            JsonObject settings = o.getJsonObject(pid);
            if (settings == null) {
                continue;
            }
            for (var e : settings.entrySet()) {
                String name = e.getKey().contains(":") ? e.getKey().substring(0, e.getKey().indexOf(':')) : e.getKey();
                if (name.equals(key)) {
                    found = e.getValue() instanceof JsonString s ? s.getString()
                            : e.getValue() instanceof JsonNumber n ? n.toString() : e.getValue().toString();
                }
            }
        }
        return found;
    }

    /** Which file sets a PID, for messages. */
    String whereSet(String pid) {
        for (int i = contents.size() - 1; i >= 0; i--) {
            if (contents.get(i).containsKey(pid)) {
                return files.get(i).toString();
            }
        }
        return "runtime-config (default)";
    }
}
