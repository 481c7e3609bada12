package org.flexwall.itests;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.flexwall.testing.Await;

/** The appliance started from its image as a real process, the way an operator starts it: bin/flexwall run. */
final class ApplianceProcess implements AutoCloseable {
    final Process process;
    final Path output;
    final int port;

    private ApplianceProcess(Process process, Path output, int port) {
        this.process = process;
        this.output = output;
        this.port = port;
    }

    static ApplianceProcess start(Path work, int port, List<String> prefix, String... args) throws IOException {
        // An appliance run as root installs a firewall: only ever inside the test JVM's own network namespace.
        if ("root".equals(System.getProperty("user.name")) && System.getenv("FLEXWALL_IN_TEST_NETNS") == null) {
            throw new IllegalStateException("refusing to start an appliance outside the test network namespace; "
                    + "run the tests through Maven, whose surefire uses itests/netns/bin/java");
        }
        Path output = work.resolve("appliance.out");
        List<String> command = new ArrayList<>(prefix);
        command.add(ApplianceImage.HOME.resolve("bin/flexwall").toString());
        command.add("run");
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
        pb.environment().remove("FLEXWALL_CONSOLE_PASSWORD");
        pb.environment().remove("FLEXWALL_DATA");
        return new ApplianceProcess(pb.start(), output, port);
    }

    /** A fresh install: the shipped configuration with the console on a free port, an empty data directory. */
    static ApplianceProcess startFresh(Path work) throws IOException {
        int port = ApplianceImage.freePort();
        Path config = ApplianceImage.runtimeConfig(work.resolve("config"), port, null);
        Path data = ApplianceImage.dataDirectory(work.resolve("data"));
        return start(work, port, List.of(), "--data", data.toString(), "--config", config.toString());
    }

    /**
     * The shipped configuration with management on loopback (nothing kept open on wan0) and the console on a free port,
     * on {@code data}; returns once the console answers.
     */
    static ApplianceProcess startManagedOnLoopback(Path work, Path data) throws Exception {
        int port = ApplianceImage.freePort();
        JsonObject managementOnLoopback = Json.createObjectBuilder()
                .add("org.flexwall.hook.nftables", Json.createObjectBuilder().add("managementInterface", "lo")).build();
        Path config = ApplianceImage.runtimeConfig(work.resolve("config"), port, null, managementOnLoopback);
        ApplianceProcess appliance = start(work, port, List.of(), "--data", data.toString(), "--config",
                config.toString());
        appliance.awaitConsole(30);
        return appliance;
    }

    /** Runs the appliance expecting it to refuse to start; returns its exit code and output. */
    static Result refused(Path work, List<String> prefix, String... args) throws Exception {
        try (ApplianceProcess p = start(work, 0, prefix, args)) {
            if (!p.process.waitFor(60, TimeUnit.SECONDS)) {
                throw new AssertionError("flexwall kept running although it should have refused to start:\n" + p.output());
            }
            return new Result(p.process.exitValue(), p.output());
        }
    }

    record Result(int exitCode, String output) {}

    String output() throws IOException {
        return Files.readString(output, StandardCharsets.UTF_8);
    }

    /** The console's HTTP status for a page, or -1 while nothing listens. */
    int status(String path, String credentials) {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + path).toURL().openConnection();
            c.setConnectTimeout(1000);
            c.setReadTimeout(5000);
            if (credentials != null) {
                c.setRequestProperty("Authorization", "Basic "
                        + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8)));
            }
            int code = c.getResponseCode();
            c.disconnect();
            return code;
        } catch (IOException e) {
            return -1;
        }
    }

    /** Waits until the console asks for a login (401), failing with the appliance's output after the deadline. */
    void awaitConsole(long deadlineSeconds) throws Exception {
        Await.until("the console asking for a login", Duration.ofSeconds(deadlineSeconds), () -> {
            if (!process.isAlive()) {
                throw new AssertionError("flexwall exited with " + process.exitValue() + ":\n" + output());
            }
            return status("/system/console/bundles", null) == 401;
        }, this::output);
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
        TraceInstances.removeAbandoned(); // an appliance killed with SIGKILL earlier left its instance
    }
}
