package org.flexwall.hook.support;

import java.util.function.BiConsumer;
import java.util.function.LongSupplier;

/**
 * Logs one kind of recurring trouble (on a packet path: once per packet) at most once per interval, with how often it
 * happened in between. Any thread.
 */
public final class RateLimitedLog {
    private final BiConsumer<String, Throwable> sink;
    private final long intervalNanos;
    private final LongSupplier clock;
    private long last;
    private boolean logged;
    private long suppressed;

    public RateLimitedLog(BiConsumer<String, Throwable> sink, long intervalMillis) {
        this(sink, intervalMillis, System::nanoTime);
    }

    /** With {@code clock} for the monotonic time in nanoseconds (tests). */
    RateLimitedLog(BiConsumer<String, Throwable> sink, long intervalMillis, LongSupplier clock) {
        this.sink = sink;
        this.intervalNanos = intervalMillis * 1_000_000L;
        this.clock = clock;
    }

    /** Logs {@code message} now, or counts it when a message was logged less than an interval ago. */
    public synchronized void log(String message, Throwable t) {
        long now = clock.getAsLong();
        if (logged && now - last < intervalNanos) {
            suppressed++;
            return;
        }
        String more = suppressed > 0 ? " (" + suppressed + " more since the last report)" : "";
        sink.accept(message + more, t);
        logged = true;
        last = now;
        suppressed = 0;
    }
}
