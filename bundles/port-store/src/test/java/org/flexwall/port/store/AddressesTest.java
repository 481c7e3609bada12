package org.flexwall.port.store;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AddressesTest {
    @Test
    void loopbackAddressesInEverySpellingAreLoopback() {
        for (String a : new String[] { "127.0.0.1", "127.1.2.3", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1" }) {
            assertTrue(Addresses.isLoopback(a), a);
        }
    }

    @Test
    void wildcardAndOtherAddressesAreNotLoopback() {
        for (String a : new String[] { "0.0.0.0", "::", "1::", "10.0.0.1", "fe80::1%eth0", "::ffff:10.0.0.1",
                "localhost", "" }) {
            assertFalse(Addresses.isLoopback(a), a);
        }
    }
}
