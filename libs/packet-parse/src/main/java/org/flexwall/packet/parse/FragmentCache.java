package org.flexwall.packet.parse;

import java.security.SecureRandom;

import org.flexwall.api.packet.PacketView;

/**
 * Remembers the first fragments a stage accepted, so their later fragments (which carry no ports) pass too, and
 * non-first fragments of anything else are dropped. Keyed on (source, destination, protocol, identification),
 * hashed to 64 bits with a per-instance secret; a fixed array, so a flood of fragments only overwrites slots and
 * the later fragments of an overwritten train are dropped (fail closed: the packet never reassembles).
 *
 * <p>Lock-free: racing writers may overwrite each other's slot, which loses a train, never admits one.
 */
public final class FragmentCache {
    private final long[] keys;
    private final long[] deadlines;
    private final int mask;
    private final long lifetimeNanos;
    private final long secret = new SecureRandom().nextLong() | 1;

    /** @param slots a power of two; @param lifetimeNanos how long after the first fragment later ones may come */
    public FragmentCache(int slots, long lifetimeNanos) {
        if (Integer.bitCount(slots) != 1) {
            throw new IllegalArgumentException("fragment cache slots must be a power of two, not " + slots);
        }
        keys = new long[slots];
        deadlines = new long[slots];
        mask = slots - 1;
        this.lifetimeNanos = lifetimeNanos;
    }

    /** Records the first fragment {@code d} of {@code p} as accepted at {@code now}. */
    public void record(PacketView p, long d, long now) {
        long key = key(p, d);
        int slot = (int) (key ^ key >>> 32) & mask;
        keys[slot] = key;
        deadlines[slot] = now + lifetimeNanos;
    }

    /** Whether the non-first fragment {@code d} of {@code p} belongs to a train whose first fragment was accepted. */
    public boolean admits(PacketView p, long d, long now) {
        long key = key(p, d);
        int slot = (int) (key ^ key >>> 32) & mask;
        return keys[slot] == key && now - deadlines[slot] < 0;
    }

    private long key(PacketView p, long d) {
        boolean v6 = Ip.isV6(d);
        long h = secret;
        h = mix(h ^ Ip.sourceHigh(p, 0, v6));
        h = mix(h ^ Ip.sourceLow(p, 0, v6));
        h = mix(h ^ Ip.destinationHigh(p, 0, v6));
        h = mix(h ^ Ip.destinationLow(p, 0, v6));
        int header = Ip.fragmentHeader(d);
        // the protocol as the fragment header names it: identical in every fragment of the train
        long id = v6 ? Ip.u32(p, header + 4) << 8 | p.byteAt(header) : Ip.u16(p, 4) << 8 | p.byteAt(9);
        return mix(h ^ id);
    }

    /** A 64-bit finaliser (from SplitMix64): every input bit reaches every output bit. */
    public static long mix(long x) {
        x = (x ^ x >>> 30) * 0xbf58476d1ce4e5b9L;
        x = (x ^ x >>> 27) * 0x94d049bb133111ebL;
        return x ^ x >>> 31;
    }
}
