package org.flexwall.hook.nftables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.flexwall.api.packet.Marks;
import org.flexwall.api.packet.PortTraffic;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.Protocol;
import org.flexwall.testing.Commands;
import org.flexwall.testing.Configs;
import org.flexwall.testing.RecordingLogger;
import org.junit.jupiter.api.Test;

/**
 * The component against the real kernel: port store changes open and close ports, established flows survive every
 * change, the appliance reaches out, the gateway forwards from the LAN only, anti-lockout, the NFQUEUE hook's mark,
 * and the table outliving the component. Traffic is real (socat) between the lab's namespaces.
 */
class NftablesHookSystemTest extends LabTest {

    @Test
    void permittedPortOpensAndRevokedPortCloses() throws Exception {
        activate("antiLockout", false);
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_PERMITTED), "open before it was permitted");
        PermittedPort v4 = store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
        PermittedPort v6 = store.permit(Protocol.TCP, AddressFamily.IPV6, TCP_PERMITTED);
        hook.awaitSync();
        assertTrue(lab.connects(lab.outside, lab.applianceV4, TCP_PERMITTED));
        assertTrue(lab.connects(lab.outside, lab.applianceV6, TCP_PERMITTED));
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_UNPERMITTED));

        store.revoke(v4);
        hook.awaitSync();
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_PERMITTED));
        assertTrue(lab.connects(lab.outside, lab.applianceV6, TCP_PERMITTED), "the IPv6 entry is still permitted");
        store.revoke(v6);
        hook.awaitSync();
        assertTrue(lab.blocked(lab.outside, lab.applianceV6, TCP_PERMITTED));
        assertEquals(List.of(), elements(Ruleset.SET4));
        assertEquals(List.of(), elements(Ruleset.SET6));
    }

    @Test
    void udpToAPermittedPortIsAnsweredAndOtherwiseDropped() throws Exception {
        activate("antiLockout", false);
        store.permit(Protocol.UDP, AddressFamily.IPV4, UDP_PERMITTED);
        hook.awaitSync();
        assertTrue(lab.udpAnswered(lab.outside, lab.applianceV4, UDP_PERMITTED));
        assertFalse(lab.udpAnswered(lab.outside, lab.applianceV4, UDP_UNPERMITTED));
        assertFalse(lab.udpAnswered(lab.outside, lab.applianceV6, UDP_PERMITTED), "permitted for IPv4 only");
    }

    @Test
    void portSharedByTwoSocketsStaysOpenUntilBothAreRevoked() throws Exception {
        activate("antiLockout", false);
        PermittedPort first = store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
        PermittedPort second = store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED); // SO_REUSEPORT
        hook.awaitSync();
        store.revoke(first);
        hook.awaitSync();
        assertTrue(lab.connects(lab.outside, lab.applianceV4, TCP_PERMITTED));
        store.revoke(second);
        hook.awaitSync();
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_PERMITTED));
    }

    @Test
    void establishedSessionSurvivesBaselineReapplyAndPortChanges() throws Exception {
        activate();
        PermittedPort tcp = store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
        hook.awaitSync();
        Lab.Session session = lab.session(lab.outside, lab.applianceV4, TCP_PERMITTED);
        assertEquals("line 1", session.exchange("line 1"));

        hook.deactivate(); // a bundle update: the table stays
        assertEquals("line 2", session.exchange("line 2"));
        reactivate("antiLockout", false, "lanInterfaces", new String[] { "lan0" }); // re-applied, other rules
        assertEquals("line 3", session.exchange("line 3"));

        store.permit(Protocol.UDP, AddressFamily.IPV4, UDP_PERMITTED);
        hook.awaitSync();
        assertEquals("line 4", session.exchange("line 4"));
        store.revoke(tcp);
        hook.awaitSync();
        // the listener closed its port: no new connection, but the flow it accepted before goes on
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_PERMITTED));
        assertEquals("line 5", session.exchange("line 5"));
    }

    @Test
    void inboundPacketsToPermittedPortsAreUntrackedUnlessTheApplianceIsAGateway() throws Exception {
        Commands.run(lab.appliance, null, "conntrack", "-F"); // flows of earlier tests, tracked or gateway ones, go
        activate("antiLockout", false);
        PermittedPort tcp = store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
        hook.awaitSync();
        Lab.Session session = lab.session(lab.outside, lab.applianceV4, TCP_PERMITTED);
        assertEquals("line 1", session.exchange("line 1"));
        assertFalse(trackedFromOutside(TCP_PERMITTED), conntrack());
        assertTrue(logLines.stream().anyMatch(l -> l.contains("permitted ports skip connection tracking")),
                logLines.toString());

        // revoked: new connections are dropped at once; this one goes on because the echo server has sent since,
        // and conntrack picked the flow up from that outgoing packet
        store.revoke(tcp);
        hook.awaitSync();
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_PERMITTED));
        assertEquals("line 2", session.exchange("line 2"));

        removeTable();
        activate("antiLockout", false, "lanInterfaces", new String[] { "lan0" });
        store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
        hook.awaitSync();
        assertTrue(lab.connects(lab.outside, lab.applianceV4, TCP_PERMITTED));
        assertTrue(trackedFromOutside(TCP_PERMITTED), "a gateway tracks every flow: " + conntrack());
    }

    @Test
    void applianceReachesTheOutsideOverTcpAndUdp() throws Exception {
        activate("antiLockout", false);
        assertTrue(lab.connects(lab.appliance, lab.outsideV4, OUTSIDE_TCP));
        assertTrue(lab.connects(lab.appliance, lab.outsideV6, OUTSIDE_TCP));
        assertTrue(lab.udpAnswered(lab.appliance, lab.outsideV4, OUTSIDE_UDP));
        assertTrue(lab.udpAnswered(lab.appliance, lab.outsideV6, OUTSIDE_UDP));
        assertTrue(lab.connects(lab.appliance, "127.0.0.1", TCP_UNPERMITTED), "loopback is never filtered");
    }

    @Test
    void antiLockoutOnAnApplianceStartedAtBootOpensNothing() throws Exception {
        activate(); // shipped default: on, but no management interface, no SSH session, console on loopback
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, SSH));
        assertTrue(lab.blocked(lab.outside, lab.applianceV6, SSH));
        assertTrue(hook.status().contains("anti-lockout: nothing"), hook.status());
    }

    @Test
    void antiLockoutStartedOverSshOpensSshToThatSessionsClientOnly() throws Exception {
        activateFrom(new Origin(lab.outsideV4, SSH, "127.0.0.1", 8080));
        assertTrue(lab.connects(lab.outside, lab.applianceV4, SSH), "the operator's own SSH client");
        assertTrue(lab.blocked(lab.outside, lab.applianceV6, SSH), "the same host from another address: no");
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_UNPERMITTED), "nothing else");
        assertTrue(logLines.stream().anyMatch(l -> l.contains("anti-lockout ON: SSH (tcp 22) from " + lab.outsideV4)),
                logLines.toString());

        removeTable();
        activateFrom(new Origin(lab.outsideV4, SSH, "127.0.0.1", 8080), "antiLockout", false);
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, SSH));
        assertTrue(hook.status().contains("anti-lockout: off"), hook.status());
    }

    @Test
    void antiLockoutOnTheManagementInterfaceOnly() throws Exception {
        activate("managementInterface", "lan0");
        String applianceLan = lab.lanHostV4.replaceAll("\\.2$", ".1");
        assertTrue(lab.connects(lab.lan, applianceLan, SSH), "management from the LAN side");
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, SSH), "not from the outside");
    }

    @Test
    void aTableAnEarlierVersionLeftIsMadeAnewWithThePermittedPortsWhoseTrafficIsThenCounted() throws Exception {
        // as the version before per-port counters left it, with a port still permitted and the JVM gone
        Commands.run(lab.appliance, null, "nft", "delete", "table", "inet", "flexwall");
        String earlier = "add table inet flexwall\n"
                + "add set inet flexwall permitted4 { type inet_proto . inet_service; }\n"
                + "add set inet flexwall permitted6 { type inet_proto . inet_service; }\n"
                + "add element inet flexwall permitted4 { tcp . " + TCP_PERMITTED + " }\n";
        assertTrue(Commands.run(lab.appliance, earlier, "nft", "-f", "-").ok());
        store = new Fakes.Store();
        store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);

        reactivate("antiLockout", false); // the new version starts, the store knows the port from the first
        hook.awaitSync();

        assertEquals(java.util.Optional.empty(), hook.problem(), String.join("\n", logLines));
        assertTrue(logLines.stream().anyMatch(l -> l.contains("making table inet flexwall anew")), logLines.toString());
        assertEquals(List.of("tcp . " + TCP_PERMITTED), elements(Ruleset.SET4),
                Commands.ok(lab.appliance, "nft", "list", "set", "inet", "flexwall", Ruleset.SET4) + logLines);
        assertTrue(lab.connects(lab.outside, lab.applianceV4, TCP_PERMITTED));
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_UNPERMITTED));
        PortTrafficReader traffic = new PortTrafficReader(new NftProgram(List.of("ip", "netns", "exec",
                lab.appliance), "nft"), RecordingLogger.into(logLines));
        PortTraffic.Counts counted = traffic.counts().get(new PortKey(Protocol.TCP, AddressFamily.IPV4,
                TCP_PERMITTED));
        assertTrue(counted != null && counted.packets() > 0 && counted.bytes() > counted.packets(),
                "the connection's packets are counted at its port: " + counted);
    }

    @Test
    void aMarkAnotherTableSetsOpensNothingButTheUserSpaceHooksMarkReachesAVerifiedSocket() throws Exception {
        activate("antiLockout", false);
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_PERMITTED), "verified, but nobody accepted it");
        // stands in for the NFQUEUE hook (or for any table that sets our bit): Marks.ACCEPTED at mangle priority
        String marker = "table inet fwt_marker {\n chain input {\n  type filter hook input priority mangle;\n"
                + "  tcp dport { " + TCP_UNPERMITTED + ", " + TCP_PERMITTED + " } meta mark set meta mark | "
                + String.format("0x%08x", Marks.ACCEPTED)
                + "\n }\n}\n";
        assertTrue(Commands.run(lab.appliance, marker, "nft", "-f", "-").ok());
        try {
            assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_UNPERMITTED), "the mark alone opens nothing");
            assertTrue(lab.connects(lab.outside, lab.applianceV4, TCP_PERMITTED), "marked, to a verified socket");
        } finally {
            Commands.run(lab.appliance, null, "nft", "delete", "table", "inet", "fwt_marker");
        }
    }

    @Test
    void aPermittedPortIsReachedOnlyAtTheVerifiedSocketAndAGoneListenerDrawsNoRst() throws Exception {
        for (boolean untrack : new boolean[] { true, false }) {
            activate("antiLockout", false, "untrackPermitted", untrack);
            // in the set, as after a trusted program's exit while the JVM was dead, but the listener now there is
            // another program's: its socket carries no mark
            store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_UNPERMITTED);
            store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_NOBODY);
            store.permit(Protocol.UDP, AddressFamily.IPV4, UDP_UNPERMITTED);
            store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
            hook.awaitSync();
            Lab.Capture answers = lab.capture(lab.outside, "out0", java.nio.file.Files.createTempFile("fwt", ".txt"),
                    "src host " + lab.applianceV4 + " and (tcp[tcpflags] & tcp-rst != 0 or icmp)");
            List<String> got;
            try {
                assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_UNPERMITTED), "untrack=" + untrack);
                assertFalse(lab.udpAnswered(lab.outside, lab.applianceV4, UDP_UNPERMITTED), "untrack=" + untrack);
                assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_NOBODY), "untrack=" + untrack);
                Lab.nmap(lab.outside, "-Pn", "-sS", "-p", TCP_NOBODY + "," + TCP_UNPERMITTED, lab.applianceV4);
            } finally {
                got = answers.stop();
            }
            assertEquals(List.of(), got, "no RST or ICMP from the appliance, untrack=" + untrack);
            assertTrue(lab.connects(lab.outside, lab.applianceV4, TCP_PERMITTED), "untrack=" + untrack);
            Commands.run(lab.appliance, null, "conntrack", "-F"); // later tests look for tracked flows of their own
            removeTable();
        }
    }

    @Test
    void packetAnotherTableUntrackedIsStillDroppedUnlessItsPortIsPermitted() throws Exception {
        activate("antiLockout", false);
        store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
        hook.awaitSync();
        // someone else's raw chain untracks a port flexwall does not permit (and one it does), before ours runs
        String other = "table inet fwt_untrack {\n chain prerouting {\n  type filter hook prerouting priority -350;\n"
                + "  tcp dport { " + TCP_UNPERMITTED + ", " + TCP_PERMITTED + " } notrack\n }\n}\n";
        assertTrue(Commands.run(lab.appliance, other, "nft", "-f", "-").ok());
        try {
            assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_UNPERMITTED), "untracked is not permitted");
            assertTrue(lab.connects(lab.outside, lab.applianceV4, TCP_PERMITTED), conntrack());
        } finally {
            Commands.run(lab.appliance, null, "nft", "delete", "table", "inet", "fwt_untrack");
        }
    }

    @Test
    void gatewayForwardsNewFlowsFromTheLanOnly() throws Exception {
        activate("antiLockout", false);
        assertTrue(lab.blocked(lab.lan, lab.outsideV4, OUTSIDE_TCP), "forwarded without a LAN interface");
        removeTable();
        activate("antiLockout", false, "lanInterfaces", new String[] { "lan0" });
        assertTrue(lab.connects(lab.lan, lab.outsideV4, OUTSIDE_TCP));
        assertTrue(lab.udpAnswered(lab.lan, lab.outsideV4, OUTSIDE_UDP));
        assertTrue(lab.blocked(lab.outside, lab.lanHostV4, LAN_TCP));
    }

    @Test
    void aPortChangeIsInTheKernelWhenTheCallThatBroughtItReturns() throws Exception {
        activate("antiLockout", false);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        hook.worker.execute(() -> { // the worker is busy throughout: only the caller's thread can send the changes
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            PermittedPort p = store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
            assertEquals(List.of("tcp . " + TCP_PERMITTED), elements(Ruleset.SET4), "sent on the caller's thread");
            store.revoke(p);
            assertEquals(List.of(), elements(Ruleset.SET4));
        } finally {
            release.countDown();
        }
    }

    @Test
    void changesHeardWhileAnotherThreadIsAtTheKernelAreSentByThatThreadInOneBatch() throws Exception {
        activate("antiLockout", false);
        PermittedPort tcp = store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
        java.util.concurrent.locks.ReentrantLock kernel = hook.kernel;
        java.util.concurrent.CompletableFuture<Void> release = new java.util.concurrent.CompletableFuture<>();
        java.util.concurrent.CompletableFuture<Void> busy = java.util.concurrent.CompletableFuture.runAsync(() -> {
            kernel.lock(); // another thread sending a batch
            try {
                release.join();
            } finally {
                kernel.unlock();
            }
        });
        org.flexwall.testing.Await.until("the other thread holds the kernel", kernel::isLocked);
        store.permit(Protocol.UDP, AddressFamily.IPV4, UDP_PERMITTED);
        store.revoke(tcp);
        store.permit(Protocol.TCP, AddressFamily.IPV6, TCP_PERMITTED);
        assertEquals(List.of("tcp . " + TCP_PERMITTED), elements(Ruleset.SET4), "left to the busy thread");
        release.complete(null);
        busy.get(10, java.util.concurrent.TimeUnit.SECONDS); // this stand-in lets go without sending
        store.permit(Protocol.TCP, AddressFamily.IPV6, TCP_UNPERMITTED); // the next change takes all pending along
        assertEquals(List.of("udp . " + UDP_PERMITTED), elements(Ruleset.SET4));
        assertEquals(List.of("tcp . " + TCP_PERMITTED, "tcp . " + TCP_UNPERMITTED), elements(Ruleset.SET6));
    }

    @Test
    void aPortClosedWhileAnotherThreadIsAtTheKernelIsClosedBeforeTheHookStops() throws Exception {
        activate("antiLockout", false);
        PermittedPort p = store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
        assertEquals(List.of("tcp . " + TCP_PERMITTED), elements(Ruleset.SET4));
        NftablesHook stopping = hook;
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        Thread busy = new Thread(() -> { // a thread in the middle of a batch when the close comes
            stopping.kernel.lock();
            try {
                held.countDown();
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                stopping.kernel.unlock();
            }
        });
        busy.start();
        held.await();
        store.revoke(p); // returns at once: the busy thread holds the kernel
        store.listener = null; // DS unbinds the stopping hook from packet bypass, then deactivates it
        Thread deactivating = new Thread(() -> {
            try {
                stopping.deactivate();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        deactivating.start();
        release.countDown(); // the busy thread lets go without sending (it stands for one that had its batch out)
        busy.join(10_000);
        deactivating.join(60_000);
        hook = null;
        assertFalse(deactivating.isAlive());
        assertEquals(List.of(), elements(Ruleset.SET4), "a port closed while the hook stopped was left open");
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_PERMITTED));
    }

    @Test
    void tableOutlivesTheComponentAndDisableRemovesIt() throws Exception {
        activate("antiLockout", false);
        store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
        hook.awaitSync();
        hook.deactivate();
        hook = null;
        assertTrue(nft().tablePresent());
        assertEquals(List.of("tcp . " + TCP_PERMITTED), elements(Ruleset.SET4));
        assertTrue(lab.connects(lab.outside, lab.applianceV4, TCP_PERMITTED));
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_UNPERMITTED), "stopped, yet still closed");

        Main.disable(nft());
        assertFalse(nft().tablePresent());
        assertTrue(lab.connects(lab.outside, lab.applianceV4, TCP_UNPERMITTED), "disabled: nothing filters");
        Main.disable(nft()); // twice is fine
    }

    @Test
    void restartKeepsPortsOfThePreviousRunUntilPacketBypassReports() throws Exception {
        activate("antiLockout", false);
        store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
        hook.awaitSync();
        hook.deactivate();

        // a new run without packet bypass yet: the kernel keeps what it had (only verified sockets match them)
        hook = new NftablesHook(RecordingLogger.into(logLines), List.of("ip", "netns", "exec", lab.appliance));
        hook.start(Configs.config(NftablesHook.Config.class, "antiLockout", false), Origin.NONE);
        assertTrue(lab.connects(lab.outside, lab.applianceV4, TCP_PERMITTED));
        assertTrue(hook.status().contains("ports permitted before kept"), hook.status());

        // packet bypass arrives and its table is empty: the sets follow it
        Fakes.Store empty = new Fakes.Store();
        hook.bindPortStore(empty);
        empty.bind(hook);
        hook.awaitSync();
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_PERMITTED));
        assertTrue(hook.status().startsWith("baseline active, 0 permitted ports"), hook.status());
    }

    @Test
    void packetBypassOrItsStoreGoneClosesEveryPermittedPortUntilBack() throws Exception {
        activate("antiLockout", false);
        store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
        hook.awaitSync();
        hook.unbindPortStore(store);
        store.stop(); // the last word of a stopping packet bypass (or of its store): nothing is open
        hook.awaitSync();
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_PERMITTED));
        assertTrue(hook.status().contains("no port store bound"), hook.status());
        hook.bindPortStore(store);
        store.bind(hook);
        hook.awaitSync();
        assertTrue(lab.connects(lab.outside, lab.applianceV4, TCP_PERMITTED));
    }

    @Test
    void tableRemovedBehindOurBackIsRestoredWithItsPorts() throws Exception {
        activate("antiLockout", false);
        store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
        hook.awaitSync();
        Commands.ok(lab.appliance, "nft", "flush", "ruleset"); // what nftables.service does at start
        assertTrue(lab.connects(lab.outside, lab.applianceV4, TCP_UNPERMITTED), "flushed: open");
        hook.recheck();
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_UNPERMITTED));
        assertTrue(lab.connects(lab.outside, lab.applianceV4, TCP_PERMITTED));
        assertTrue(logLines.stream().anyMatch(l -> l.contains("was removed outside flexwall")), logLines.toString());
    }

    @Test
    void elementDeletedBehindOurBackDoesNotStopLaterUpdates() throws Exception {
        activate("antiLockout", false);
        PermittedPort p = store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
        hook.awaitSync();
        Commands.ok(lab.appliance, "nft", "delete", "element", "inet", "flexwall", Ruleset.SET4,
                "{ tcp . " + TCP_PERMITTED + " }");
        store.revoke(p); // its delete batch fails: the element is gone; the sets are rewritten instead
        store.permit(Protocol.UDP, AddressFamily.IPV4, UDP_PERMITTED);
        hook.awaitSync();
        assertEquals(List.of("udp . " + UDP_PERMITTED), elements(Ruleset.SET4));
        assertFalse(hook.status().contains("problem"), hook.status());
    }

    @Test
    void aThousandPortsInOneBurstAllReachTheKernel() throws Exception {
        activate("antiLockout", false);
        List<PermittedPort> many = new ArrayList<>();
        for (int port = 20_000; port < 21_000; port++) {
            many.add(store.permit(Protocol.UDP, AddressFamily.IPV6, port));
        }
        hook.awaitSync();
        assertEquals(1000, elements(Ruleset.SET6).size());
        assertTrue(hook.status().startsWith("baseline active, 1000 permitted ports"), hook.status());
        many.forEach(store::revoke);
        hook.awaitSync();
        assertEquals(List.of(), elements(Ruleset.SET6));
    }

    @Test
    void badFileFailsWithNftsOwnMessageAndChangesNothing() throws Exception {
        activate("antiLockout", false);
        store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
        hook.awaitSync();
        Nft.NftException e = org.junit.jupiter.api.Assertions.assertThrows(Nft.NftException.class,
                () -> nft().apply("flush set inet flexwall permitted4\nadd rule inet flexwall input tcp dport 70000 "
                        + "accept\n", "test a bad file"));
        assertTrue(e.getMessage().startsWith("cannot test a bad file: nft exited with 1:\n"), e.getMessage());
        assertTrue(e.getMessage().contains("Error:") && e.getMessage().contains("70000"), e.getMessage());
        assertEquals(List.of("tcp . " + TCP_PERMITTED), elements(Ruleset.SET4),
                "the flush in the bad file did not run");
    }

    @Test
    void invalidConfigurationFallsBackToTheClosedDefaults() throws Exception {
        activate("antiLockout", false, "lanInterfaces", new String[] { "lan0\" accept" });
        assertTrue(hook.status().contains("configuration org.flexwall.hook.nftables is invalid: lanInterfaces"),
                hook.status());
        assertTrue(lab.blocked(lab.lan, lab.outsideV4, OUTSIDE_TCP), "nothing forwarded");
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, SSH), "the defaults' anti-lockout opens nothing here");
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_UNPERMITTED));
    }

    @Test
    void pathMtuErrorsAboutTheAppliancesOwnFlowsReachItsStack() throws Exception {
        activate("antiLockout", false);
        // 1400 bytes over a 1280-byte link: the outside router answers "fragmentation needed" / "packet too big",
        // which conntrack finds related to the flow; the kernel then lowers its path MTU
        for (String far : List.of(lab.farV4, lab.farV6)) {
            String target = far.contains(":") ? "UDP6-SENDTO:[" + far + "]:9999" : "UDP4-SENDTO:" + far + ":9999";
            Commands.Result r = Commands.run(lab.appliance, "x".repeat(1400), "socat", "-u", "-", target);
            assertTrue(r.ok(), r.output());
            Lab.await(() -> routeMtu(far).contains("mtu 1280"), "no path MTU learnt for " + far + ": "
                    + routeMtu(far));
        }
    }

    @Test
    void tableRemovedBehindOurBackIsRestoredAtTheNextPortChange() throws Exception {
        activate("antiLockout", false);
        store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
        hook.awaitSync();
        Commands.ok(lab.appliance, "nft", "delete", "table", "inet", "flexwall");
        store.permit(Protocol.UDP, AddressFamily.IPV4, UDP_PERMITTED); // its batch fails: the table is gone
        hook.awaitSync();
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_UNPERMITTED));
        assertEquals(List.of("tcp . " + TCP_PERMITTED, "udp . " + UDP_PERMITTED), elements(Ruleset.SET4));
        assertFalse(hook.status().contains("problem"), hook.status());
    }

    /** Whether conntrack holds a flow that the outside opened to {@code port} (its original direction inbound). */
    private boolean trackedFromOutside(int port) {
        String inbound = "src=" + lab.outsideV4 + " dst=" + lab.applianceV4 + " sport=";
        return conntrack().lines().anyMatch(l -> l.indexOf(inbound) >= 0 && l.indexOf(inbound) == l.indexOf("src=")
                && l.contains(" dport=" + port + " "));
    }

    private String conntrack() {
        try {
            return Commands.ok(lab.appliance, "cat", "/proc/net/nf_conntrack");
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    private String routeMtu(String address) {
        try {
            return Commands.run(lab.appliance, null, "ip", "route", "get", address).output();
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
