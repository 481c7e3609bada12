package org.flexwall.port.store;

import static org.flexwall.api.port.AddressFamily.IPV4;
import static org.flexwall.api.port.AddressFamily.IPV6;
import static org.flexwall.api.port.Protocol.TCP;
import static org.flexwall.port.store.Sockets.owner;
import static org.flexwall.port.store.Sockets.program;
import static org.flexwall.port.store.Sockets.sha;
import static org.flexwall.port.store.Sockets.tcp4;
import static org.flexwall.port.store.Sockets.tcp6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.PortEvent;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.PortStoreListener;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.port.SocketMarker;
import org.flexwall.api.program.TrustedProgram;
import org.flexwall.testing.Await;
import org.flexwall.testing.RecordingLogger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The store as a component, run without OSGi: listeners, registry changes, the monitor and permitNow. */
class PortStoreComponentTest {
    private static final TrustedProgram SSHD = program("sshd", 'a');
    private static final TrustedProgram NGINX = program("nginx", 'b');
    private static final ListeningSocket SSH = tcp4(22, 500, owner(812, SSHD.sha256()));
    private static final ListeningSocket HTTPS = tcp6(443, 501, false, owner(700, NGINX.sha256()));

    private final List<String> log = Collections.synchronizedList(new ArrayList<>());
    private final Fakes.Registry registry = new Fakes.Registry(SSHD, NGINX);
    private final Fakes.Monitor monitor = new Fakes.Monitor();
    private final Fakes.Recorder recorder = new Fakes.Recorder();
    private PortStoreComponent store;

    @BeforeEach
    void start() {
        store = new PortStoreComponent(RecordingLogger.into(log));
        store.bindMarker((socket, verified) -> true); // every socket's kernel mark goes on
        store.bindRegistry(registry);
        store.activate(Fakes.config(0, false));
    }

    @AfterEach
    void stop() throws InterruptedException {
        store.deactivate();
    }

    private void open(ListeningSocket s) {
        store.portEvent(new PortEvent(PortEvent.Kind.OPEN, s));
    }

    private void close(ListeningSocket s) {
        store.portEvent(new PortEvent(PortEvent.Kind.CLOSE, s));
    }

    /** Records what the store asks to mark; answers false (a holder not reachable) while {@code failing}. */
    private static final class Marker implements SocketMarker {
        final List<String> asked = Collections.synchronizedList(new ArrayList<>());
        volatile boolean failing;

        @Override
        public boolean mark(ListeningSocket socket, boolean verified) {
            asked.add((verified ? "+" : "-") + socket.port() + (failing ? " failed" : ""));
            return !failing;
        }
    }

    @Test
    void aPermittedSocketIsMarkedBeforeListenersHearAndUnmarkedWhenItsProgramIsUntrusted() throws Exception {
        Marker marker = new Marker();
        store.bindMarker(marker);
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        store.addListener(new PortStoreListener() {
            @Override
            public void snapshot(Set<PortKey> open) {}

            @Override
            public void opened(PortKey port) {
                order.add("heard +" + port.port() + " after " + marker.asked);
            }

            @Override
            public void closed(PortKey port) {
                order.add("heard -" + port.port() + " after " + marker.asked);
            }
        });
        open(SSH);
        store.flush();
        assertEquals(List.of("heard +22 after [+22]"), order, "the kernel's mark is there before any set says so");

        registry.set(NGINX); // sshd untrusted: its socket still listens and loses the mark
        store.programsChanged();
        store.flush();
        assertEquals(List.of("+22", "-22"), marker.asked);
        close(SSH); // gone: nothing left to unmark
        store.flush();
        assertEquals(List.of("+22", "-22"), marker.asked);
    }

