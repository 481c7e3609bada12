package org.flexwall.packet.bypass;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLongArray;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.Protocol;

/**
 * The bypass table (FIG. 8, S805) as one bit per (protocol, family, port): four tables of 1024 longs. The packet path
 * reads a word (a plain load on x86, no lock); there is one writer at a time, the port store's thread.
 */
final class PortBitmap {
    private static final int WORDS = 65536 / 64;
    private final AtomicLongArray bits = new AtomicLongArray(4 * WORDS);

    /** Whether ({@code protocol} number, family, port) is permitted; false for anything but TCP and UDP. */
    boolean contains(int protocol, boolean v6, int port) {
        int table = protocol == 6 ? 0 : protocol == 17 ? 2 : -1;
        if (table < 0) {
            return false;
        }
        return (bits.get((table + (v6 ? 1 : 0)) * WORDS + (port >>> 6)) & 1L << port) != 0;
    }

    boolean contains(Protocol protocol, AddressFamily family, int port) {
        return (bits.get(index(protocol, family) * WORDS + ((port & 0xffff) >>> 6)) & 1L << port) != 0;
    }

    void set(Protocol protocol, AddressFamily family, int port, boolean permitted) {
        int i = index(protocol, family) * WORDS + (port >>> 6);
        long word = bits.get(i);
        bits.set(i, permitted ? word | 1L << port : word & ~(1L << port));
    }

    /** Holds exactly {@code keys} afterwards; a key in both the old and the new table is never clear meanwhile. */
    void replace(Set<PortKey> keys) {
        long[] next = new long[bits.length()];
        for (PortKey k : keys) {
            next[index(k.protocol(), k.family()) * WORDS + (k.port() >>> 6)] |= 1L << k.port();
        }
        for (int i = 0; i < next.length; i++) {
            bits.set(i, next[i]);
        }
    }

    /** The keys set now, for a listener bound later (a scan of the 32 KiB table; never on the packet path). */
    Set<PortKey> keys() {
        Set<PortKey> keys = new HashSet<>();
        for (int i = 0; i < bits.length(); i++) {
            long word = bits.get(i);
            while (word != 0) {
                int bit = Long.numberOfTrailingZeros(word);
                word &= word - 1;
                int table = i / WORDS;
                keys.add(new PortKey(table < 2 ? Protocol.TCP : Protocol.UDP,
                        table % 2 == 0 ? AddressFamily.IPV4 : AddressFamily.IPV6, (i % WORDS) * 64 + bit));
            }
        }
        return keys;
    }

    /** How many keys are set. */
    int size() {
        int n = 0;
        for (int i = 0; i < bits.length(); i++) {
            n += Long.bitCount(bits.get(i));
        }
        return n;
    }

    private static int index(Protocol protocol, AddressFamily family) {
        return (protocol == Protocol.TCP ? 0 : 2) + (family == AddressFamily.IPV6 ? 1 : 0);
    }
}
