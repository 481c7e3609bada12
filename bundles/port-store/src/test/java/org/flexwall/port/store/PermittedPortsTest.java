package org.flexwall.port.store;

import static org.flexwall.api.port.AddressFamily.IPV4;
import static org.flexwall.api.port.AddressFamily.IPV6;
import static org.flexwall.api.port.Protocol.TCP;
import static org.flexwall.api.port.Protocol.UDP;
import static org.flexwall.port.store.Sockets.owner;
import static org.flexwall.port.store.Sockets.program;
import static org.flexwall.port.store.Sockets.sha;
import static org.flexwall.port.store.Sockets.tcp4;
import static org.flexwall.port.store.Sockets.tcp6;
import static org.flexwall.port.store.Sockets.udp4;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;

import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.program.TrustedProgram;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PermittedPortsTest {
    private static final TrustedProgram SSHD = program("sshd", 'a');
    private static final TrustedProgram NGINX = program("nginx", 'b');
    private static final String UNTRUSTED = sha('f');
    private static final Instant T0 = Instant.parse("2025-06-01T10:00:00Z");
    private static final Instant T1 = T0.plusSeconds(60);

    private PermittedPorts ports;

    @BeforeEach
    void trustSshdAndNginx() {
        ports = new PermittedPorts(false);
        ports.trust(Trust.of(List.of(SSHD, NGINX)), T0);
    }

    @Test
    void trustedListenerGetsItsPort() {
        Changes c = ports.open(tcp4(22, 100, owner(812, SSHD.sha256())), T0);

        assertTrue(ports.isPermitted(TCP, IPV4, 22));
        assertFalse(ports.isPermitted(TCP, IPV6, 22), "an IPv4 socket receives no IPv6 packets");
        assertFalse(ports.isPermitted(UDP, IPV4, 22));
        assertEquals(1, c.permitted.size());
        PermittedPort p = c.permitted.get(0);
        assertEquals(SSHD, p.program());
        assertEquals(100, p.inode());
        assertEquals(812, p.processes().get(0).pid());
        assertEquals(T0, p.since());
        assertEquals(List.of(p), ports.permitted());
    }

    @Test
    void ownerQueryAnsweredBeforeTheSocketClosedButAppliedAfterItsCloseDoesNotBringItBack() {
        ListeningSocket s = tcp4(22, 100, owner(812, SSHD.sha256()));
        ports.close(s, T0); // the monitor's CLOSE wins the race with a first packet's owner query
        Changes c = ports.open(s, T1);

        assertTrue(c.isEmpty());
        assertFalse(ports.isPermitted(TCP, IPV4, 22), "nothing would ever close it again");
        assertFalse(ports.knows(TCP, IPV4, 22));
    }

    @Test
    void untrustedListenerGetsNoPort() {
        Changes c = ports.open(tcp4(8080, 101, owner(900, UNTRUSTED)), T0);

        assertFalse(ports.isPermitted(TCP, IPV4, 8080));
        assertTrue(c.isEmpty());
        assertTrue(refusedSockets().isEmpty(), "no trusted program is involved: nothing to report");
        assertTrue(ports.knows(TCP, IPV4, 8080));
    }

    @Test
    void ownerWhoseImageCouldNotBeReadIsUntrusted() {
        ports.open(tcp4(22, 102, owner(812, null)), T0);
        assertFalse(ports.isPermitted(TCP, IPV4, 22));
    }

    @Test
    void socketWithoutResolvableOwnerIsNotPermitted() {
        ports.open(tcp4(22, 103), T0);
        assertFalse(ports.isPermitted(TCP, IPV4, 22));
        assertTrue(refusedSockets().isEmpty());
    }

    @Test
    void dualStackSocketPermitsBothFamilies() {
        Changes c = ports.open(tcp6(443, 104, false, owner(700, NGINX.sha256())), T0);

        assertTrue(ports.isPermitted(TCP, IPV6, 443));
        assertTrue(ports.isPermitted(TCP, IPV4, 443));
        assertEquals(List.of(IPV4, IPV6), c.permitted.stream().map(PermittedPort::family).toList());
    }

    @Test
    void v6OnlySocketPermitsOnlyIpv6() {
        ports.open(tcp6(443, 105, true, owner(700, NGINX.sha256())), T0);

        assertTrue(ports.isPermitted(TCP, IPV6, 443));
        assertFalse(ports.isPermitted(TCP, IPV4, 443));
    }

    @Test
    void untrustedProcessSharingTrustedSocketIsRefusedAndNamed() {
        ListeningSocket shared = tcp4(80, 106, owner(700, NGINX.sha256()), owner(701, NGINX.sha256()),
                owner(950, UNTRUSTED));
        Changes c = ports.open(shared, T0);

        assertFalse(ports.isPermitted(TCP, IPV4, 80));
        assertEquals(List.of(shared), refusedSockets());
        assertEquals(1, c.refused.size());
        assertEquals(NGINX, c.refused.get(0).program());
        assertEquals(List.of(950), c.refused.get(0).untrusted().stream().map(o -> o.pid()).toList());
        assertTrue(c.refused.get(0).reason().contains("pid 950"), c.refused.get(0).reason());
        assertTrue(ports.refused().get(0).reason().contains("pid 950 /proc-test/950 (sha256 "), ports.refused().toString());
    }

    @Test
    void untrustedSecondSocketOnTheSamePortClosesItAndBothAreReported() {
        // SO_REUSEPORT: the kernel spreads new connections over both sockets, so the untrusted one would get some.
        ListeningSocket trusted = tcp4(8080, 130, owner(700, NGINX.sha256()));
        ListeningSocket impostor = tcp4(8080, 131, owner(950, UNTRUSTED));
        ports.open(trusted, T0);
        assertTrue(ports.isPermitted(TCP, IPV4, 8080));

        Changes c = ports.open(impostor, T1);

        assertFalse(ports.isPermitted(TCP, IPV4, 8080));
        assertEquals(1, c.revoked.size());
        assertEquals(List.of(950), c.refused.get(0).untrusted().stream().map(o -> o.pid()).toList());
        assertEquals(java.util.Set.of(trusted, impostor), java.util.Set.copyOf(refusedSockets()));
    }

    @Test
    void portOpensAgainWhenTheUntrustedSharerLeaves() {
        ports.open(tcp4(8080, 132, owner(700, NGINX.sha256())), T0);
        ports.open(tcp4(8080, 133, owner(950, UNTRUSTED)), T0);

        Changes c = ports.close(tcp4(8080, 133), T1);

        assertTrue(ports.isPermitted(TCP, IPV4, 8080));
        assertEquals(1, c.permitted.size());
        assertTrue(refusedSockets().isEmpty());
    }

    @Test
    void untrustedSharerOnlyOnLoopbackDoesNotCloseThePort() {
        // 127.0.0.1:53 of a local resolver next to a trusted 0.0.0.0:53: no packet from the network reaches it.
        ports.open(udp4("0.0.0.0", 53, 134, owner(600, NGINX.sha256())), T0);
        ports.open(udp4("127.0.0.1", 53, 135, owner(951, UNTRUSTED)), T0);
        assertTrue(ports.isPermitted(UDP, IPV4, 53));
    }

    @Test
    void untrustedDualStackSocketClosesTheIpv4PortOfATrustedIpv4Socket() {
        ports.open(tcp4(443, 136, owner(700, NGINX.sha256())), T0);
        ports.open(tcp6(443, 137, false, owner(952, UNTRUSTED)), T0);
        assertFalse(ports.isPermitted(TCP, IPV4, 443));
    }

    @Test
    void refusedSocketIsReportedOnceNotOnEveryReevaluation() {
        ports.open(tcp4(80, 107, owner(700, NGINX.sha256()), owner(950, UNTRUSTED)), T0);
        Changes again = ports.trust(Trust.of(List.of(SSHD, NGINX)), T1);
        assertTrue(again.refused.isEmpty());
        assertEquals(1, refusedSockets().size());
    }

    @Test
    void untrustedOwnerLeavingMakesSharedSocketPermitted() {
        ports.open(tcp4(80, 108, owner(700, NGINX.sha256()), owner(950, UNTRUSTED)), T0);
        ports.scanStarted();
        ports.reconcile(List.of(tcp4(80, 108, owner(700, NGINX.sha256()))), T1);

        assertTrue(ports.isPermitted(TCP, IPV4, 80));
        assertTrue(refusedSockets().isEmpty());
    }

    @Test
    void untrustedProcessInheritingPermittedSocketRevokesIt() {
        ports.open(tcp4(80, 109, owner(700, NGINX.sha256())), T0);
        ports.scanStarted();
        Changes c = ports.reconcile(List.of(tcp4(80, 109, owner(700, NGINX.sha256()), owner(951, UNTRUSTED))), T1);

        assertFalse(ports.isPermitted(TCP, IPV4, 80));
        assertEquals(1, c.revoked.size());
        assertEquals(1, c.refused.size());
    }

    @Test
    void ownersRunningDifferentTrustedProgramsArePermittedForTheOldestProcess() {
        // Start times are 1000 + pid: pid 300 started first and most likely created the socket.
        ports.open(tcp4(2222, 110, owner(812, SSHD.sha256()), owner(300, NGINX.sha256())), T0);

        assertTrue(ports.isPermitted(TCP, IPV4, 2222));
        assertEquals(NGINX, ports.permitted().get(0).program());
    }

    @Test
    void closeRemovesTheSocketByInodeWhateverOwnersTheEventNames() {
        ports.open(tcp4(22, 111, owner(812, SSHD.sha256())), T0);
        Changes c = ports.close(tcp4(22, 111), T1);

        assertFalse(ports.isPermitted(TCP, IPV4, 22));
        assertFalse(ports.knows(TCP, IPV4, 22));
        assertEquals(1, c.revoked.size());
        assertTrue(ports.permitted().isEmpty());
    }

    @Test
    void closeOfAnotherSocketOnTheSamePortKeepsThePortOpen() {
        // Two sockets on one port (SO_REUSEPORT), or a PID reused by another process: the inode decides.
        ports.open(tcp4(22, 112, owner(812, SSHD.sha256())), T0);
        ports.open(tcp4(22, 113, owner(812, SSHD.sha256())), T0);
        ports.close(tcp4(22, 112, owner(812, SSHD.sha256())), T1);

        assertTrue(ports.isPermitted(TCP, IPV4, 22));
        ports.close(tcp4(22, 113), T1);
        assertFalse(ports.isPermitted(TCP, IPV4, 22));
    }

    @Test
    void closeOfUnknownSocketChangesNothing() {
        ports.open(tcp4(22, 114, owner(812, SSHD.sha256())), T0);
        assertTrue(ports.close(tcp4(22, 999, owner(812, SSHD.sha256())), T1).isEmpty());
        assertTrue(ports.isPermitted(TCP, IPV4, 22));
    }

    @Test
    void untrustingAProgramRevokesItsPortsOnly() {
        ports.open(tcp4(22, 115, owner(812, SSHD.sha256())), T0);
        ports.open(tcp6(443, 116, false, owner(700, NGINX.sha256())), T0);

        Changes c = ports.trust(Trust.of(List.of(SSHD)), T1);

        assertEquals(2, c.revoked.size(), "both families of the dual-stack socket");
        assertFalse(ports.isPermitted(TCP, IPV4, 443));
        assertFalse(ports.isPermitted(TCP, IPV6, 443));
        assertTrue(ports.isPermitted(TCP, IPV4, 22));
    }

    @Test
    void trustingAProgramOpensThePortItAlreadyListensOn() {
        ports.trust(Trust.NOTHING, T0);
        ports.open(tcp4(22, 117, owner(812, SSHD.sha256())), T0);
        assertFalse(ports.isPermitted(TCP, IPV4, 22));

        Changes c = ports.trust(Trust.of(List.of(SSHD)), T1);

        assertTrue(ports.isPermitted(TCP, IPV4, 22));
        assertEquals(T1, c.permitted.get(0).since());
    }

    @Test
    void withNothingTrustedEveryEntryIsRevoked() {
        ports.open(tcp4(22, 118, owner(812, SSHD.sha256())), T0);
        ports.open(udp4("0.0.0.0", 53, 119, owner(600, NGINX.sha256())), T0);

        Changes c = ports.trust(Trust.NOTHING, T1);

        assertEquals(2, c.revoked.size());
        assertTrue(ports.permitted().isEmpty());
        assertFalse(ports.isPermitted(UDP, IPV4, 53));
    }

    @Test
    void reevaluationWithUnchangedTrustKeepsEntriesAndTheirTime() {
        ports.open(tcp4(22, 120, owner(812, SSHD.sha256())), T0);
        Changes c = ports.trust(Trust.of(List.of(SSHD, NGINX)), T1);

        assertTrue(c.isEmpty());
        assertEquals(T0, ports.permitted().get(0).since());
    }

    @Test
    void reapprovedProgramWithNewImageRevokesProcessesStillRunningTheOldOne() {
        ports.open(tcp4(22, 121, owner(812, SSHD.sha256())), T0);
        TrustedProgram upgraded = program("sshd", 'c');

        ports.trust(Trust.of(List.of(upgraded)), T1);

        assertFalse(ports.isPermitted(TCP, IPV4, 22), "the running image is no longer the trusted one");
    }

    @Test
    void loopbackOnlySocketGetsNoPortUnlessConfigured() {
        ports.open(udp4("127.0.0.1", 5353, 122, owner(600, NGINX.sha256())), T0);
        assertFalse(ports.isPermitted(UDP, IPV4, 5353));

        PermittedPorts withLoopback = new PermittedPorts(true);
        withLoopback.trust(Trust.of(List.of(NGINX)), T0);
        withLoopback.open(udp4("127.0.0.1", 5353, 122, owner(600, NGINX.sha256())), T0);
        assertTrue(withLoopback.isPermitted(UDP, IPV4, 5353));
    }

    @Test
    void reconcileForgetsSocketsGoneFromTheScanAndLearnsNewOnes() {
        ports.open(tcp4(22, 123, owner(812, SSHD.sha256())), T0);
        ports.scanStarted();
        Changes c = ports.reconcile(List.of(tcp4(80, 124, owner(700, NGINX.sha256()))), T1);

        assertFalse(ports.isPermitted(TCP, IPV4, 22));
        assertTrue(ports.isPermitted(TCP, IPV4, 80));
        assertEquals(1, c.revoked.size());
        assertEquals(1, c.permitted.size());
    }

    @Test
    void reconcileDoesNotUndoEventsNewerThanItsScan() {
        ports.scanStarted();
        // While the scan ran: port 22 opened, and port 80 (in the scan) closed.
        ports.open(tcp4(80, 125, owner(700, NGINX.sha256())), T0);
        ports.open(tcp4(22, 126, owner(812, SSHD.sha256())), T0);
        ports.close(tcp4(80, 125), T1);

        ports.reconcile(List.of(tcp4(80, 125, owner(700, NGINX.sha256()))), T1);

        assertTrue(ports.isPermitted(TCP, IPV4, 22), "opened after the scan began: not in it, still open");
        assertFalse(ports.isPermitted(TCP, IPV4, 80), "closed after the scan began: stays closed");

        ports.scanStarted();
        ports.reconcile(List.of(tcp4(80, 125, owner(700, NGINX.sha256()))), T1);
        assertFalse(ports.isPermitted(TCP, IPV4, 22), "the next scan, with no event in between, decides");
        assertTrue(ports.isPermitted(TCP, IPV4, 80));
    }

    @Test
    void portsOfDifferentProtocolsAndFamiliesDoNotShareBits() {
        ports.open(udp4("0.0.0.0", 65535, 127, owner(600, NGINX.sha256())), T0);
        assertTrue(ports.isPermitted(UDP, IPV4, 65535));
        assertFalse(ports.isPermitted(TCP, IPV4, 65535));
        assertFalse(ports.isPermitted(UDP, IPV6, 65535));
        assertFalse(ports.isPermitted(UDP, IPV4, 0));
    }

    private List<ListeningSocket> refusedSockets() {
        return ports.refused().stream().map(org.flexwall.api.port.RefusedSocket::socket).toList();
    }
}