    @Test
    void aSocketThatCouldNotBeMarkedIsTriedAgainAtTheNextScan() throws Exception {
        Marker marker = new Marker();
        marker.failing = true;
        store.bindMarker(marker);
        monitor.sockets.add(HTTPS);
        store.bindMonitor(monitor);
        store.awaitReconcile();
        assertTrue(!marker.asked.isEmpty() && marker.asked.stream().allMatch("+443 failed"::equals), marker.asked.toString());
        assertTrue(log.stream().anyMatch(l -> l.contains("could not mark the socket of TCP port 443")), log.toString());
        marker.failing = false;
        store.bindMonitor(monitor); // a new scan
        store.awaitReconcile();
        assertEquals("+443", marker.asked.get(marker.asked.size() - 1), "tried again: " + marker.asked);
        int tries = marker.asked.size();
        store.bindMonitor(monitor);
        store.awaitReconcile();
        assertEquals(tries, marker.asked.size(), "marked once it worked: " + marker.asked);
    }

    @Test
    void aMarkerBoundLaterMarksWhatIsAlreadyPermitted() throws Exception {
        open(SSH);
        Marker marker = new Marker();
        store.bindMarker(marker);
        assertEquals(List.of("+22"), marker.asked);
    }

    @Test
    void listenersHearEveryChangeInOrder() throws Exception {
        store.addListener(recorder);
        open(SSH);
        open(HTTPS);
        close(SSH);
        store.flush();

        assertEquals(List.of("=[]", "+TCP/IPV4/22", "+TCP/IPV4/443", "+TCP/IPV6/443", "-TCP/IPV4/22"),
                recorder.heard);
    }

    @Test
    void theHighestRankedListenerHearsAChangeFirstWhateverOrderTheyCameIn() throws Exception {
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        for (int ranking : new int[] { 0, 100, 50 }) {
            store.addListener(new PortStoreListener() {
                @Override
                public void snapshot(Set<PortKey> open) {}

                @Override
                public void opened(PortKey port) {
                    order.add("ranked " + ranking);
                }

                @Override
                public void closed(PortKey port) {}
            }, ranking);
        }
        store.flush();
        open(SSH);
        store.flush();

        assertEquals(List.of("ranked 100", "ranked 50", "ranked 0"), order,
                "packet bypass (ranked 100), which the kernel's sets wait on, before the audit trail");
    }

    @Test
    void aPortOpensWithItsFirstPermittedSocketAndClosesWithItsLast() throws Exception {
        ListeningSocket secondSsh = tcp4(22, 510, owner(813, SSHD.sha256())); // SO_REUSEPORT
        ListeningSocket dualStack = tcp6(22, 511, false, owner(814, SSHD.sha256()));
        store.addListener(recorder);
        open(SSH);
        open(secondSsh);
        open(dualStack);
        close(SSH);
        close(secondSsh);
        store.flush();
        assertEquals(List.of("=[]", "+TCP/IPV4/22", "+TCP/IPV6/22"), recorder.heard,
                "IPv4 opened once, and stays open while the dual-stack socket serves it");

        close(dualStack);
        store.flush();
        assertEquals(List.of("=[]", "+TCP/IPV4/22", "+TCP/IPV6/22", "-TCP/IPV4/22", "-TCP/IPV6/22"), recorder.heard);
    }

    @Test
    void stoppingTheStoreTellsEveryListenerThatNothingIsOpen() throws Exception {
        store.addListener(recorder);
        open(SSH);
        store.deactivate();

        assertEquals(List.of("=[]", "+TCP/IPV4/22", "=[]"), recorder.heard,
                "nobody would tell the listener when port 22 closes: it must hold nothing open");
    }

    @Test
    void listenerBoundLaterHearsTheCurrentEntriesFirstThenChanges() throws Exception {
        open(SSH);
        open(HTTPS);
        close(SSH);
        store.addListener(recorder);
        open(tcp4(80, 502, owner(701, NGINX.sha256())));
        store.flush();

        assertEquals(List.of("=[TCP/IPV4/443, TCP/IPV6/443]", "+TCP/IPV4/80"), recorder.heard);
    }

    @Test
    void unboundListenerHearsNothingMore() throws Exception {
        store.addListener(recorder);
        open(SSH);
        store.removeListener(recorder);
        open(HTTPS);
        store.flush();

        assertFalse(recorder.heard.contains("+TCP/IPV4/443"));
    }

