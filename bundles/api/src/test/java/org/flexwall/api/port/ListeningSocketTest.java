package org.flexwall.api.port;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The facts a consumer reads off a socket's address, and its text for operators, without any name lookup. */
class ListeningSocketTest {

    static ListeningSocket socket(AddressFamily family, byte[] address) throws UnknownHostException {
        return new ListeningSocket(Protocol.TCP, family, InetAddress.getByAddress(address), 22, 1, false, List.of());
    }

    static ListeningSocket socket(String literal) throws UnknownHostException {
        InetAddress a = InetAddress.getByName(literal); // a literal: parsed, never looked up
        return socket(literal.contains(":") ? AddressFamily.IPV6 : AddressFamily.IPV4, a.getAddress());
    }

    static byte[] mapped(int a, int b, int c, int d) {
        return new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) a, (byte) b, (byte) c,
                (byte) d };
    }

    @Test
    void ipv6AddressesAreWrittenInTheirShortestCanonicalForm() throws Exception {
        assertEquals("::", socket("::").addressText());
        assertEquals("::1", socket("::1").addressText());
        assertEquals("fe80::1", socket("fe80::1").addressText());
        assertEquals("2001:db8::1:0:0:1", socket("2001:db8:0:0:1:0:0:1").addressText());
        assertEquals("2001:db8:0:1:1:1:1:1", socket("2001:db8:0:1:1:1:1:1").addressText(), "a single zero word stays");
        assertEquals("1::", socket("1::").addressText());
        assertEquals("::ffff:10.1.2.3", socket(AddressFamily.IPV6, mapped(10, 1, 2, 3)).addressText());
        assertEquals("192.168.0.254", socket("192.168.0.254").addressText());
    }

    @Test
    void loopbackAddressesOfEveryKindAreLoopback() throws Exception {
        for (String a : new String[] { "127.0.0.1", "127.1.2.3", "::1", "0:0:0:0:0:0:0:1" }) {
            assertTrue(socket(a).isLoopback(), a);
        }
        assertTrue(socket(AddressFamily.IPV6, mapped(127, 0, 0, 1)).isLoopback(), "::ffff:127.0.0.1");
    }

    @Test
    void wildcardAndOtherAddressesAreNotLoopback() throws Exception {
        for (String a : new String[] { "0.0.0.0", "::", "1::", "10.0.0.1", "fe80::1" }) {
            assertFalse(socket(a).isLoopback(), a);
        }
        assertFalse(socket(AddressFamily.IPV6, mapped(10, 0, 0, 1)).isLoopback(), "::ffff:10.0.0.1");
    }

    @Test
    void onlyTheUnspecifiedAddressesAreWildcards() throws Exception {
        assertTrue(socket("0.0.0.0").isWildcard());
        assertTrue(socket("::").isWildcard());
        for (String a : new String[] { "127.0.0.1", "::1", "10.0.0.1", "2001:db8::" }) {
            assertFalse(socket(a).isWildcard(), a);
        }
    }

    @Test
    void anIpv4SocketCannotHaveAnIpv6Address() {
        assertThrows(IllegalArgumentException.class, () -> socket(AddressFamily.IPV4, new byte[16]));
    }
}
