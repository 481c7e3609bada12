package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import java.util.concurrent.atomic.AtomicReference;
import org.flexwall.testing.Await;
import org.flexwall.testing.Commands;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jakarta.json.Json;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.stream.JsonParsingException;

/**
 * The audit trail of the appliance started from its image: the operator's own command, {@code flexwall trust},
 * {@code untrust} and {@code flexwall audit --json}, and a {@code kill -9} of the appliance's JVM in the middle of a
 * burst of trust changes sent to its control socket.
 */
class AuditTrailSystemTest {
    @TempDir
    Path work;

    @Test
    void trustAndUntrustAreInTheAuditTrailWithTheActorAndBothHashesNewestFirst() throws Exception {
        Path data = ApplianceImage.dataDirectory(work.resolve("data"));
        Path program = Files.copy(Path.of("/usr/bin/socat"), work.resolve("audited-server"));
        String sha256 = sha256(program);
        try (ApplianceProcess appliance = startOn(work, data)) {
            assertTrue(ApplianceImage.flexwallJson(data, "trust", program.toString(), "audited").getBoolean("ok"));
            assertTrue(ApplianceImage.flexwallJson(data, "untrust", program.toString()).getBoolean("ok"));

            JsonObject answer = ApplianceImage.flexwallJson(data, "audit", "audited-server");
            List<JsonObject> entries = answer.getJsonArray("entries").getValuesAs(JsonObject.class);
            Commands.Result text = ApplianceImage.flexwall(data, "audit", "--since", "1h");

            assertAll(
                    () -> assertTrue(answer.getBoolean("ok"), answer.toString()),
                    () -> assertEquals(2, entries.size(), answer.toString()),
                    () -> assertEquals("untrust", entries.get(0).getString("action")),
                    () -> assertEquals(sha256, entries.get(0).getString("oldSha256")),
                    () -> assertTrue(entries.get(0).isNull("newSha256"), entries.get(0).toString()),
                    () -> assertEquals("trust", entries.get(1).getString("action")),
                    () -> assertEquals(sha256, entries.get(1).getString("newSha256")),
                    () -> assertTrue(entries.get(1).isNull("oldSha256"), entries.get(1).toString()),
                    () -> assertEquals("root", entries.get(0).getString("actor")),
                    () -> assertEquals("root", entries.get(1).getString("actor")),
                    () -> assertEquals(program.toString(), entries.get(1).getString("path")),
                    () -> assertEquals(0, text.exitCode(), text.output()),
                    () -> assertTrue(text.output().contains("root trusted 'audited' at " + program + ", SHA-256 "
                            + sha256), text.output()),
                    () -> assertTrue(text.output().indexOf("no longer trusts") < text.output().indexOf("root trusted"),
                            "newest first:\n" + text.output()));
        }
    }

    @Test
    void aPortOpenedForATrustedProgramAndClosedWhenItIsUntrustedIsInTheAuditTrailWithProcessAndReason()
            throws Exception {
        Path data = ApplianceImage.dataDirectory(work.resolve("data"));
        Path program = Files.copy(Path.of("/usr/bin/socat"), work.resolve("port-server"));
        int port = ApplianceImage.freePort();
        try (ApplianceProcess appliance = startOn(work, data)) {
            assertTrue(ApplianceImage.flexwallJson(data, "trust", program.toString(), "port-server").getBoolean("ok"));
            Process server = new ProcessBuilder(program.toString(), "TCP4-LISTEN:" + port + ",reuseaddr,fork",
                    "EXEC:/bin/cat").redirectErrorStream(true).redirectOutput(work.resolve("server.out").toFile())
                    .start();
            try {
                JsonObject opened = awaitEntry(data, "opened tcp port " + port);
                assertTrue(ApplianceImage.flexwallJson(data, "untrust", program.toString()).getBoolean("ok"));
                JsonObject closed = awaitEntry(data, "closed tcp port " + port);
                assertAll(
                        () -> assertEquals("port", opened.getString("type")),
                        () -> assertEquals("ipv4", opened.getString("family")),
                        () -> assertEquals(port, opened.getInt("port")),
                        () -> assertEquals("port-server", opened.getString("program")),
                        () -> assertEquals(server.pid(), opened.getInt("pid")),
                        () -> assertEquals("root", opened.getString("user")),
                        () -> assertEquals(sha256(program), opened.getString("sha256")),
                        () -> assertTrue(opened.getString("why").contains("listens"), opened.toString()),
                        () -> assertTrue(closed.getString("why").contains("no longer trusted"), closed.toString()));
            } finally {
                server.destroyForcibly().waitFor();
            }
        }
    }

    /** The newest audit entry containing {@code text}, once the appliance has recorded one (port changes lag). */
    private static JsonObject awaitEntry(Path data, String text) throws Exception {
        AtomicReference<JsonObject> answer = new AtomicReference<>();
        return Await.value("an audit entry '" + text + "'", Duration.ofSeconds(60), () -> {
            answer.set(ApplianceImage.flexwallJson(data, "audit", text, "--limit", "1"));
            List<JsonObject> entries = answer.get().getJsonArray("entries").getValuesAs(JsonObject.class);
            return entries.isEmpty() ? null : entries.get(0);
        }, () -> String.valueOf(answer.get()));
    }

