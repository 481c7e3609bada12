package org.flexwall.api.port;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** A key's equality and hash, written out by hand, mean what a record's would: every field, nothing else. */
class PortKeyTest {

    @Test
    void keysAreEqualExactlyWhenProtocolFamilyAndPortAre() {
        Set<PortKey> all = new HashSet<>();
        for (Protocol p : Protocol.values()) {
            for (AddressFamily f : AddressFamily.values()) {
                for (int port : new int[] { 1, 22, 443, 65535 }) {
                    PortKey k = new PortKey(p, f, port);
                    assertEquals(k, new PortKey(p, f, port));
                    assertEquals(k.hashCode(), new PortKey(p, f, port).hashCode());
                    all.add(k);
                }
            }
        }
        assertEquals(Protocol.values().length * AddressFamily.values().length * 4, all.size(), "no two alike");
        assertEquals(all.size(), all.stream().mapToInt(PortKey::hashCode).distinct().count(), "nor two hashes");
        assertNotEquals(new PortKey(Protocol.TCP, AddressFamily.IPV4, 22), "TCP/IPV4/22");
    }
}
