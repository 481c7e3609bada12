package org.flexwall.port.monitor.sockdiag;

import static org.flexwall.port.monitor.sockdiag.Listeners.SOCAT;
import static org.flexwall.port.monitor.sockdiag.Listeners.only;
import static org.flexwall.port.monitor.sockdiag.Listeners.socat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.port.SocketOwner;
import org.flexwall.testing.SystemTests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The permission on the socket itself (principle 7): the verified bit goes onto a real listener's socket through a
 * duplicate of its descriptor, and never onto a socket that is not the one verified. The mark is read back the way an
 * operator would, with {@code ss -e} (fwmark).
 */
class SocketMarksTest {
    private static SocketScanner scanner;
    private final OwnerResolver resolver = new OwnerResolver();
    private final SocketMarks marks = new SocketMarks();

    @BeforeAll
    static void open() {
        SystemTests.requireRoot("pidfd_getfd of another process needs root");
        scanner = new SocketScanner();
    }

    @AfterAll
    static void close() {
        if (scanner != null) {
            scanner.close();
        }
    }

    @Test
    void theVerifiedBitGoesOnTheListenersOwnSocketAndComesOffAgain() throws Exception {
        try (Listeners.Listener l = socat(SOCAT, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1")) {
            ListeningSocket s = withOwners(only(scanner.scan(), Protocol.TCP, AddressFamily.IPV4, l.port));
            assertEquals("", fwmark(l.port), "no mark before");
            assertTrue(marks.mark(s, resolver.holders(s.inode()), true));
            assertEquals("fwmark:0x10000000", fwmark(l.port));
            assertTrue(marks.mark(s, resolver.holders(s.inode()), true), "twice is fine");
            assertTrue(marks.mark(s, null, false), "found through /proc without the index");
            assertEquals("", fwmark(l.port));
        }
    }

    @Test
    void aHolderThatIsNotTheVerifiedProcessOrAGoneSocketGetsNoMark() throws Exception {
        try (Listeners.Listener l = socat(SOCAT, Protocol.UDP, "UDP4-RECV:%d,bind=127.0.0.1")) {
            ListeningSocket s = withOwners(only(scanner.scan(), Protocol.UDP, AddressFamily.IPV4, l.port));
            SocketOwner o = s.owners().get(0);
            SocketOwner reused = new SocketOwner(o.pid(), o.startTime() + 1, o.executable(), o.sha256());
            ListeningSocket otherProcess = new ListeningSocket(s.protocol(), s.family(), s.address(), s.port(),
                    s.inode(), s.v6Only(), List.of(reused));
            assertFalse(marks.mark(otherProcess, resolver.holders(s.inode()), true), "a pid with another start time");
            ListeningSocket otherSocket = new ListeningSocket(s.protocol(), s.family(), s.address(), s.port(),
                    s.inode() + 1, s.v6Only(), s.owners());
            assertFalse(marks.mark(otherSocket, resolver.holders(s.inode()), true), "the descriptor holds another inode");
            assertEquals("", fwmark(l.port));
            l.close();
            assertFalse(marks.mark(s, resolver.holders(s.inode()), true), "the holder is gone");
        }
    }

    private ListeningSocket withOwners(ListeningSocket s) {
        List<SocketOwner> owners = resolver.resolveAll(List.of(s.inode()), false).get(s.inode());
        assertFalse(owners.isEmpty(), "no owner of " + s);
        return new ListeningSocket(s.protocol(), s.family(), s.address(), s.port(), s.inode(), s.v6Only(), owners);
    }

    /** The "fwmark:0x…" word ss -e prints for the socket on {@code port}, or "" when it has no mark. */
    private static String fwmark(int port) throws Exception {
        Process p = new ProcessBuilder("ss", "-Hltune").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        for (String line : out.split("\n")) {
            if (line.contains(":" + port + " ")) {
                for (String word : line.split("\\s+")) {
                    if (word.startsWith("fwmark:")) {
                        return word;
                    }
                }
                return "";
            }
        }
        throw new AssertionError("no socket on " + port + " in\n" + out);
    }
}
