package org.flexwall.hook.pcap;

/** At most {@code perSecond} events a second with bursts of {@code burst}. One thread only. */
final class TokenBucket {
    private final double perNano;
    private final double burst;
    private double tokens;
    private long last;

    TokenBucket(int perSecond, int burst) {
        this.perNano = perSecond / 1e9;
        this.burst = burst;
        this.tokens = burst;
        this.last = System.nanoTime();
    }

    /** Takes one token at monotonic time {@code now} (nanoseconds); false when none is left. */
    boolean take(long now) {
        tokens = Math.min(burst, tokens + (now - last) * perNano);
        last = now;
        if (tokens < 1) {
            return false;
        }
        tokens--;
        return true;
    }
}
