package org.flexwall.port.monitor.sockdiag;

import static org.flexwall.port.monitor.sockdiag.Listeners.SOCAT;
import static org.flexwall.port.monitor.sockdiag.Listeners.only;
import static org.flexwall.port.monitor.sockdiag.Listeners.socat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.util.List;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.Protocol;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** sock_diag against real sockets of socat and of this JVM. */
class SocketScannerTest {
    private static SocketScanner scanner;

    @BeforeAll
    static void open() {
        scanner = new SocketScanner();
    }

    @AfterAll
    static void close() {
        scanner.close();
    }

    @Test
    void tcpListenerOnIpv4LoopbackIsListedWithItsAddressAndPort() throws Exception {
        try (Listeners.Listener l = socat(SOCAT, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1")) {
            ListeningSocket s = only(scanner.scan(), Protocol.TCP, AddressFamily.IPV4, l.port);
            assertEquals("127.0.0.1", s.addressText());
            assertTrue(s.inode() > 0);
            assertFalse(s.v6Only());
            assertTrue(s.serves(AddressFamily.IPV4));
            assertFalse(s.serves(AddressFamily.IPV6));
        }
    }

    @Test
    void udpSocketBoundToAnyIpv4AddressIsListed() throws Exception {
        try (Listeners.Listener l = socat(SOCAT, Protocol.UDP, "UDP4-RECV:%d,bind=0.0.0.0")) {
            ListeningSocket s = only(scanner.scan(), Protocol.UDP, AddressFamily.IPV4, l.port);
            assertEquals("0.0.0.0", s.addressText());
        }
    }

    @Test
    void dualStackTcpSocketOnAnyAddressServesIpv4Too() throws Exception {
        try (Listeners.Listener l = socat(SOCAT, Protocol.TCP, "TCP6-LISTEN:%d,ipv6only=0")) {
            ListeningSocket s = only(scanner.scan(), Protocol.TCP, AddressFamily.IPV6, l.port);
            assertEquals("::", s.addressText());
            assertFalse(s.v6Only());
            assertTrue(s.serves(AddressFamily.IPV4));
        }
    }

    @Test
    void v6OnlyTcpSocketDoesNotServeIpv4() throws Exception {
        try (Listeners.Listener l = socat(SOCAT, Protocol.TCP, "TCP6-LISTEN:%d,ipv6only=1")) {
            ListeningSocket s = only(scanner.scan(), Protocol.TCP, AddressFamily.IPV6, l.port);
            assertTrue(s.v6Only());
            assertFalse(s.serves(AddressFamily.IPV4));
        }
    }

    @Test
    void udpSocketsOnIpv6ReportTheirV6OnlyFlag() throws Exception {
        try (Listeners.Listener dual = socat(SOCAT, Protocol.UDP, "UDP6-RECV:%d,ipv6only=0");
                Listeners.Listener v6 = socat(SOCAT, Protocol.UDP, "UDP6-RECV:%d,bind=[::1],ipv6only=1")) {
            List<ListeningSocket> all = scanner.scan();
            ListeningSocket d = only(all, Protocol.UDP, AddressFamily.IPV6, dual.port);
            ListeningSocket o = only(all, Protocol.UDP, AddressFamily.IPV6, v6.port);
            assertFalse(d.v6Only());
            assertEquals("::1", o.addressText());
            assertTrue(o.v6Only());
        }
    }

    @Test
    void establishedTcpConnectionsAreNotListedOnlyTheListener() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int port = server.socket().getLocalPort();
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), port);
                    var accepted = server.accept()) {
                List<ListeningSocket> tcp = scanner.scan().stream()
                        .filter(s -> s.protocol() == Protocol.TCP)
                        .filter(s -> s.port() == port || s.port() == client.getLocalPort()).toList();
                assertEquals(1, tcp.size(), "only the listening socket, not the two connected ends: " + tcp);
                assertEquals(port, tcp.get(0).port());
            }
        }
    }

    @Test
    void scanOfOnePortListsThatPortOnlyInTheFamiliesAsked() throws Exception {
        try (Listeners.Listener a = socat(SOCAT, Protocol.TCP, "TCP6-LISTEN:%d,ipv6only=0");
                Listeners.Listener b = socat(SOCAT, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1")) {
            List<ListeningSocket> both = scanner.scanPort(Protocol.TCP, a.port, true, true);
            assertEquals(1, both.size(), both.toString());
            assertEquals(a.port, both.get(0).port());
            assertEquals(AddressFamily.IPV6, both.get(0).family());
            assertTrue(scanner.scanPort(Protocol.TCP, a.port, true, false).isEmpty());
            assertTrue(scanner.scanPort(Protocol.UDP, a.port, true, true).isEmpty());
            assertEquals(List.of(b.port),
                    scanner.scanPort(Protocol.TCP, b.port, true, true).stream().map(ListeningSocket::port).toList());
        }
    }

    @Test
    void tcpScanOfOnePortInBothFamiliesFindsTheIpv4AndTheV6OnlyListenerOnIt() throws Exception {
        try (Listeners.Listener v6 = socat(SOCAT, Protocol.TCP, "TCP6-LISTEN:%d,ipv6only=1");
                Listeners.Listener v4 = socat(SOCAT, Protocol.TCP, "TCP4-LISTEN:%d", v6.port, "0.0.0.0");
                Listeners.Listener other = socat(SOCAT, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1")) {
            List<ListeningSocket> both = scanner.scanPort(Protocol.TCP, v6.port, true, true); // one dump, both
            assertEquals(2, both.size(), both.toString());
            assertEquals(List.of(v6.port, v6.port), both.stream().map(ListeningSocket::port).toList());
            ListeningSocket a = both.stream().filter(s -> s.family() == AddressFamily.IPV4).findFirst().orElseThrow();
            ListeningSocket b = both.stream().filter(s -> s.family() == AddressFamily.IPV6).findFirst().orElseThrow();
            assertEquals("0.0.0.0", a.addressText());
            assertEquals("::", b.addressText());
            assertTrue(b.v6Only());
            List<ListeningSocket> all = scanner.scan();
            assertEquals(only(all, Protocol.TCP, AddressFamily.IPV4, v6.port), a);
            assertEquals(only(all, Protocol.TCP, AddressFamily.IPV6, v6.port), b);
        }
    }

    @Test
    void closedListenerDisappears() throws Exception {
        long inode;
        try (Listeners.Listener l = socat(SOCAT, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1")) {
            inode = only(scanner.scan(), Protocol.TCP, AddressFamily.IPV4, l.port).inode();
        }
        Listeners.awaitGone(scanner, inode);
    }
}
