package org.flexwall.icf;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.security.SecureRandom;
import java.util.concurrent.atomic.LongAdder;

/**
 * The ICF's communication table: a fixed number of flow slots in primitive arrays, open addressing with linear
 * probing over at most {@code maxProbe} slots. Nothing is allocated after construction.
 *
 * <p>A flow is keyed on (local address, remote address, family, protocol, local port, remote port), "local" being
 * the side that originated it (the appliance or its LAN). Slots are never emptied again, only reused: an insert
 * takes an empty slot, else an expired one, else the embryonic one closest to expiry. Established flows are never
 * evicted before they expire; when a probe window holds nothing else, the insert fails and the caller refuses the
 * new flow (fail closed).
 *
 * <p>Concurrency without locks: a slot's key is guarded by a per-slot sequence word ({@code ctl}: version and
 * state). A writer claims the slot by CAS, writes the key, then publishes it; a reader compares the key and checks
 * the sequence word did not move meanwhile. Flow state ({@code kind}, deadline, TCP window) is updated with plain
 * writes: racing packets of one flow may lose an update, which can only make a later check stricter.
 */
public final class ConnectionTable {
    // Flow kinds. Embryonic: SYN_SENT, CLOSED, UDP_NEW, ICMP_ECHO. Protected until expiry: the others.
    public static final int SYN_SENT = 1, ESTABLISHED = 2, CLOSING = 3, CLOSED = 4, UDP_NEW = 5, UDP_REPLIED = 6,
            ICMP_ECHO = 7;

    // TCP fields, TCP_STRIDE ints per slot
    static final int O_ISN = 0, O_END = 1, O_MAXWIN = 2, R_ISN = 3, R_END = 4, R_MAXWIN = 5, SCALES = 6;
    /** Non-zero: a flow taken over from the kernel's conntrack, its sequence numbers not seen yet. */
    static final int ADOPTED = 7;
    private static final int TCP_STRIDE = 8, KEY_STRIDE = 5;

