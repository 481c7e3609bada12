package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

import org.flexwall.testing.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.flexwall.testing.Commands.Result;

import jakarta.json.JsonObject;

/**
 * Turning the firewall on and off the documented ways: {@code flexwall baseline} before the JVM runs,
 * {@code flexwall disable} / {@code enable} while it runs, and {@code disable} after it died. Everything happens in
 * the test JVM's own network namespace.
 */
class FirewallSwitchSystemTest {
    @TempDir
    Path work;

    @BeforeEach
    void onlyInTheTestNamespace() {
        OutsideNetwork.require();
    }

    @AfterEach
    void removeWhatIsLeft() throws Exception {
        flexwall(work.resolve("data"), "disable");
    }

    @Test
    void beforeTheFirstStartBaselineLoadsTheClosedBuiltInTableWithNothingKeptOpen() throws Exception {
        Result r = flexwall(work, "baseline"); // a data directory the appliance never wrote a baseline into

        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("the built-in one"), r.output());
        String table = OutsideNetwork.here("nft", "list", "table", "inet", "flexwall").output();
        assertTrue(table.contains("policy drop"), table);
        assertFalse(table.contains("anti-lockout"), "at boot nobody's SSH session is there to keep: " + table);
        assertFalse(table.contains("accept comment \"from the LAN\""), "nothing forwarded: " + table);
    }

    @Test
    void disableStopsTheHooksAndRemovesTheirKernelRulesAndEnableBringsThemBack() throws Exception {
        Path data = work.resolve("data");
        try (ApplianceProcess appliance = ApplianceProcess.startFresh(work)) {
            appliance.awaitConsole(30);
            awaitTrue(() -> tablePresent() && queueChainPresent(), "the hooks did not install their rules");

            Result disabled = flexwall(data, "disable");

            assertEquals(0, disabled.exitCode(), disabled.output());
            assertFalse(tablePresent(), "table inet flexwall is still there");
            assertFalse(queueChainPresent(), "the NFQUEUE chain is still there");
            JsonObject status = json(flexwall(data, "status", "--json"));
            assertTrue(status.getJsonArray("packetHooks").isEmpty(), "no hook may run to put the rules back: " + status);
            assertFalse(status.getBoolean("healthy"), status.toString());

            assertEquals(0, flexwall(data, "enable").exitCode());
            awaitTrue(() -> tablePresent() && queueChainPresent(), "enable did not bring the rules back");
        }
    }

    @Test
    void killedApplianceLeavesItsTableClosedAndDisableRemovesItWithoutTheJvm() throws Exception {
        Path data = work.resolve("data");
        try (ApplianceProcess appliance = ApplianceProcess.startFresh(work)) {
            appliance.awaitConsole(30);
            awaitTrue(this::tablePresent, "the nftables hook did not install its table");
            appliance.process.destroyForcibly().waitFor(); // SIGKILL: no deactivation runs

            assertTrue(tablePresent(), "the table must outlive the JVM (fail closed)");
            Result disabled = flexwall(data, "disable");

            assertEquals(0, disabled.exitCode(), disabled.output());
            assertTrue(disabled.output().contains("flexwall is not running; removing the rules it left"),
                    disabled.output());
            assertFalse(tablePresent());
            assertFalse(queueChainPresent());
        }
    }

    private boolean tablePresent() throws IOException {
        return OutsideNetwork.here("nft", "list", "table", "inet", "flexwall").ok();
    }

    private static boolean queueChainPresent() throws IOException {
        return OutsideNetwork.here("iptables-nft", "-t", "mangle", "-S", "FLEXWALL-QUEUE").ok();
    }

    private static Result flexwall(Path data, String... args) throws IOException {
        return ApplianceImage.flexwall(data, args);
    }

    private static JsonObject json(Result r) {
        return ApplianceImage.json(r);
    }

    private static void awaitTrue(Check check, String what) throws Exception {
        Await.until(what, Duration.ofSeconds(20), check::holds);
    }

    interface Check {
        boolean holds() throws Exception;
    }
}
