package org.flexwall.itests;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import jakarta.json.Json;
import jakarta.json.JsonObject;

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

    /**
     * A copy of the shipped runtime-config in {@code dir} with the console on {@code port} and, when given, a console
     * password hash: everything else exactly as shipped.
     */
    static Path runtimeConfig(Path dir, int port, String passwordHash) throws IOException {
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
        JsonObject adjusted = Json.createObjectBuilder(shipped)
                .add("org.apache.felix.http", http)
                .add("org.flexwall.administration.console", console)
                .build();
        Files.writeString(dir.resolve("flexwall.json"), adjusted.toString(), StandardCharsets.UTF_8);
        return dir;
    }
}