    @Test
    void listenerMayCallBackIntoTheStore() throws Exception {
        List<Boolean> seen = Collections.synchronizedList(new ArrayList<>());
        store.addListener(new PortStoreListener() {
            @Override
            public void snapshot(Set<PortKey> open) {}

            @Override
            public void opened(PortKey k) {
                seen.add(store.permitted().stream().anyMatch(p -> PortKey.of(p).equals(k)));
            }

            @Override
            public void closed(PortKey k) {}
        });
        open(SSH);
        store.flush();

        assertEquals(List.of(true), seen);
    }

    @Test
    void failingListenerDoesNotKeepOthersFromHearing() throws Exception {
        store.addListener(new PortStoreListener() {
            @Override
            public void snapshot(Set<PortKey> open) {}

            @Override
            public void opened(PortKey k) {
                throw new IllegalStateException("boom");
            }

            @Override
            public void closed(PortKey k) {}
        });
        store.addListener(recorder);
        open(SSH);
        store.flush();

        assertEquals(List.of("=[]", "+TCP/IPV4/22"), recorder.heard);
        assertTrue(log.stream().anyMatch(l -> l.startsWith("ERROR port store listener")), log::toString);
    }

    @Test
    void aChangeReachesTheListenersOnTheThreadThatMadeItBeforeTheEventReturns() throws Exception {
        List<String> threads = Collections.synchronizedList(new ArrayList<>());
        store.addListener(recorder);
        store.addListener(new PortStoreListener() {
            @Override
            public void snapshot(Set<PortKey> open) {}

            @Override
            public void opened(PortKey k) {
                threads.add(Thread.currentThread().getName());
            }

            @Override
            public void closed(PortKey k) {
                threads.add(Thread.currentThread().getName());
            }
        });
        store.flush(); // the store's thread fetched both listeners
        open(SSH);
        assertEquals(List.of("=[]", "+TCP/IPV4/22"), recorder.heard, "heard before portEvent returned");
        close(SSH);
        assertEquals(List.of("=[]", "+TCP/IPV4/22", "-TCP/IPV4/22"), recorder.heard);
        String self = Thread.currentThread().getName();
        assertEquals(List.of(self, self), threads, "no other thread carried the change");
    }

