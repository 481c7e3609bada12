package org.flexwall.port.monitor.sockdiag;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PortEvent;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.port.SocketOwner;
import org.junit.jupiter.api.Test;

/** The scan-to-event diff, without I/O. */
class SocketDiffTest {
    private static final InetAddress WILDCARD = new InetSocketAddress("0.0.0.0", 0).getAddress();

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

    private static ListeningSocket socket(long inode, int port, SocketOwner... owners) {
        return new ListeningSocket(Protocol.TCP, AddressFamily.IPV4, WILDCARD, port, inode, false, List.of(owners));
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
