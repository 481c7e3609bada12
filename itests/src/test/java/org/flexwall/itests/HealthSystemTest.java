package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import java.util.concurrent.atomic.AtomicReference;
import org.flexwall.testing.Await;
import org.flexwall.testing.Commands;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jakarta.json.Json;
import jakarta.json.JsonObject;

/**
 * {@code flexwall status} runs the Felix health checks against the real kernel: the appliance started from its image
 * in the test's network namespace, its table replaced there with nft behind its back.
 */
class HealthSystemTest {
    @TempDir
    Path work;

    @Test
    void aTableOfFlexwallsNameThatIsNotItsBaselineMakesStatusFailNamingTheBaselineAndRecoversWhenRestored()
            throws Exception {
        Path data = ApplianceImage.dataDirectory(work.resolve("data"));
        int port = ApplianceImage.freePort();
        Path config = ApplianceImage.runtimeConfig(work.resolve("config"), port, null, Json.createObjectBuilder()
                .add("org.flexwall.hook.nftables", Json.createObjectBuilder().add("managementInterface", "lo")).build());
        try (ApplianceProcess appliance = ApplianceProcess.start(work, port, List.of(), "--data", data.toString(),
                "--config", config.toString())) {
            OperatorCliSystemTest.awaitLine(appliance, "flexwall ready");
            Commands.Result healthy = ApplianceImage.flexwall(data, "status");

            // what flexwall's hook does not see: its table still there by name, but accepting everything
            nft("delete table inet flexwall\nadd table inet flexwall\n"
                    + "add chain inet flexwall input { type filter hook input priority filter; policy accept; }\n");
            Commands.Result replaced = ApplianceImage.flexwall(data, "status");
            JsonObject json = ApplianceImage.flexwallJson(data, "status");
            JsonObject baseline = json.getJsonArray("checks").getValuesAs(JsonObject.class).stream()
                    .filter(c -> c.getString("name").equals("flexwall baseline table")).findFirst().orElseThrow();

            assertAll(
                    () -> assertEquals(0, healthy.exitCode(), healthy.output()),
                    () -> assertTrue(healthy.output().contains("baseline table") && healthy.output()
                            .contains("OK: table inet flexwall is in the kernel"), healthy.output()),
                    () -> assertEquals(1, replaced.exitCode(), replaced.output()),
                    () -> assertTrue(replaced.output().contains("NOT fully working"), replaced.output()),
                    () -> assertTrue(replaced.output().contains("CRITICAL: table inet flexwall is in the kernel but "
                            + "is not flexwall's baseline"), replaced.output()),
                    () -> assertEquals("CRITICAL", baseline.getString("status"), json.toString()),
                    () -> assertTrue(!json.getBoolean("healthy"), json.toString()));

            // the operator puts the baseline back: the next start of the hook re-applies it, and the check passes
            nft("delete table inet flexwall\n");
            OperatorCliSystemTest.awaitLine(appliance, "applying the baseline again");
            AtomicReference<Commands.Result> again = new AtomicReference<>();
            Await.until("flexwall status exiting with 0", Duration.ofSeconds(60), () -> {
                again.set(ApplianceImage.flexwall(data, "status"));
                return again.get().exitCode() == 0;
            }, () -> again.get().output());
            OperatorCliSystemTest.awaitLine(appliance, "flexwall protects again");
        }
    }

    private static void nft(String ruleset) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("nft", "-f", "-").redirectErrorStream(true).start();
        p.getOutputStream().write(ruleset.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
    }
}
