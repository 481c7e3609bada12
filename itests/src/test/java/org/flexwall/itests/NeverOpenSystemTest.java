package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.json.Json;
import jakarta.json.JsonObject;

import org.flexwall.testing.Await;
import org.flexwall.testing.Commands;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A permission lives on the verified socket (issue "Never open", finding 1): with flexwall's JVM killed, or with only
 * its nftables hook stopped, the kernel's permitted set is frozen, yet a program that takes over a port a trusted one
 * had is never reached, and the port answers nothing (no RST, no ICMP) once its listener is gone. The trusted
 * listener still running and an established session go on. Probed from the outside namespace every 10 ms (a new
 * connection attempt each time, {@code syn_prober.py}), with tcpdump on the appliance's side of the wire.
 */
class NeverOpenSystemTest {
    private static final int TAKEN_OVER = 5400;
    @TempDir
    Path work;
    private ApplianceLab lab;

    @BeforeEach
    void needsTheNetwork() {
        OutsideNetwork.require();
    }

    private void startLab(JsonObject settings) throws Exception {
        lab = ApplianceLab.start(work, settings);
    }

    @AfterEach
    void stopLab() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void withTheJvmKilledAProgramThatTakesOverATrustedPortIsNeverReached() throws Exception {
        startLab(JsonObject.EMPTY_JSON_OBJECT);
        takeOverWhile("the JVM killed with -9", lab::killAppliance);
        // back up: the appliance sees the intruder's socket, untrusted, and still lets nothing reach it
        lab.startAppliance("second");
        lab.awaitTrustedPortPermitted();
        assertEquals("answered 0 refused 0", probe(TAKEN_OVER, 3).replaceAll(" silent \\d+$", ""));
    }

    @Test
    void withOnlyTheNftablesHookStoppedAProgramThatTakesOverATrustedPortIsNeverReached() throws Exception {
        startLab(JsonObject.EMPTY_JSON_OBJECT);
        WebConsole console = lab.console();
        takeOverWhile("the nftables hook stopped", () -> {
            console.bundleAction("org.flexwall.hook-nftables", "stop");
            assertEquals("Resolved", console.bundle("org.flexwall.hook-nftables").getString("state"));
        });
    }

    @Test
    void aBaselineThatCannotBeInstalledIsNeverReadyAndWhatIsQueuedStillDropsUnderAFlood() throws Exception {
        startLab(Json.createObjectBuilder().add("org.flexwall.hook.nftables", Json.createObjectBuilder()
                .add("nftBinary", "/nonexistent/nft")).build());
        Commands.Result status = ApplianceImage.flexwall(lab.data, "status");
        assertTrue(status.exitCode() != 0, "flexwall status with no firewall table: " + status.output());
        assertTrue(status.output().contains("NOT on"), status.output());
        String log = lab.appliance().output();
        assertTrue(log.contains("ERROR") && log.contains("THE FIREWALL IS NOT ON"), log);
        assertFalse(log.contains("flexwall ready"), log);
        assertEquals("answered 0 refused 0", floodAndProbe(UntrustedTargets.TCP).replaceAll(" silent \\d+$", ""),
                "an untrusted listener under a SYN flood, with only the queue rules installed");
    }

    @Test
    void antiLockoutNeverOpensAnotherUsersListenerOnTheConsolePortUnderAFlood() throws Exception {
        // the shipped anti-lockout: no management interface; the console on loopback (as shipped)
        startLab(Json.createObjectBuilder().add("org.flexwall.hook.nftables", Json.createObjectBuilder()
                .add("managementInterface", "")).build());
        // python3, not socat: the lab trusts a copy of socat, and trust is "these bytes", whoever runs them
        Process intruder = new ProcessBuilder("runuser", "-u", "nobody", "--", "python3", "-c", "import socket\n"
                + "s = socket.create_server(('" + ApplianceLab.APPLIANCE + "', 8080))\n"
                + "while True:\n"
                + "    c = s.accept()[0]\n"
                + "    c.sendall(b'intruder')\n"
                + "    c.close()\n").redirectErrorStream(true).start();
        lab.outside.track(intruder);
        awaitListening(8080);
        assertEquals("answered 0 refused 0", floodAndProbe(8080).replaceAll(" silent \\d+$", ""),
                "an unprivileged listener on tcp 8080 of the outside address, under a SYN flood");
    }

