package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A login flood against the Web Console of the appliance started from its image: forty real loopback addresses
 * (127.0.0.0/8) at once, judged by the answers against the overall budget of password checks. The budget refills with
 * time, so this class runs alone on the machine (see itests/pom.xml).
 */
class ConsoleLoginFloodSystemTest {
    private static final String BUNDLES = "/system/console/bundles";

    @TempDir
    Path work;

    @Test
    void fortyAddressesGuessingAtOnceGetOnlyTheOverallBudgetOfPasswordChecks() throws Exception {
        try (ApplianceProcess appliance = ApplianceProcess.startFresh(work)) {
            appliance.awaitConsole(60);
            ExecutorService clients = Executors.newFixedThreadPool(40);
            try {
                List<Future<Integer>> answers = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    RawHttp client = new RawHttp("127.0.1." + (i + 1), appliance.port);
                    answers.add(clients.submit(() -> client.send("GET", BUNDLES,
                            Map.of("Authorization", RawHttp.basic("admin", "guess")), null).status()));
                }
                List<Integer> statuses = new ArrayList<>();
                for (Future<Integer> a : answers) {
                    statuses.add(a.get());
                }
                long checked = statuses.stream().filter(s -> s == 401).count();
                long throttled = statuses.stream().filter(s -> s == 429).count();
                // a bucket of 10 checks that refills one every 2 s: 40 attempts at once get about 10 checks
                assertTrue(checked <= 14, "checked " + checked + " of 40: " + statuses);
                assertEquals(40, checked + throttled, statuses.toString());
            } finally {
                clients.shutdownNow();
            }
        }
    }
}
