package org.flexwall.administration.console;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiPredicate;
import java.util.function.Consumer;

/**
 * Checks the console's Basic credentials. Every checked password costs one PBKDF2 run, for an unknown user name too
 * (against a hash no password matches), so the time of an answer does not tell which names exist; how many checks
 * run, and for whom, is the {@link LoginThrottle}'s to say.
 */
final class ConsoleLogin {
    private static final int VERIFIED_CACHE_LIMIT = 32;

    /** The outcome for one request: the user when logged in; else, when throttled, how long to wait. */
    record Attempt(String user, LoginThrottle.Refusal throttled) {
        static final Attempt REFUSED = new Attempt(null, null);
    }

    private final String username;
    private final PasswordHash hash; // null: the console refuses everyone
    private final PasswordHash dummy;
    private final LoginThrottle throttle;
    private final BiPredicate<PasswordHash, char[]> verifier;
    private final Consumer<String> warn;
    // PBKDF2 is slow on purpose and Basic auth repeats on every request: remember digests of headers already verified.
    private final Set<String> verified = ConcurrentHashMap.newKeySet();

    ConsoleLogin(String username, PasswordHash hash, LoginThrottle throttle, BiPredicate<PasswordHash, char[]> verifier,
            Consumer<String> warn) {
        this.username = username;
        this.hash = hash;
        this.dummy = dummyLike(hash);
        this.throttle = throttle;
        this.verifier = verifier;
        this.warn = warn;
    }

    /** The hash an unknown user name is checked against: the same cost as the real one, matched by no password. */
    PasswordHash dummy() {
        return dummy;
    }

    Attempt attempt(String authorization, String client) throws InterruptedException {
        if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return Attempt.REFUSED;
        }
        String digest = Base64.getEncoder().encodeToString(PasswordHash.sha256(authorization));
        if (verified.contains(digest)) {
            return new Attempt(username, null);
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            decoded = "";
        }
        int colon = decoded.indexOf(':');
        String user = decoded.substring(0, Math.max(colon, 0));
        char[] password = decoded.substring(colon + 1).toCharArray();
        LoginThrottle.Refusal refusal = throttle.admit(client);
        if (refusal != null) {
            throttle.holdBack();
            return new Attempt(null, refusal);
        }
        boolean[] right = new boolean[1];
        // A browser sends one page's requests in parallel with the same header: the first check serves them all.
        if (!throttle.oneAtATime(() -> right[0] = verified.contains(digest) || verify(user, password))) {
            return new Attempt(null, new LoginThrottle.Refusal(1, "the console is busy checking other logins"));
        }
        if (!right[0]) {
            throttle.failed(client);
            String tried = user.replaceAll("\\p{Cntrl}", "?");
            warn.accept("refused a console login for user '" + (tried.length() > 64 ? tried.substring(0, 64) : tried)
                    + "' from " + client);
            return Attempt.REFUSED;
        }
        throttle.succeeded(client);
        if (verified.size() >= VERIFIED_CACHE_LIMIT) {
            verified.clear();
        }
        verified.add(digest);
        return new Attempt(username, null);
    }

    void forgetVerified() {
        verified.clear();
    }

    private boolean verify(String user, char[] password) {
        boolean known = hash != null && user.equals(username);
        boolean matches = verifier.test(known ? hash : dummy, password);
        return known && matches;
    }

    private static PasswordHash dummyLike(PasswordHash hash) {
        SecureRandom random = new SecureRandom();
        byte[] salt = new byte[16];
        byte[] never = new byte[32];
        random.nextBytes(salt);
        random.nextBytes(never);
        return new PasswordHash(hash == null ? PasswordHash.DEFAULT_ITERATIONS : hash.iterations(), salt, never);
    }
}
