package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Password guessing from one client against the Web Console of the appliance started from its image: real HTTP from
 * real loopback addresses (127.0.0.0/8), judged by the answers (status, Retry-After), not by time. Mostly waiting (each
 * refused attempt is answered after a moment, so after the first few the guesses go over eight connections at once),
 * and it runs beside other classes; the login flood from many addresses,
 * which is judged against a budget that refills with time, runs alone ({@link ConsoleLoginFloodSystemTest}).
 */
class ConsoleLoginGuessingSystemTest {
    private static final String BUNDLES = "/system/console/bundles";
    private static final int GUESSES = 200;
    private static final int FIRST_IN_TURN = 6;
    private static final int CONNECTIONS = 8;

    @TempDir
    Path work;

    @Test
    void twoHundredWrongPasswordsFromOneClientAreMetWithBackOffAndTheRightOneWaitsToo() throws Exception {
        try (ApplianceProcess appliance = ApplianceProcess.startFresh(work)) {
            appliance.awaitConsole(60);
            String password = Files.readString(work.resolve("data/console-initial-password")).strip();
            RawHttp guesser = new RawHttp("127.0.0.1", appliance.port);

            List<RawHttp.Response> answers = new ArrayList<>();
            for (int i = 0; i < FIRST_IN_TURN; i++) { // in turn: which attempt is checked depends on the order
                answers.add(guesser.send("GET", BUNDLES, Map.of("Authorization", RawHttp.basic("admin", "guess-" + i)),
                        null));
            }
            // the rest over several connections at once, as a client that does not wait for its answers would
            ExecutorService connections = Executors.newFixedThreadPool(CONNECTIONS);
            try {
                List<Future<RawHttp.Response>> rest = new ArrayList<>();
                for (int i = FIRST_IN_TURN; i < GUESSES; i++) {
                    String guess = "guess-" + i;
                    rest.add(connections.submit(() -> guesser.send("GET", BUNDLES,
                            Map.of("Authorization", RawHttp.basic("admin", guess)), null)));
                }
                for (Future<RawHttp.Response> f : rest) {
                    answers.add(f.get(120, TimeUnit.SECONDS));
                }
            } finally {
                connections.shutdownNow();
            }
            List<Integer> statuses = answers.stream().map(RawHttp.Response::status).toList();
            List<String> retryAfter = answers.stream().filter(r -> r.status() == 429)
                    .map(r -> r.header("Retry-After")).toList();
            RawHttp.Response rightButLockedOut = guesser.send("GET", BUNDLES,
                    Map.of("Authorization", RawHttp.basic("admin", password)), null);
            RawHttp.Response operatorElsewhere = new RawHttp("127.0.0.2", appliance.port).send("GET", BUNDLES,
                    Map.of("Authorization", RawHttp.basic("admin", password)), null);

            assertEquals(List.of(401, 401, 401, 401, 401, 401), statuses.subList(0, 6), "five free, the sixth checked");
            long checked = statuses.stream().filter(s -> s == 401).count();
            long throttled = statuses.stream().filter(s -> s == 429).count();
            // each lockout doubles (1 s, 2 s, 4 s …): only a run of many minutes gets more than a few more checks
            assertTrue(checked <= 16, "wrong passwords checked: " + checked + " " + statuses);
            assertEquals(GUESSES, checked + throttled, statuses.toString());
            assertTrue(retryAfter.stream().allMatch(v -> v != null && Long.parseLong(v) >= 1), retryAfter.toString());
            assertEquals(429, rightButLockedOut.status(), "a locked-out address cannot try the right one either");
            assertEquals(200, operatorElsewhere.status(), "another address is not locked out");
        }
    }
}