    /** A SYN flood from random sources at {@code port} while the prober tries a connection every 10 ms for 3 s. */
    private String floodAndProbe(int port) throws Exception {
        Process flood = lab.outside.startOutside("hping3", "-q", "-S", "--flood", "--rand-source", "-p",
                String.valueOf(port), ApplianceLab.APPLIANCE);
        try {
            Thread.sleep(500); // pacing, not synchronisation: the flood at full rate first
            return probe(port, 3);
        } finally {
            flood.destroy();
            flood.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /**
     * A trusted listener on {@value #TAKEN_OVER} is permitted; {@code outage} stops flexwall's part; the listener exits
     * and an untrusted copy (one byte more) listens on the same port. Nothing answers the probes after the exit.
     */
    private void takeOverWhile(String what, Outage outage) throws Exception {
        Path server = work.resolve("bin/server"); // the lab's trusted program
        Process trusted = lab.outside.startHere(server.toString(), "TCP6-LISTEN:" + TAKEN_OVER
                + ",ipv6only=0,reuseaddr,fork", "SYSTEM:echo trusted");
        awaitPermitted(TAKEN_OVER);
        String before = probe(TAKEN_OVER, 1);
        assertTrue(before.matches("answered [1-9].*"), "the trusted listener answers before the outage: " + before);
        Process session = lab.startSession();
        lab.awaitSessionFlows("before " + what);

        Path capture = work.resolve("takeover.pcap");
        Path probes = work.resolve("probes.out");
        try (Capture c = Capture.start(capture)) {
            outage.run();
            lab.awaitSessionFlows("with " + what);

            Process prober = lab.outside.startOutside(probes, "python3", lab.traffic("syn_prober.py"),
                    ApplianceLab.APPLIANCE, String.valueOf(TAKEN_OVER));
            trusted.descendants().forEach(ProcessHandle::destroyForcibly);
            trusted.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            awaitNotListening(TAKEN_OVER);
            Thread.sleep(1000); // pacing: probes against a permitted port whose listener is gone
            Path intruder = Programs.otherBytes(server, work.resolve("bin/intruder"));
            lab.outside.startHere(intruder.toString(), "TCP6-LISTEN:" + TAKEN_OVER + ",ipv6only=0,reuseaddr,fork",
                    "SYSTEM:echo intruder");
            awaitListening(TAKEN_OVER);
            Thread.sleep(2000); // pacing: probes against the intruder

            String trustedStillServes = lab.probe(1);
            lab.awaitSessionFlows("after the takeover with " + what);
            prober.destroy();
            assertTrue(prober.waitFor(20, TimeUnit.SECONDS));
            assertTrue(trustedStillServes.endsWith(" failed 0"), "the trusted listener still running, with " + what
                    + ": " + trustedStillServes);
        }
        String report = Files.readString(probes).strip();
        String last = report.lines().reduce((a, b) -> b).orElse("");
        Matcher m = Pattern.compile("answered (\\d+) refused (\\d+) silent (\\d+)").matcher(last);
        assertTrue(m.matches(), report);
        assertEquals("0", m.group(1), "answered with " + what + ":\n" + report);
        assertEquals("0", m.group(2), "refused (RST) with " + what + ":\n" + report);
        assertTrue(Integer.parseInt(m.group(3)) >= 150, "probed every 10 ms for 3 s: " + last);
        List<String> answers = Capture.read(capture, "src", "host", ApplianceLab.APPLIANCE, "and", "(icmp", "or",
                "(tcp", "src", "port", String.valueOf(TAKEN_OVER), "and", "tcp[tcpflags]", "&", "(tcp-rst|tcp-syn)",
                "!=", "0))");
        assertEquals(List.of(), answers, "what the appliance sent from port " + TAKEN_OVER + " with " + what);
        System.out.println("take-over of tcp " + TAKEN_OVER + " with " + what + ": " + last);
        lab.endSession(session);
    }

    /** One connection attempt every 10 ms for {@code seconds}: "answered N refused M silent K". */
    private String probe(int port, double seconds) throws Exception {
        Path out = Files.createTempFile(work, "probe", ".out");
        Process p = lab.outside.startOutside(out, "python3", lab.traffic("syn_prober.py"), ApplianceLab.APPLIANCE,
                String.valueOf(port));
        Thread.sleep((long) (seconds * 1000)); // the probing window, not synchronisation
        p.destroy();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        return Files.readString(out).lines().reduce((a, b) -> b).orElse("").strip();
    }

    private void awaitPermitted(int port) throws Exception {
        await(() -> lab.flexwall("ports").getJsonArray("permitted").stream()
                .anyMatch(p -> p.asJsonObject().getInt("port") == port), "port " + port + " permitted");
    }

    private static void awaitListening(int port) throws Exception {
        await(() -> listening(port), "something listening on " + port);
    }

    private static void awaitNotListening(int port) throws Exception {
        await(() -> !listening(port), "nothing listening on " + port);
    }

    private static boolean listening(int port) throws Exception {
        return !OutsideNetwork.here("ss", "-Hltn", "sport = :" + port).output().isBlank();
    }

    private interface Outage {
        void run() throws Exception;
    }

    private static void await(Callable<Boolean> c, String what) {
        Await.until(what, Duration.ofSeconds(20), c);
    }
}