    @Test
    void aKillDashNineDuringABurstOfTrustChangesLosesNoChangeThatWasAnswered() throws Exception {
        Path data = ApplianceImage.dataDirectory(work.resolve("data"));
        Path program = Files.copy(Path.of("/usr/bin/socat"), work.resolve("burst-server"));
        List<String> answered = new ArrayList<>(); // "trust burst-N" / "untrust burst-N", in the order answered
        try (ApplianceProcess appliance = startOn(work, data)) {
            Path socket = data.resolve("control.sock");
            Thread burst = new Thread(() -> {
                for (int i = 0; !Thread.currentThread().isInterrupted(); i++) {
                    String name = "burst-" + i;
                    try {
                        if (!ok(request(socket, Json.createObjectBuilder().add("op", "trust")
                                .add("path", program.toString()).add("name", name).build()))) {
                            return;
                        }
                        synchronized (answered) {
                            answered.add("trust " + name);
                        }
                        if (!ok(request(socket, Json.createObjectBuilder().add("op", "untrust")
                                .add("path", program.toString()).build()))) {
                            return;
                        }
                        synchronized (answered) {
                            answered.add("untrust " + name);
                        }
                    } catch (IOException | JsonException e) {
                        return; // the appliance died under the request
                    }
                }
            }, "trust-burst");
            burst.start();
            awaitAnswered(answered, 40);
            // kill -9 of the JVM (the launcher's bin/flexwall execs java: the process is the JVM)
            assertEquals(0, new ProcessBuilder("kill", "-9", Long.toString(appliance.process.pid())).start().waitFor());
            assertTrue(appliance.process.waitFor(30, TimeUnit.SECONDS), "the JVM died");
            burst.join(TimeUnit.SECONDS.toMillis(30));
        }
        List<String> before;
        synchronized (answered) {
            before = List.copyOf(answered);
        }

        List<String> recorded = new ArrayList<>();
        for (String line : Files.readAllLines(data.resolve("audit/audit.jsonl"), StandardCharsets.UTF_8)) {
            JsonObject entry;
            try {
                entry = Json.createReader(new StringReader(line)).readObject();
            } catch (JsonParsingException torn) {
                continue; // at most the line being written when the JVM died
            }
            if (entry.getString("type").equals("trust") && entry.getString("program").startsWith("burst-")) {
                recorded.add(entry.getString("action") + " " + entry.getString("program"));
            }
        }
        assertTrue(before.size() >= 40, "the burst ran: " + before.size() + " changes answered");
        assertEquals(before, recorded.subList(0, Math.min(before.size(), recorded.size())),
                "every change answered before the kill is recorded, in order");
        assertTrue(recorded.size() <= before.size() + 1, "at most the change in flight beyond those answered: "
                + recorded.size() + " recorded, " + before.size() + " answered");

        // started again on the same data: the trail reads past whatever the kill cut and is written again
        try (ApplianceProcess again = startOn(Files.createDirectories(work.resolve("again")), data)) {
            Path another = Programs.otherBytes(program, work.resolve("after-the-kill"));
            assertTrue(ApplianceImage.flexwallJson(data, "trust", another.toString(), "after-the-kill").getBoolean("ok"));
            JsonObject audit = ApplianceImage.flexwallJson(data, "audit", "--limit", "2");
            List<JsonObject> newest = audit.getJsonArray("entries").getValuesAs(JsonObject.class);
            assertEquals("after-the-kill", newest.get(0).getString("program"), audit.toString());
            assertEquals(recorded.get(recorded.size() - 1), newest.get(1).getString("action") + " "
                    + newest.get(1).getString("program"), audit.toString());
        }
    }

    /** The appliance on {@code data}, management on loopback, once it says it is ready (the console may come later). */
    private static ApplianceProcess startOn(Path dir, Path data) throws Exception {
        int port = ApplianceImage.freePort();
        Path config = ApplianceImage.runtimeConfig(dir.resolve("config"), port, null, Json.createObjectBuilder()
                .add("org.flexwall.hook.nftables", Json.createObjectBuilder().add("managementInterface", "lo")).build());
        ApplianceProcess appliance = ApplianceProcess.start(dir, port, List.of(), "--data", data.toString(), "--config",
                config.toString());
        OperatorCliSystemTest.awaitLine(appliance, "flexwall ready");
        return appliance;
    }

    private static void awaitAnswered(List<String> answered, int count) {
        Await.until(count + " trust changes answered", Duration.ofSeconds(120), () -> {
            synchronized (answered) {
                return answered.size() >= count;
            }
        }, () -> "only " + answered.size());
    }

    private static boolean ok(JsonObject answer) {
        if (!answer.getBoolean("ok", false) || answer.containsKey("auditProblem")) {
            throw new AssertionError("refused or not recorded: " + answer);
        }
        return true;
    }

    /** One request on the control socket, as bin/flexwall sends it: a JSON line in, a JSON line out. */
    private static JsonObject request(Path socket, JsonObject request) throws IOException {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.UTF_8)));
            String line = new String(Channels.newInputStream(channel).readAllBytes(), StandardCharsets.UTF_8).strip();
            if (line.isEmpty()) {
                throw new IOException("no answer");
            }
            return Json.createReader(new StringReader(line)).readObject();
        }
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
