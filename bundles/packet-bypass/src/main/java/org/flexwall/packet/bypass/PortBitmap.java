package org.flexwall.packet.bypass;

import java.util.concurrent.atomic.AtomicLongArray;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;

/**
 * The permitted ports as one bit per (protocol, family, port): four tables of 1024 longs. The packet path reads a
 * word (a plain load on x86, no lock); writers are serialised by {@link PermittedPorts}.
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

    void set(Protocol protocol, AddressFamily family, int port, boolean permitted) {
        int i = index(protocol, family) * WORDS + (port >>> 6);
        long word = bits.get(i);
        bits.set(i, permitted ? word | 1L << port : word & ~(1L << port));
    }

    void clear() {
        for (int i = 0; i < bits.length(); i++) {
            bits.set(i, 0);
        }
    }

    private static int index(Protocol protocol, AddressFamily family) {
        return (protocol == Protocol.TCP ? 0 : 2) + (family == AddressFamily.IPV6 ? 1 : 0);
    }
}
