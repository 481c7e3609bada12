package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import jakarta.json.JsonObject;

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
    @TempDir
    Path work;
    private ApplianceLab lab;
    private UntrustedTargets untrusted;

    @BeforeEach
    void startLab() throws Exception {
        assumeTrue(OutsideNetwork.available(), "needs root inside the test network namespace (run through Maven)");
        lab = ApplianceLab.start(work, JsonObject.EMPTY_JSON_OBJECT);
        untrusted = new UntrustedTargets();
    }

    @AfterEach
    void stopLab() throws Exception {
        if (untrusted != null) {
            untrusted.close();
        }
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void killingTheJvmUnderTrafficKeepsTheSessionAndTheFirewallClosedAndARestartRebuildsThePorts() throws Exception {
        Path capture = work.resolve("kill.pcap");
        Process session;
        try (Capture c = Capture.start(capture)) {
            List<Process> flood = UntrustedTargets.flood(lab.outside);
            session = lab.startSession();
            Thread.sleep(3000);

            lab.killAppliance();
            Thread.sleep(5000); // traffic goes on against the kernel's baseline alone
            String whileDead = lab.probe(2);
            lab.startAppliance("second");
            lab.awaitTrustedPortPermitted(); // rebuilt from the live socket: nobody trusted anything again
            String afterRestart = lab.probe(2);
            stopAll(flood);

            assertTrue(whileDead.endsWith(" failed 0"), "new connections while flexwall was dead: " + whileDead);
            assertTrue(afterRestart.endsWith(" failed 0"), "new connections after the restart: " + afterRestart);
        }
        System.out.println("session across kill -9 and restart: " + lab.endSession(session));
        untrusted.assertNothingGotIn(capture, 3000);
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

            String mode = "firstPacket";
            for (int swap = 0; swap < 100; swap++) {
                switch (swap % 5) {
                    case 0 -> stopAndStart(console, "org.flexwall.hook-nftables");
                    case 1 -> stopAndStart(console, "org.flexwall.hook-nfqueue");
                    case 2 -> console.bundleAction("org.flexwall.hook-nftables", "update");
                    case 3 -> console.bundleAction("org.flexwall.hook-nfqueue", "update");
                    default -> { // every packet through Java, and back
                        mode = mode.equals("firstPacket") ? "userspace" : "firstPacket";
                        console.configure("org.flexwall.hook.nfqueue", Map.of("mode", mode));
                    }
                }
                awaitBothHooksActive(swap, mode);
            }
            stopAll(List.of(prober));
            stopAll(flood);
        }
        System.out.printf("100 hook swaps through the Web Console in %.1f s%n", (System.nanoTime() - started) / 1e9);

        System.out.println("session across the swaps: " + lab.endSession(session));
        String probed = Files.readString(work.resolve("prober.out")).strip();
        System.out.println("new connections during the swaps: " + probed.lines().reduce((a, b) -> b).orElse(""));
        assertTrue(probed.matches("(?s).*ok [1-9][0-9]* failed 0"), "new connections failed:\n" + probed);
        untrusted.assertNothingGotIn(capture, 10000);
    }

    private static void stopAndStart(WebConsole console, String bundle) throws Exception {
        console.bundleAction(bundle, "stop");
        assertEquals("Resolved", console.bundle(bundle).getString("state"), bundle + " did not stop");
        console.bundleAction(bundle, "start");
    }

    /** flexwall reports itself healthy, both hooks active again and the NFQUEUE hook in {@code mode}. */
    private void awaitBothHooksActive(int swap, String mode) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        JsonObject status = null;
        while (System.nanoTime() < end) {
            status = lab.flexwall("status");
            List<String> hooks = status.getJsonArray("packetHooks").stream()
                    .map(h -> h.asJsonObject().getString("status")).toList();
            if (status.getBoolean("healthy") && hooks.size() == 2
                    && hooks.stream().noneMatch(h -> h.startsWith("not active"))
                    && hooks.stream().anyMatch(h -> h.startsWith("active: " + mode + ","))) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("not healthy 30 s after swap " + swap + ": " + status + "\n" + lab.appliance().output());
    }

    private static void stopAll(List<Process> processes) throws InterruptedException {
        for (Process p : processes) {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
