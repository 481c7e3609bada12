package org.flexwall.administration.console;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * How much password checking the console does for whom. Per client address: {@value #FREE_FAILURES} wrong logins are
 * free, after that each one locks the address out for twice as long as the one before (1 s up to 5 min). Overall: a
 * bucket of {@value #BUCKET} checks that refills one every {@value #REFILL_SECONDS} s, and one PBKDF2 check at a
 * time, so a login flood from many addresses costs at most one core for a moment and then a fraction of one. A
 * refused attempt is answered (429) after a moment, so one that ignores Retry-After cannot make thousands a second.
 */
final class LoginThrottle {
    static final int FREE_FAILURES = 5;
    static final int BUCKET = 10;
    static final int REFILL_SECONDS = 2;
    static final int MAX_WAITING = 8;
    static final int HOLD_BACK_MILLIS = 250;
    static final int MAX_HELD_BACK = 64;
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final long MAX_LOCKOUT = TimeUnit.MINUTES.toNanos(5);
    private static final long FORGET_AFTER = TimeUnit.MINUTES.toNanos(15);
    private static final int MAX_CLIENTS = 4096;

    /** The answer to a login attempt that may not be checked now: wait this many seconds (Retry-After). */
    record Refusal(long retryAfterSeconds, String reason) {}

    private static final class Client {
        int failures;
        long lastFailure;
        long lockedUntil;
    }

    private final LongSupplier nanoTime;
    private final long holdBackMillis;
    private final Map<String, Client> clients = new LinkedHashMap<>(); // oldest failure first
    private final Semaphore checking = new Semaphore(1, true);
    private final Semaphore heldBack = new Semaphore(MAX_HELD_BACK);
    private double tokens = BUCKET;
    private long refilledAt;

    LoginThrottle(LongSupplier nanoTime, long holdBackMillis) {
        this.nanoTime = nanoTime;
        this.holdBackMillis = holdBackMillis;
        this.refilledAt = nanoTime.getAsLong();
    }

    /** Why this client's attempt is not checked now, or null when it may take a check from the overall budget. */
    synchronized Refusal admit(String client) {
        long now = nanoTime.getAsLong();
        Client c = clients.get(client);
        if (c != null && c.lockedUntil - now > 0) {
            return new Refusal(seconds(c.lockedUntil - now), "too many wrong logins from " + client);
        }
        tokens = Math.min(BUCKET, tokens + (double) (now - refilledAt) / (REFILL_SECONDS * SECOND));
        refilledAt = now;
        if (tokens < 1) {
            return new Refusal(seconds((long) ((1 - tokens) * REFILL_SECONDS * SECOND)), "too many logins overall");
        }
        tokens -= 1;
        if (c != null && c.failures >= FREE_FAILURES && now - c.lastFailure <= FORGET_AFTER) {
            // its lockout ended: this one check may fail too, so it waits as if it had, and attempts sent meanwhile
            // over other connections are not checked as well (failed or succeeded settles it)
            c.lockedUntil = now + lockout(c.failures + 1);
        }
        return null;
    }

    /**
     * Runs {@code check} when no other password check runs; false without running it when {@link #MAX_WAITING}
     * others already wait or the turn does not come within 10 s.
     */
    boolean oneAtATime(Runnable check) throws InterruptedException {
        if (checking.getQueueLength() >= MAX_WAITING || !checking.tryAcquire(10, TimeUnit.SECONDS)) {
            return false;
        }
        try {
            check.run();
            return true;
        } finally {
            checking.release();
        }
    }

    /**
     * Keeps a refused attempt's answer back a moment, for up to {@link #MAX_HELD_BACK} at once: a client that ignores
     * Retry-After and asks again at once would otherwise cost the appliance thousands of answers a second.
     */
    void holdBack() throws InterruptedException {
        if (heldBack.tryAcquire()) {
            try {
                Thread.sleep(holdBackMillis);
            } finally {
                heldBack.release();
            }
        }
    }

    synchronized void failed(String client) {
        long now = nanoTime.getAsLong();
        Client c = clients.remove(client);
        if (c == null || now - c.lastFailure > FORGET_AFTER) {
            c = new Client();
        }
        c.failures++;
        c.lastFailure = now;
        if (c.failures > FREE_FAILURES) {
            c.lockedUntil = now + lockout(c.failures);
        }
        clients.put(client, c); // re-inserted: the map stays ordered by last failure
        forgetOld(now);
    }

    synchronized void succeeded(String client) {
        clients.remove(client);
    }

    /** Wrong logins counted for a client now (for tests and diagnostics). */
    synchronized int failures(String client) {
        Client c = clients.get(client);
        return c == null ? 0 : c.failures;
    }

    private void forgetOld(long now) {
        Iterator<Client> oldestFirst = clients.values().iterator();
        while (oldestFirst.hasNext()) {
            Client c = oldestFirst.next();
            if (clients.size() > MAX_CLIENTS || now - c.lastFailure > FORGET_AFTER && c.lockedUntil - now <= 0) {
                oldestFirst.remove();
            } else {
                break;
            }
        }
    }

    /** How long a client stays locked out after its {@code failures}-th wrong login (past the free ones). */
    private static long lockout(int failures) {
        return Math.min(SECOND << Math.min(failures - FREE_FAILURES - 1, 20), MAX_LOCKOUT);
    }

    private static long seconds(long nanos) {
        return Math.max(1, (nanos + SECOND - 1) / SECOND);
    }
}