    @Test
    void aListenerThatHangsHoldsUpNeitherTheOthersNorItsOwnLaterChanges() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<String> slowHeard = Collections.synchronizedList(new ArrayList<>());
        store.addListener(new PortStoreListener() {
            @Override
            public void snapshot(Set<PortKey> open) {}

            @Override
            public void opened(PortKey k) {
                slowHeard.add("+" + k.port());
                try {
                    release.await(); // hangs until the test lets it go
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public void closed(PortKey k) {
                slowHeard.add("-" + k.port());
            }
        });
        store.addListener(recorder);
        store.flush();
        Thread stuck = new Thread(() -> open(SSH), "stuck-in-a-listener");
        stuck.start();
        Await.until("the first listener is called", () -> slowHeard.contains("+22"));
        Await.until("the other listener hears the port open while the first hangs", Await.DEFAULT,
                () -> recorder.heard.contains("+TCP/IPV4/22"), recorder.heard::toString);
        close(SSH); // on this thread, while the first listener still hangs: the other hears it at once
        assertEquals(List.of("=[]", "+TCP/IPV4/22", "-TCP/IPV4/22"), recorder.heard);
        assertTrue(stuck.isAlive());

        release.countDown();
        stuck.join(10_000);
        store.flush();
        assertEquals(List.of("+22", "-22"), slowHeard, "the hanging listener hears its changes in order afterwards");
    }

    @Test
    void registryGoingAwayRevokesEveryPortAndPermitsNoNewOne() throws Exception {
        store.addListener(recorder);
        open(SSH);
        store.unbindRegistry(registry);
        open(HTTPS);
        store.flush();

        assertEquals(List.of("=[]", "+TCP/IPV4/22", "-TCP/IPV4/22"), recorder.heard);
        assertTrue(store.permitted().isEmpty());
        assertFalse(store.isPermitted(TCP, IPV6, 443));
        assertTrue(log.stream().anyMatch(l -> l.startsWith("WARN no program registry is running")), log::toString);

        store.bindRegistry(registry);
        assertTrue(store.isPermitted(TCP, IPV4, 22), "known sockets open again once trust is back");
        assertTrue(store.isPermitted(TCP, IPV6, 443));
    }

    @Test
    void unusableRegistryPermitsNothingAndSaysWhy() throws Exception {
        open(SSH);
        registry.problem = "programs.json is damaged; restore it from programs.json.bak";
        store.programsChanged();
        store.flush();

        assertFalse(store.isPermitted(TCP, IPV4, 22));
        assertTrue(log.stream().anyMatch(l -> l.startsWith("ERROR the program registry is unusable: programs.json is "
                + "damaged")), log::toString);
    }

    @Test
    void untrustingAProgramRevokesItsPortsAtOnce() throws Exception {
        store.addListener(recorder);
        open(SSH);
        open(HTTPS);
        registry.set(NGINX);
        store.programsChanged();
        store.flush();

        assertFalse(store.isPermitted(TCP, IPV4, 22));
        assertTrue(store.isPermitted(TCP, IPV4, 443));
        assertEquals("-TCP/IPV4/22", recorder.heard.get(recorder.heard.size() - 1));
    }

    @Test
    void sharedSocketIsLoggedAsWarningNamingTheUntrustedProcesses() throws Exception {
        open(tcp4(8080, 503, owner(700, NGINX.sha256()), owner(4242, sha('e'))));
        store.flush();

        assertFalse(store.isPermitted(TCP, IPV4, 8080));
        assertEquals(1, store.refused().size());
        assertTrue(log.stream().anyMatch(l -> l.startsWith("WARN not opening TCP port 8080") && l.contains("nginx")
                && l.contains("pid 4242 /proc-test/4242")), log::toString);
    }

    @Test
    void monitorBoundLaterTeachesTheStoreEverySocketAlreadyListening() throws Exception {
        monitor.sockets.add(SSH);
        store.bindMonitor(monitor);
        store.awaitReconcile();

        assertTrue(store.isPermitted(TCP, IPV4, 22));
    }

    @Test
    void permitNowPermitsATrustedOwnerOnceHoweverOftenTheKernelAsks() throws Exception {
        store.bindMonitor(monitor);
        store.awaitReconcile();
        store.addListener(recorder);
        monitor.sockets.add(SSH); // listening, but its event has not arrived yet

        assertTrue(store.permitNow(TCP, IPV4, 22));
        // the kernel asks again only for a packet whose socket it did not find verified: look at the socket again
        assertTrue(store.permitNow(TCP, IPV4, 22));
        store.flush();

        assertEquals(2, monitor.ownerLookups.get());
        assertEquals(List.of("=[]", "+TCP/IPV4/22"), recorder.heard, "the same socket: no churn");
    }

    @Test
    void permitNowVerifiesATrustedProgramsNewSocketBesideItsPermittedOne() throws Exception {
        Marker marker = new Marker();
        store.bindMarker(marker);
        // sshd binds a second socket on the port (a UDP server does, per client): the kernel finds it unverified
        ListeningSocket second = tcp4(22, 510, owner(812, SSHD.sha256()));
        Fakes.Monitor m = new Fakes.Monitor() {
            @Override
            public Optional<ListeningSocket> ownerOf(Protocol protocol, AddressFamily family, int port) {
                return Optional.of(second);
            }
        };
        m.sockets.add(SSH); // what the last scan saw
        store.bindMonitor(m);
        store.awaitReconcile();
        assertEquals(List.of("+22"), marker.asked);
        assertTrue(store.permitNow(TCP, IPV4, 22));
        assertEquals(List.of("+22", "+22"), marker.asked, "both sockets carry the mark");
        assertEquals(2, store.permitted().stream().map(PermittedPort::inode).distinct().count());
    }

    @Test
    void permitNowRefusesAnUntrustedOwner() throws Exception {
        store.bindMonitor(monitor);
        store.awaitReconcile();
        monitor.sockets.add(tcp4(8080, 504, owner(900, sha('f'))));

        assertFalse(store.permitNow(TCP, IPV4, 8080));
        assertFalse(store.permitNow(TCP, IPV4, 8080));
        assertEquals(1, monitor.ownerLookups.get(), "the second packet is answered from what the store knows");
    }

    @Test
    void permitNowForAFamilyTheSocketDoesNotServeIsFalse() throws Exception {
        store.bindMonitor(new Fakes.Monitor() {
            @Override
            public Optional<ListeningSocket> ownerOf(Protocol protocol, AddressFamily family, int port) {
                return Optional.of(SSH); // a monitor that answers loosely must not open IPv6 for an IPv4 socket
            }
        });
        store.awaitReconcile();
        assertFalse(store.permitNow(TCP, IPV6, 22));
    }

    @Test
    void permitNowWithoutMonitorIsFalse() {
        assertFalse(store.permitNow(TCP, IPV4, 22));
    }

    @Test
    void permitNowNeverRefusesATrustedSocketWhoseOpenEventIsBeingApplied() throws Exception {
        // the first SYN right after listen() races the monitor's OPEN event for the same socket (found by
        // PacketPathSystemTest on a loaded machine: the SYN was dropped, the client retransmitted a second later)
        Map<Integer, ListeningSocket> listening = new ConcurrentHashMap<>();
        store.bindMonitor(new Fakes.Monitor() {
            @Override
            public Optional<ListeningSocket> ownerOf(Protocol protocol, AddressFamily family, int port) {
                return Optional.ofNullable(listening.get(port));
            }
        });
        store.awaitReconcile();
        int first = 20000;
        int count = 20000;
        AtomicInteger current = new AtomicInteger(first - 1); // below first: nothing listens yet
        AtomicInteger refused = new AtomicInteger();
        Thread packets = new Thread(() -> {
            for (int port = current.get(); port < first + count; port = current.get()) {
                if (port >= first && !store.permitNow(TCP, IPV4, port)) {
                    refused.incrementAndGet();
                }
            }
        });
        packets.start();
        for (int port = first; port < first + count; port++) {
            ListeningSocket s = tcp4(port, 10_000 + port, owner(812, SSHD.sha256()));
            listening.put(port, s); // it listens: from now on every packet to its port must be let in
            current.set(port);
            open(s);
        }
        current.set(first + count);
        packets.join();

        assertEquals(0, refused.get(), "first packets refused while a trusted socket's event was applied");
    }

    @Test
    void permitNowWhenTheMonitorFailsIsFalse() throws Exception {
        store.bindMonitor(new Fakes.Monitor() {
            @Override
            public Optional<ListeningSocket> ownerOf(Protocol protocol, AddressFamily family, int port) {
                throw new IllegalStateException("netlink socket closed");
            }
        });
        store.awaitReconcile();

        assertFalse(store.permitNow(TCP, IPV4, 22));
        assertTrue(log.stream().anyMatch(l -> l.startsWith("WARN the port monitor could not tell")), log::toString);
    }

    @Test
    void registryArrivingJustAfterStartIsNoCauseForAWarning() throws Exception {
        PortStoreComponent early = new PortStoreComponent(RecordingLogger.into(log));
        early.activate(Fakes.config(0, false));
        early.bindRegistry(registry);
        early.flush();
        early.deactivate();

        assertTrue(log.stream().noneMatch(l -> l.startsWith("WARN") || l.startsWith("ERROR")), log::toString);
    }

    @Test
    void registryUnusableAtStartIsAnErrorAtOnce() throws Exception {
        registry.problem = "programs.json is damaged";
        PortStoreComponent early = new PortStoreComponent(RecordingLogger.into(log));
        early.bindRegistry(registry);
        early.activate(Fakes.config(0, false));
        early.flush();
        early.deactivate();

        assertTrue(log.stream().anyMatch(l -> l.startsWith("ERROR the program registry is unusable")), log::toString);
    }
}
