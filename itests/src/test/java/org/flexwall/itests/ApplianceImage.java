package org.flexwall.itests;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import org.flexwall.testing.Commands;

/** The appliance image built by appliance-image, and helpers to run it with a test's own data and settings. */
final class ApplianceImage {
    static final Path HOME = Path.of(System.getProperty("flexwall.image", "../appliance-image/target/flexwall"))
            .toAbsolutePath().normalize();

    private ApplianceImage() {}

    static List<Path> bundles() {
        try (Stream<Path> s = Files.list(HOME.resolve("bundles"))) {
            return s.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("build the image first: mvn install (" + HOME + ")", e);
        }
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A data directory as an operator makes one (`install -d -m 700`): the launcher refuses one others can reach. */
    static Path dataDirectory(Path dir) throws IOException {
        return Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    /**
     * A copy of the shipped runtime-config in {@code dir} with the console on {@code port} and, when given, a console
     * password hash: everything else exactly as shipped.
     */
    static Path runtimeConfig(Path dir, int port, String passwordHash) throws IOException {
        return runtimeConfig(dir, port, passwordHash, JsonValue.EMPTY_JSON_OBJECT);
    }

    /** The same, with {@code overrides} (configuration PID to properties) merged over the shipped properties. */
    static Path runtimeConfig(Path dir, int port, String passwordHash, JsonObject overrides) throws IOException {
        Files.createDirectories(dir);
        JsonObject shipped;
        try (var r = Files.newBufferedReader(HOME.resolve("runtime-config/flexwall.json"))) {
            shipped = Json.createReader(r).readObject();
        }
        var http = Json.createObjectBuilder(shipped.getJsonObject("org.apache.felix.http"))
                .add("org.osgi.service.http.port:Integer", port);
        var console = Json.createObjectBuilder(shipped.getJsonObject("org.flexwall.administration.console"));
        if (passwordHash != null) {
            console.add("password.hash", passwordHash);
        }
        var adjusted = Json.createObjectBuilder(shipped)
                .add("org.apache.felix.http", http)
                .add("org.flexwall.administration.console", console);
        overrides.forEach((pid, properties) -> {
            var merged = Json.createObjectBuilder(shipped.containsKey(pid) ? shipped.getJsonObject(pid)
                    : JsonValue.EMPTY_JSON_OBJECT);
            properties.asJsonObject().forEach(merged::add);
            adjusted.add(pid, merged);
        });
        Files.writeString(dir.resolve("flexwall.json"), adjusted.build().toString(), StandardCharsets.UTF_8);
        return dir;
    }

    /** Runs bin/flexwall as an operator would, for the appliance whose data directory is {@code data}. */
    static Commands.Result flexwall(Path data, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(HOME.resolve("bin/flexwall").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("FLEXWALL_DATA", data.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("flexwall " + String.join(" ", args) + " did not finish in 60 s: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: flexwall " + String.join(" ", args), e);
        }
        return new Commands.Result(command, p.exitValue(), out);
    }

    /** {@code flexwall ARGS --json} for the appliance whose data directory is {@code data}: its JSON answer. */
    static JsonObject flexwallJson(Path data, String... args) throws IOException {
        List<String> withJson = new ArrayList<>(List.of(args));
        withJson.add("--json");
        return json(flexwall(data, withJson.toArray(String[]::new)));
    }

    /** The JSON answer in a command's output (the line a --json command prints). */
    static JsonObject json(Commands.Result r) {
        String line = r.output().lines().filter(l -> l.startsWith("{")).findFirst()
                .orElseThrow(() -> new AssertionError("no JSON answer from " + r.command() + ": " + r.output()));
        return Json.createReader(new StringReader(line)).readObject();
    }
}