    private static final long EMPTY = 0, WRITING = 1, LIVE = 2, STATE = 3;
    private static final VarHandle CTL = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] keys;
    private final long[] ctl;
    private final long[] deadlines;
    private final int[] kinds;
    private final int[] tcp;
    private final int mask;
    private final int maxProbe;
    private final long[] seeds = new SecureRandom().longs(6).toArray(); // so nobody can aim flows at one window
    private final LongAdder evictions = new LongAdder();

    /** @param capacity slots, a power of two; @param maxProbe slots looked at per lookup or insert */
    public ConnectionTable(int capacity, int maxProbe) {
        if (Integer.bitCount(capacity) != 1 || capacity < 16) {
            throw new IllegalArgumentException("connection table capacity must be a power of two >= 16, not "
                    + capacity);
        }
        if (maxProbe < 1 || maxProbe > capacity) {
            throw new IllegalArgumentException("maxProbe must be between 1 and the capacity, not " + maxProbe);
        }
        keys = new long[capacity * KEY_STRIDE];
        ctl = new long[capacity];
        deadlines = new long[capacity];
        kinds = new int[capacity];
        tcp = new int[capacity * TCP_STRIDE];
        mask = capacity - 1;
        this.maxProbe = maxProbe;
    }

    /** The meta word of a key: family, protocol and ports. */
    public static long meta(boolean v6, int protocol, int localPort, int remotePort) {
        return (v6 ? 1L << 40 : 0) | (long) protocol << 32 | (long) localPort << 16 | remotePort;
    }

    /** The slot of the live, unexpired flow with this key, or -1. */
    public int find(long localHigh, long localLow, long remoteHigh, long remoteLow, long meta, long now) {
        int home = hash(localHigh, localLow, remoteHigh, remoteLow, meta);
        for (int i = 0; i < maxProbe; i++) {
            int slot = (home + i) & mask;
            long c = (long) CTL.getAcquire(ctl, slot);
            if ((c & STATE) == EMPTY) {
                return -1; // slots are never emptied, so the chain ends here
            }
            if ((c & STATE) == LIVE && matches(slot, localHigh, localLow, remoteHigh, remoteLow, meta)) {
                VarHandle.loadLoadFence();
                if ((long) CTL.getOpaque(ctl, slot) == c && now - deadlines[slot] < 0) {
                    return slot; // an expired match is skipped: a racing insert may have a fresh one further on
                }
            }
        }
        return -1;
    }

    /**
     * Takes a slot for a new flow of {@code kind} expiring at {@code deadline}, with its TCP fields zeroed.
     * Returns the slot, or -1 when the probe window holds only established, unexpired flows.
     */
    public int insert(long localHigh, long localLow, long remoteHigh, long remoteLow, long meta, int kind,
            long deadline, long now) {
        int home = hash(localHigh, localLow, remoteHigh, remoteLow, meta);
        for (int attempt = 0; attempt < 4; attempt++) {
            int best = -1;
            long bestCtl = 0;
            int bestRank = 3; // 0 empty, 1 expired, 2 embryonic
            for (int i = 0; i < maxProbe && bestRank > 0; i++) {
                int slot = (home + i) & mask;
                long c = (long) CTL.getAcquire(ctl, slot);
                int rank = (c & STATE) == EMPTY ? 0
                        : (c & STATE) != LIVE ? 3
                        : now - deadlines[slot] >= 0 ? 1
                        : isEmbryonic(kinds[slot]) ? 2 : 3;
                if (rank < bestRank || (rank == 2 && bestRank == 2 && deadlines[slot] - deadlines[best] < 0)) {
                    best = slot;
                    bestCtl = c;
                    bestRank = rank;
                }
            }
            if (best < 0) {
                return -1;
            }
            long version = (bestCtl >>> 2) + 1;
            if (!CTL.compareAndSet(ctl, best, bestCtl, version << 2 | WRITING)) {
                continue; // another thread took it; look again
            }
            if (bestRank == 2) {
                evictions.increment();
            }
            int k = best * KEY_STRIDE;
            keys[k] = localHigh;
            keys[k + 1] = localLow;
            keys[k + 2] = remoteHigh;
            keys[k + 3] = remoteLow;
            keys[k + 4] = meta;
            kinds[best] = kind;
            deadlines[best] = deadline;
            java.util.Arrays.fill(tcp, best * TCP_STRIDE, best * TCP_STRIDE + TCP_STRIDE, 0);
            CTL.setRelease(ctl, best, version << 2 | LIVE);
            return best;
        }
        return -1;
    }

    /** Embryonic flows may be evicted before they expire; nobody has answered them yet. */
    public static boolean isEmbryonic(int kind) {
        return kind == SYN_SENT || kind == CLOSED || kind == UDP_NEW || kind == ICMP_ECHO;
    }

    public int kind(int slot) {
        return kinds[slot];
    }

    public void set(int slot, int kind, long deadline) {
        kinds[slot] = kind;
        deadlines[slot] = deadline;
    }

    public void deadline(int slot, long deadline) {
        deadlines[slot] = deadline;
    }

    int tcp(int slot, int field) {
        return tcp[slot * TCP_STRIDE + field];
    }

    void tcp(int slot, int field, int value) {
        tcp[slot * TCP_STRIDE + field] = value;
    }

    /** Embryonic flows evicted so far to make room for new ones. */
    public long evictions() {
        return evictions.sum();
    }

    public int capacity() {
        return mask + 1;
    }

    /** Live, unexpired flows by kind (index = kind); walks the whole table, for status only. */
    public int[] census(long now) {
        int[] counts = new int[8];
        for (int slot = 0; slot <= mask; slot++) {
            if (((long) CTL.getAcquire(ctl, slot) & STATE) == LIVE && now - deadlines[slot] < 0) {
                counts[kinds[slot]]++;
            }
        }
        return counts;
    }

    private boolean matches(int slot, long localHigh, long localLow, long remoteHigh, long remoteLow, long meta) {
        int k = slot * KEY_STRIDE;
        return keys[k + 4] == meta && keys[k + 1] == localLow && keys[k + 3] == remoteLow && keys[k] == localHigh
                && keys[k + 2] == remoteHigh;
    }

    /**
     * A keyed hash of the flow key in two levels of {@link #fold} (wyhash's multiply-fold with secret seeds): the
     * two address pairs fold in parallel, so it costs about two multiplications of latency.
     */
    private int hash(long localHigh, long localLow, long remoteHigh, long remoteLow, long meta) {
        long h = fold(localHigh ^ seeds[0], localLow ^ seeds[1]) ^ fold(remoteHigh ^ seeds[2], remoteLow ^ seeds[3]);
        h = fold(h ^ seeds[4], meta ^ seeds[5]);
        // the last fold leaves a small change of meta (a port) mostly in h's low bits: spread them (Fibonacci hashing)
        return (int) ((h * 0x9E3779B97F4A7C15L) >>> 32) & mask;
    }

    /** The high and low halves of the 128-bit product, xored: every input bit reaches the high half. */
    private static long fold(long a, long b) {
        return Math.multiplyHigh(a, b) ^ a * b;
    }
}
