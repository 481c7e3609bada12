package org.flexwall.administration.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class ConsoleLoginTest {
    private static final PasswordHash REAL = PasswordHash.of("right-password".toCharArray());

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final LoginThrottle throttle = new LoginThrottle(clock::get, 0);
    private final List<PasswordHash> checkedAgainst = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();
    private final ConsoleLogin login = new ConsoleLogin("admin", REAL, throttle, (hash, password) -> {
        checkedAgainst.add(hash);
        return hash.matches(password);
    }, warnings::add);

    @Test
    void unknownUserNameCostsOnePbkdf2RunAgainstTheDummyHashLikeAdmin() throws Exception {
        assertNull(login.attempt(basic("root", "guess"), "10.0.0.1").user());
        assertNull(login.attempt(basic("admin", "guess"), "10.0.0.2").user());

        assertEquals(List.of(login.dummy(), REAL), checkedAgainst);
        assertEquals(REAL.iterations(), login.dummy().iterations(), "the dummy costs what the real hash costs");
        assertTrue(!login.dummy().matches("guess".toCharArray()) && !login.dummy().matches("".toCharArray()));
    }

    @Test
    void rightPasswordLogsInAndIsCheckedOnlyOnce() throws Exception {
        String header = basic("admin", "right-password");
        assertEquals("admin", login.attempt(header, "10.0.0.1").user());
        assertEquals("admin", login.attempt(header, "10.0.0.1").user());
        assertEquals(1, checkedAgainst.size());
    }

    @Test
    void afterFiveWrongPasswordsAClientIsLockedOutWithoutAnyCheckEvenForTheRightPassword() throws Exception {
        for (int i = 0; i < LoginThrottle.FREE_FAILURES; i++) {
            ConsoleLogin.Attempt a = login.attempt(basic("admin", "wrong" + i), "10.0.0.1");
            assertSame(ConsoleLogin.Attempt.REFUSED, a, "attempt " + i);
        }
        clock.addAndGet(TimeUnit.SECONDS.toNanos(3)); // the overall budget refills; the client has no lockout yet
        assertSame(ConsoleLogin.Attempt.REFUSED, login.attempt(basic("admin", "wrong"), "10.0.0.1"));
        int checks = checkedAgainst.size();

        ConsoleLogin.Attempt locked = login.attempt(basic("admin", "right-password"), "10.0.0.1");

        assertNotNull(locked.throttled());
        assertEquals(1, locked.throttled().retryAfterSeconds());
        assertEquals(checks, checkedAgainst.size(), "a locked-out client costs no PBKDF2 run");
        assertEquals("admin", login.attempt(basic("admin", "right-password"), "10.0.0.9").user(),
                "another client is not locked out");
    }

    @Test
    void eachFurtherFailureDoublesTheLockout() throws Exception {
        long[] retryAfter = new long[4];
        for (int i = 0; i < LoginThrottle.FREE_FAILURES + retryAfter.length; i++) {
            clock.addAndGet(TimeUnit.MINUTES.toNanos(6)); // past any lockout, and the budget is full again
            login.attempt(basic("admin", "wrong"), "10.0.0.1");
            if (i >= LoginThrottle.FREE_FAILURES) {
                retryAfter[i - LoginThrottle.FREE_FAILURES] =
                        login.attempt(basic("admin", "wrong"), "10.0.0.1").throttled().retryAfterSeconds();
            }
        }
        assertEquals("[1, 2, 4, 8]", java.util.Arrays.toString(retryAfter));
    }

    @Test
    void aClientWhoseLockoutEndedGetsOneCheckNotOnePerConnectionItHoldsOpen() throws Exception {
        for (int i = 0; i <= LoginThrottle.FREE_FAILURES; i++) {
            login.attempt(basic("admin", "wrong"), "10.0.0.1");
        }
        clock.addAndGet(TimeUnit.MINUTES.toNanos(6)); // the lockout is over and the budget full again
        // Eight guesses in flight at once: the first is admitted; until its check ends, the others wait as if it failed.
        assertNull(throttle.admit("10.0.0.1"), "the first attempt after the lockout is checked");
        for (int i = 0; i < 7; i++) {
            LoginThrottle.Refusal r = throttle.admit("10.0.0.1");
            assertNotNull(r, "attempt " + (i + 2) + " sent while the first one is being checked");
            assertEquals(2, r.retryAfterSeconds());
        }
        throttle.succeeded("10.0.0.1");
        assertNull(throttle.admit("10.0.0.1"), "the right password ends the lockout");
    }

    @Test
    void manyClientsTogetherGetOnlyTheOverallBudgetOfChecks() throws Exception {
        int throttled = 0;
        for (int i = 0; i < 40; i++) {
            ConsoleLogin.Attempt a = login.attempt(basic("admin", "wrong"), "10.0.1." + i);
            throttled += a.throttled() == null ? 0 : 1;
        }
        assertEquals(LoginThrottle.BUCKET, checkedAgainst.size());
        assertEquals(40 - LoginThrottle.BUCKET, throttled);

        clock.addAndGet(TimeUnit.SECONDS.toNanos(LoginThrottle.REFILL_SECONDS));
        login.attempt(basic("admin", "wrong"), "10.0.2.1");
        assertEquals(LoginThrottle.BUCKET + 1, checkedAgainst.size(), "one more check per refill period");
    }

    @Test
    void requestsWithoutCredentialsAreNeitherCheckedNorCounted() throws Exception {
        for (int i = 0; i < 20; i++) {
            assertSame(ConsoleLogin.Attempt.REFUSED, login.attempt(null, "10.0.0.1"));
        }
        assertEquals(0, checkedAgainst.size());
        assertEquals(0, throttle.failures("10.0.0.1"));
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }
}
