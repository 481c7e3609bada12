package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.flexwall.testing.Await;
import org.flexwall.testing.Commands;

/**
 * A lab for packet-path system tests: the appliance started from its image in the test JVM's namespace (management
 * on loopback only, so nothing on wan0 is open by default), one trusted program (a copy of socat) serving echo on
 * {@link #TRUSTED}, untrusted listeners on ports nothing may reach ({@link UntrustedTargets}), and the outside
 * namespace across the wire. Closing it stops everything and removes the table.
 */
final class ApplianceLab implements AutoCloseable {
    static final int TRUSTED = 7000;
    static final String APPLIANCE = OutsideNetwork.APPLIANCE_V4;

    final Path work;
    final Path data;
    final OutsideNetwork outside;
    final UntrustedTargets untrusted = new UntrustedTargets();
    private final Path config;
    private final int consolePort;
    private ApplianceProcess appliance;

    private ApplianceLab(Path work, Path data, Path config, int consolePort, OutsideNetwork outside)
            throws IOException {
        this.work = work;
        this.data = data;
        this.config = config;
        this.consolePort = consolePort;
        this.outside = outside;
    }

    /** Starts the lab; {@code settings} (configuration PID to properties) go over the shipped configuration. */
    static ApplianceLab start(Path work, JsonObject settings) throws Exception {
        Path data = ApplianceImage.dataDirectory(work.resolve("data"));
        var overrides = Json.createObjectBuilder(settings);
        var nftables = Json.createObjectBuilder(settings.containsKey("org.flexwall.hook.nftables")
                ? settings.getJsonObject("org.flexwall.hook.nftables") : JsonObject.EMPTY_JSON_OBJECT);
        if (!nftables.build().containsKey("managementInterface")) {
            nftables = Json.createObjectBuilder(settings.containsKey("org.flexwall.hook.nftables")
                    ? settings.getJsonObject("org.flexwall.hook.nftables") : JsonObject.EMPTY_JSON_OBJECT)
                    .add("managementInterface", "lo"); // management on loopback: nothing open on wan0
        }
        overrides.add("org.flexwall.hook.nftables", nftables);
        int consolePort = ApplianceImage.freePort();
        Path config = ApplianceImage.runtimeConfig(work.resolve("config"), consolePort, null, overrides.build());
        ApplianceLab lab = new ApplianceLab(work, data, config, consolePort, OutsideNetwork.create());
        try {
            lab.startAppliance("first");
            Path server = Files.copy(Path.of("/usr/bin/socat"), Files.createDirectory(work.resolve("bin")).resolve("server"));
            JsonObject answer = lab.flexwall("trust", server.toString(), "server");
            assertTrue(answer.getBoolean("ok"), answer.toString());
            lab.outside.startHere(server.toString(), "TCP6-LISTEN:" + TRUSTED + ",ipv6only=0,reuseaddr,fork",
                    "EXEC:/bin/cat");
            lab.awaitTrustedPortPermitted();
            return lab;
        } catch (Exception | Error e) {
            lab.close();
            throw e;
        }
    }

    ApplianceProcess appliance() {
        return appliance;
    }

    /** Starts the appliance again on the same data and configuration, its output under {@code name}. */
    void startAppliance(String name) throws Exception {
        appliance = ApplianceProcess.start(Files.createDirectories(work.resolve(name)), consolePort, List.of(),
                "--data", data.toString(), "--config", config.toString());
        appliance.awaitConsole(30);
    }

    /** SIGKILL to the appliance's JVM: nothing of it gets to run. */
    void killAppliance() throws Exception {
        appliance.process.destroyForcibly().waitFor();
        appliance.close();
    }

    WebConsole console() throws IOException {
        return new WebConsole(consolePort, Files.readString(data.resolve("console-initial-password")).strip());
    }

