package org.flexwall.port.store;

import static org.flexwall.api.port.AddressFamily.IPV4;
import static org.flexwall.api.port.Protocol.TCP;
import static org.flexwall.api.port.Protocol.UDP;
import static org.flexwall.port.store.Sockets.owner;
import static org.flexwall.port.store.Sockets.program;
import static org.flexwall.port.store.Sockets.sha;
import static org.flexwall.port.store.Sockets.tcp4;
import static org.flexwall.port.store.Sockets.udp4;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.RefusedSocket;
import org.flexwall.api.port.SocketOwner;
import org.flexwall.api.program.TrustedProgram;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Holders that run trusted bytes but are not the trusted program: each is refused, with a reason. */
class IdentityRefusalTest {
    private static final TrustedProgram SERVER = program("server", 'a');
    private static final TrustedProgram WEB = new TrustedProgram("web", Path.of("/usr/sbin/web"), sha('b'),
            "0".repeat(32), Instant.parse("2025-01-01T00:00:00Z"), false, "www-data", 33, "nginx.service");
    private static final Instant T0 = Instant.parse("2025-06-01T10:00:00Z");

    private PermittedPorts ports;

    @BeforeEach
    void trust() {
        ports = new PermittedPorts(false);
        ports.trust(Trust.of(List.of(SERVER, WEB)), T0);
    }

    @Test
    void tamperedHolderOfTrustedBytesIsRefusedWithItsSign() {
        ports.open(tcp4(80, 10, signed(700, SERVER.sha256(), "it runs with LD_PRELOAD=/tmp/x.so in its environment")), T0);

        assertFalse(ports.isPermitted(TCP, IPV4, 80));
        assertTrue(reason(10).contains("runs trusted bytes, but it runs with LD_PRELOAD=/tmp/x.so"), reason(10));
    }

    @Test
    void processThatTookTheSocketRefusesItAndSaysSo() {
        SocketOwner taker = owner(900, sha('f')).asTaker();
        ports.open(tcp4(80, 11, owner(700, SERVER.sha256()), taker), T0);

        assertFalse(ports.isPermitted(TCP, IPV4, 80));
        assertTrue(reason(11).contains("pid 900") && reason(11).contains("took the socket")
                && reason(11).contains("pidfd_getfd"), reason(11));
    }

    @Test
    void holderOfAnotherUserOrUnitIsNotTheProgram() {
        ports.open(tcp4(443, 12, as(700, WEB.sha256(), 1000, "nginx.service")), T0);
        ports.open(tcp4(444, 13, as(701, WEB.sha256(), 33, null)), T0);
        ports.open(tcp4(445, 14, as(702, WEB.sha256(), 33, "nginx.service")), T0);

        assertFalse(ports.isPermitted(TCP, IPV4, 443));
        assertTrue(reason(12).contains("runs as uid 1000") && reason(12).contains("as user www-data (uid 33)"),
                reason(12));
        assertFalse(ports.isPermitted(TCP, IPV4, 444));
        assertTrue(reason(13).contains("outside any systemd unit"), reason(13));
        assertTrue(ports.isPermitted(TCP, IPV4, 445), "the right user in the right unit is the program");
    }

    @Test
    void connectedUdpSocketsOfATrustedProgramArePermittedWithItsUnconnectedOne() {
        // iperf3 -s serving UDP: one socket connected to each client, plus the unconnected one for the next
        ListeningSocket unconnected = new ListeningSocket(UDP, AddressFamily.IPV6, Sockets.ip("::"), 5201, 20, false,
                List.of(owner(700, SERVER.sha256())));
        ListeningSocket connected = new ListeningSocket(UDP, AddressFamily.IPV6, Sockets.ip("::ffff:10.0.0.1"), 5201, 21, false,
                List.of(owner(700, SERVER.sha256())));
        ports.open(unconnected, T0);
        ports.open(connected, T0);

        assertTrue(ports.isPermitted(UDP, IPV4, 5201));
        assertEquals(List.of(20L, 21L), ports.permitted().stream().map(p -> p.inode()).distinct().toList());
        assertTrue(ports.refused().isEmpty());
    }

    @Test
    void socketNobodyHoldsOnTheSamePortRefusesWithAReasonNeverAnEmptyList() {
        // the finding: "shares the socket with untrusted processes: ;" for a sharer whose owners were not found
        ports.open(udp4("0.0.0.0", 5201, 30, owner(700, SERVER.sha256())), T0);
        Changes c = ports.open(udp4("10.0.0.1", 5201, 31), T0);

        assertFalse(ports.isPermitted(UDP, IPV4, 5201));
        assertEquals(1, c.refused.size());
        assertTrue(c.refused.get(0).reason().contains("no process holds it") && c.refused.get(0).reason()
                .contains("socket 31"), c.refused.get(0).reason());
        for (RefusedSocket r : ports.refused()) {
            assertFalse(r.reason().isBlank(), r.toString());
        }
    }

    private String reason(long inode) {
        return ports.refused().stream().filter(r -> r.socket().inode() == inode).map(RefusedSocket::reason)
                .findFirst().orElse("(not refused)");
    }

    private static SocketOwner signed(int pid, String sha, String tampered) {
        return new SocketOwner(pid, 1000L + pid, Path.of("/proc-test/" + pid), sha, 0, null, tampered, false);
    }

    private static SocketOwner as(int pid, String sha, int uid, String unit) {
        return new SocketOwner(pid, 1000L + pid, Path.of("/proc-test/" + pid), sha, uid, unit, null, false);
    }
}
