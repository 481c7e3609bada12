package org.flexwall.hook.nfqueue;

import java.util.function.BiConsumer;

/** Logs one kind of recurring trouble at most once per interval, with how often it happened in between. */
final class RateLimitedLog {
    private final BiConsumer<String, Throwable> sink;
    private final long intervalNanos;
    private long last;
    private boolean logged;
    private long suppressed;

    RateLimitedLog(BiConsumer<String, Throwable> sink, long intervalMillis) {
        this.sink = sink;
        this.intervalNanos = intervalMillis * 1_000_000L;
    }

    /** Logs {@code message} now, or counts it when a message was logged less than an interval ago. */
    void log(String message, Throwable t) {
        long now = System.nanoTime();
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