    void awaitTrustedPortPermitted() throws Exception {
        Await.until("port " + TRUSTED + " permitted", Duration.ofSeconds(20),
                () -> flexwall("ports").getJsonArray("permitted").stream()
                        .anyMatch(p -> p.asJsonObject().getInt("port") == TRUSTED),
                appliance::output);
    }

    /** The operator's command {@code flexwall ARGS --json}. */
    JsonObject flexwall(String... args) throws IOException {
        return ApplianceImage.flexwallJson(data, args);
    }

    /** The status line of the packet hook called {@code name} (nftables, nfqueue). */
    String hookStatus(String name) throws IOException {
        return flexwall("status").getJsonArray("packetHooks").stream().map(h -> h.asJsonObject())
                .filter(h -> h.getString("name").equals(name)).map(h -> h.getString("status")).findFirst()
                .orElseThrow(() -> new AssertionError("no packet hook " + name));
    }

    /** New connections to the trusted port from the outside for {@code seconds}: "ok N failed M" and the failures. */
    String probe(double seconds) throws IOException {
        String out = outside.outside("python3", traffic("prober.py"), APPLIANCE, String.valueOf(TRUSTED),
                String.valueOf(seconds)).output();
        assertTrue(out.contains("ok "), out);
        return out.strip();
    }

    /** A long TCP session from the outside to the trusted echo server, until {@link #endSession}. */
    Process startSession() throws IOException {
        return outside.startOutside(work.resolve("session.out"), "python3", traffic("session.py"), APPLIANCE,
                String.valueOf(TRUSTED), "3600");
    }

    /** Ends the session and checks that it never broke; returns its report. */
    String endSession(Process session) throws Exception {
        return endSession(session, work.resolve("session.out"));
    }

    /** Waits until the session has exchanged 10 more messages: it flows, not merely lives. */
    void awaitSessionFlows(String when) throws Exception {
        Path output = work.resolve("session.out");
        long before = sessionExchanged(output);
        Await.until("the session flowing " + when, Duration.ofSeconds(20),
                () -> sessionExchanged(output) >= before + 10, () -> sessionReport(output));
    }

    /** Ends a session (traffic/session.py) writing to {@code output} and checks that it never broke; its report. */
    static String endSession(Process session, Path output) throws Exception {
        session.destroy(); // SIGTERM: the session reports and ends
        assertTrue(session.waitFor(20, TimeUnit.SECONDS), "the session did not end");
        String report = sessionReport(output);
        assertTrue(report.startsWith("exchanged "), report);
        assertEquals(0, session.exitValue(), report);
        return report;
    }

    /** How many messages the session writing to {@code output} has exchanged so far (0 before its first report). */
    static long sessionExchanged(Path output) throws IOException {
        Matcher m = Pattern.compile("^exchanged (\\d+) ").matcher(sessionReport(output));
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    /** A session's latest line: "exchanged N max_round_trip_ms M" or "broken after N: REASON"; "" before the first. */
    static String sessionReport(Path output) throws IOException {
        List<String> lines = Files.exists(output) ? Files.readAllLines(output) : List.of();
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1).strip();
    }

    /** Waits until something listens on {@code port} ({@code protocol} "tcp" or "udp") in the namespace {@code ns}. */
    static void awaitListening(String ns, String protocol, int port) {
        String sockets = protocol.equals("udp") ? "-Hlun" : "-Hltn"; // -H: no header, so any line is a socket
        Await.until(protocol + " port " + port + " listening in " + ns,
                () -> !Commands.run(ns, null, "ss", sockets, "sport", "=", ":" + port).check().output().isBlank());
    }

    /** A traffic script of the test resources, as a file. */
    String traffic(String script) throws IOException {
        return Programs.resource(work, "traffic/" + script).toString();
    }

    @Override
    public void close() throws Exception {
        untrusted.close();
        outside.close();
        if (appliance != null) {
            appliance.close();
        }
        ApplianceImage.flexwall(data, "disable");
    }
}
