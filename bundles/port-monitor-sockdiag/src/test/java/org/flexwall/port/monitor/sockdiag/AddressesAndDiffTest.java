package org.flexwall.port.monitor.sockdiag;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PortEvent;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.port.SocketOwner;
import org.junit.jupiter.api.Test;

/** Address text (RFC 5952) and the scan-to-event diff, without I/O. */
class AddressesAndDiffTest {

    @Test
    void ipv6AddressesAreWrittenInTheirShortestCanonicalForm() throws Exception {
        assertEquals("::", text("::"));
        assertEquals("::1", text("::1"));
        assertEquals("fe80::1", text("fe80::1"));
        assertEquals("2001:db8::1:0:0:1", text("2001:db8:0:0:1:0:0:1"));
        assertEquals("2001:db8:0:1:1:1:1:1", text("2001:db8:0:1:1:1:1:1"), "a single zero word stays");
        assertEquals("1::", text("1::"));
        assertEquals("::ffff:10.1.2.3", Addresses.text(mapped(10, 1, 2, 3)));
        assertEquals("192.168.0.254", Addresses.text(new byte[] { (byte) 192, (byte) 168, 0, (byte) 254 }));
    }

    @Test
    void firstScanOpensEverySocketAndLaterScansReportOnlyChanges() {
        SocketDiff diff = new SocketDiff();
        ListeningSocket a = socket(1, 22, owner(100));
        ListeningSocket b = socket(2, 53, owner(200));
        assertEquals(List.of(open(a), open(b)), diff.update(List.of(a, b)));
        assertEquals(List.of(), diff.update(List.of(a, b)));

        ListeningSocket bInherited = socket(2, 53, owner(200), owner(201));
        ListeningSocket c = socket(3, 22, owner(300)); // same port, new socket: a restarted server
        assertEquals(List.of(close(a), open(bInherited), open(c)), diff.update(List.of(bInherited, c)));
        assertEquals(List.of(close(bInherited), close(c)), diff.update(List.of()));
    }

    private static String text(String literal) throws Exception {
        return Addresses.text(InetAddress.getByName(literal).getAddress());
    }

    private static byte[] mapped(int a, int b, int c, int d) {
        byte[] m = new byte[16];
        m[10] = (byte) 0xFF;
        m[11] = (byte) 0xFF;
        m[12] = (byte) a;
        m[13] = (byte) b;
        m[14] = (byte) c;
        m[15] = (byte) d;
        return m;
    }

    private static ListeningSocket socket(long inode, int port, SocketOwner... owners) {
        return new ListeningSocket(Protocol.TCP, AddressFamily.IPV4, "0.0.0.0", port, inode, false, List.of(owners));
    }

    private static SocketOwner owner(int pid) {
        return new SocketOwner(pid, 1000 + pid, Path.of("/usr/sbin/server"), "ab".repeat(32));
    }

    private static PortEvent open(ListeningSocket s) {
        return new PortEvent(PortEvent.Kind.OPEN, s);
    }

    private static PortEvent close(ListeningSocket s) {
        return new PortEvent(PortEvent.Kind.CLOSE, s);
    }
}
