package org.flexwall.testing;

import java.time.Duration;
import java.util.concurrent.Callable;

import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Waiting for a condition, with Awaitility and the limits this project's tests share: checked every 20 ms, given up
 * after 10 s by default (generous: the machine is shared). A timeout fails the test naming what did not happen.
 */
public final class Await {
    /** How long a condition is waited for unless the test says otherwise. */
    public static final Duration DEFAULT = Duration.ofSeconds(10);

    private Await() {
    }

    /** Awaitility's builder for {@code what}, at most {@code limit}, polling every 20 ms from the start. */
    public static ConditionFactory await(String what, Duration limit) {
        return Awaitility.await(what).atMost(limit).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(20))
                .pollInSameThread();
    }

    /** Waits up to {@link #DEFAULT} until {@code condition} holds; fails with {@code what} otherwise. */
    public static void until(String what, Callable<Boolean> condition) {
        await(what, DEFAULT).until(condition);
    }

    /** Waits up to {@code limit} until {@code condition} holds; fails with {@code what} otherwise. */
    public static void until(String what, Duration limit, Callable<Boolean> condition) {
        await(what, limit).until(condition);
    }

    /**
     * Waits up to {@code limit} until {@code condition} holds; otherwise fails with {@code what} and {@code details}
     * as they are then (the appliance's output, the last status).
     */
    public static void until(String what, Duration limit, Callable<Boolean> condition, Callable<String> details) {
        try {
            await(what, limit).until(condition);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(what + ": not within " + limit.toMillis() + " ms\n" + describe(details), e);
        }
    }

    private static String describe(Callable<String> details) {
        try {
            return details.call();
        } catch (Exception e) {
            return "(no details: " + e + ")";
        }
    }

    /** Waits up to {@code limit} until {@code supplier} gives a non-null value, and returns it. */
    public static <T> T value(String what, Duration limit, Callable<T> supplier) {
        return await(what, limit).until(supplier, v -> v != null);
    }

    /** As {@link #value(String, Duration, Callable)}, failing with {@code details} as they are then. */
    public static <T> T value(String what, Duration limit, Callable<T> supplier, Callable<String> details) {
        try {
            return value(what, limit, supplier);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(what + ": not within " + limit.toMillis() + " ms\n" + describe(details), e);
        }
    }
}
