package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import jakarta.json.JsonObject;

import java.util.concurrent.atomic.AtomicReference;
import org.flexwall.testing.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packet path keeps filtering while flexwall itself is killed or its hooks are swapped (issue "Packet path",
 * hot swap and fail closed): a long TCP session and new connections from the outside to the lab's trusted echo
 * server, and unsolicited SYNs and datagrams all along to untrusted and closed ports ({@link UntrustedTargets}).
 */
class CrashAndHotSwapSystemTest {
    private static final String NFTABLES = "org.flexwall.hook-nftables";
    private static final String NFQUEUE = "org.flexwall.hook-nfqueue";
    @TempDir
    Path work;
    private ApplianceLab lab;

    @BeforeEach
    void startLab() throws Exception {
        OutsideNetwork.require();
        lab = ApplianceLab.start(work, JsonObject.EMPTY_JSON_OBJECT);
    }

    @AfterEach
    void stopLab() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void killingTheJvmUnderTrafficKeepsTheSessionAndTheFirewallClosedAndARestartRebuildsThePorts() throws Exception {
        Path capture = work.resolve("kill.pcap");
        Process session;
        double killedAt;
        double restartedAt;
        try (Capture c = Capture.start(capture)) {
            List<Process> flood = UntrustedTargets.flood(lab.outside);
            session = lab.startSession();
            Thread.sleep(3000); // pacing, not synchronisation: session and flood run against the live appliance

            lab.killAppliance();
            killedAt = now();
            lab.awaitSessionFlows("while flexwall was dead");
            Thread.sleep(5000); // pacing: traffic goes on against the kernel's baseline alone
            String whileDead = lab.probe(2);
            restartedAt = now();
            lab.startAppliance("second");
            lab.awaitTrustedPortPermitted(); // rebuilt from the live socket: nobody trusted anything again
            String afterRestart = lab.probe(2);

            lab.awaitSessionFlows("after the restart");
            stopAll(flood);

            assertTrue(whileDead.endsWith(" failed 0"), "new connections while flexwall was dead: " + whileDead);
            assertTrue(afterRestart.endsWith(" failed 0"), "new connections after the restart: " + afterRestart);
        }
        System.out.println("session across kill -9 and restart: " + lab.endSession(session));
        long sentWhileDead = UntrustedTargets.sentBetween(capture, killedAt, restartedAt);
        assertTrue(sentWhileDead >= 3000, "the flood went on while flexwall was dead: " + sentWhileDead + " packets");
        lab.untrusted.assertNothingGotIn(capture, 3000);
    }

    @Test
    void hooksStoppedUpdatedAndSwappedAHundredTimesThroughTheWebConsoleNeverOpenNorBreakASession() throws Exception {
        WebConsole console = lab.console();
        Path capture = work.resolve("swap.pcap");
        Process session;
        Process prober;
        long started = System.nanoTime();
        try (Capture c = Capture.start(capture)) {
            List<Process> flood = UntrustedTargets.flood(lab.outside);
            session = lab.startSession();
            prober = lab.outside.startOutside(work.resolve("prober.out"), "python3", lab.traffic("prober.py"),
                    ApplianceLab.APPLIANCE, String.valueOf(ApplianceLab.TRUSTED), "3600");

            // each action in both NFQUEUE modes: half the time every packet crosses Java
            String mode = "firstPacket";
            for (int swap = 0; swap < 100; swap++) {
                switch (swap % 10) {
                    case 0 -> stopAndStart(console, NFTABLES);
                    case 1, 7 -> stopAndStart(console, NFQUEUE);
                    case 2 -> reload(console, NFTABLES, "update"); // from its location: the image's jar
                    case 3, 6 -> reload(console, NFQUEUE, "update");
                    case 5 -> reload(console, NFQUEUE, "refresh");
                    case 8 -> reload(console, NFTABLES, "refresh");
                    default -> { // 4 and 9: every packet through Java, and back
                        mode = mode.equals("firstPacket") ? "userspace" : "firstPacket";
                        console.configure("org.flexwall.hook.nfqueue", Map.of("mode", mode));
                    }
                }
                awaitBothHooksActive(swap, mode);
                lab.awaitSessionFlows("after swap " + swap);
            }
            stopAll(List.of(prober));
            stopAll(flood);
        }
        System.out.printf("100 hook swaps through the Web Console in %.1f s%n", (System.nanoTime() - started) / 1e9);

        System.out.println("session across the swaps: " + lab.endSession(session));
        String probed = Files.readString(work.resolve("prober.out")).strip();
        System.out.println("new connections during the swaps: " + probed.lines().reduce((a, b) -> b).orElse(""));
        assertTrue(probed.matches("(?s).*ok [1-9][0-9]* failed 0"), "new connections failed:\n" + probed);
        lab.untrusted.assertNothingGotIn(capture, 10000);
    }

    /** Updates or refreshes a bundle and waits until its new revision has registered its services anew. */
    private static void reload(WebConsole console, String bundle, String action) throws Exception {
        Set<String> before = console.services(bundle);
        assertFalse(before.isEmpty(), bundle + " registers no service");
        console.bundleAction(bundle, action); // an update runs in the background
        AtomicReference<Set<String>> now = new AtomicReference<>(before);
        Await.until(action + " of " + bundle + " (new services)", Duration.ofSeconds(30), () -> {
            now.set(console.services(bundle));
            return !now.get().isEmpty() && Collections.disjoint(before, now.get());
        }, () -> "services " + now.get());
    }

    private static void stopAndStart(WebConsole console, String bundle) throws Exception {
        console.bundleAction(bundle, "stop");
        assertEquals("Resolved", console.bundle(bundle).getString("state"), bundle + " did not stop");
        console.bundleAction(bundle, "start");
    }

    /** flexwall reports itself healthy, both hooks active again and the NFQUEUE hook in {@code mode}. */
    private void awaitBothHooksActive(int swap, String mode) throws Exception {
        AtomicReference<JsonObject> status = new AtomicReference<>();
        Await.until("healthy after swap " + swap, Duration.ofSeconds(30), () -> {
            status.set(lab.flexwall("status"));
            List<String> hooks = status.get().getJsonArray("packetHooks").stream()
                    .map(h -> h.asJsonObject().getString("status")).toList();
            return status.get().getBoolean("healthy") && hooks.size() == 2
                    && hooks.stream().noneMatch(h -> h.startsWith("not active"))
                    && hooks.stream().anyMatch(h -> h.startsWith("active: " + mode + ","));
        }, () -> status.get() + "\n" + lab.appliance().output());
    }

    private static double now() {
        return System.currentTimeMillis() / 1000.0;
    }

    private static void stopAll(List<Process> processes) throws InterruptedException {
        for (Process p : processes) {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
