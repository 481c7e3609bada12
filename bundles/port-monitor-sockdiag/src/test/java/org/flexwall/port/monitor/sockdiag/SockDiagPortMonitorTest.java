package org.flexwall.port.monitor.sockdiag;

import static org.flexwall.port.monitor.sockdiag.Listeners.SOCAT;
import static org.flexwall.port.monitor.sockdiag.Listeners.socat;
import static org.flexwall.port.monitor.sockdiag.Listeners.startTimeOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PortEvent;
import org.flexwall.api.port.PortEventListener;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.port.SocketOwner;
import org.flexwall.testing.Await;
import org.flexwall.testing.RecordingLogger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The component without OSGi: real listeners, real polls, events collected from a listener. */
class SockDiagPortMonitorTest {
    private final List<String> logged = Collections.synchronizedList(new ArrayList<>());
    private final Events events = new Events();
    private SockDiagPortMonitor monitor;

    @AfterEach
    void stop() throws Exception {
        if (monitor != null) {
            monitor.deactivate();
        }
    }

    private SockDiagPortMonitor start(long pollMs) {
        monitor = new SockDiagPortMonitor(RecordingLogger.into(logged));
        monitor.bindListener(events);
        monitor.start(pollMs, 1000);
        return monitor;
    }

    @Test
    void everySocketAlreadyListeningIsOpenedAtStart() throws Exception {
        try (Listeners.Listener l = socat(SOCAT, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1");
                Listeners.Listener u = socat(SOCAT, Protocol.UDP, "UDP6-RECV:%d,ipv6only=0")) {
            start(3_600_000); // only the first poll runs in this test
            PortEvent tcp = events.await(PortEvent.Kind.OPEN, l.port);
            PortEvent udp = events.await(PortEvent.Kind.OPEN, u.port);
            assertEquals(List.of(Listeners.owner(l.pid(), SOCAT, Listeners.sha256(SOCAT))),
                    tcp.socket().owners());
            assertEquals(Protocol.UDP, udp.socket().protocol());
            assertEquals(u.pid(), udp.socket().owners().get(0).pid());
        }
    }

    @Test
    void listenerStartingIsOpenedAndStoppingIsClosedWithinAFewPolls() throws Exception {
        start(20);
        events.await(e -> true); // the start-up OPENs of whatever runs on this machine
        PortEvent open;
        try (Listeners.Listener l = socat(SOCAT, Protocol.TCP, "TCP6-LISTEN:%d,ipv6only=1")) {
            open = events.await(PortEvent.Kind.OPEN, l.port);
            assertEquals(l.pid(), open.socket().owners().get(0).pid());
            assertTrue(open.socket().v6Only());
        }
        PortEvent close = events.await(PortEvent.Kind.CLOSE, open.socket().port());
        assertEquals(open.socket().inode(), close.socket().inode());
        assertEquals(1, events.count(e -> e.socket().inode() == open.socket().inode()
                && e.kind() == PortEvent.Kind.OPEN), "one OPEN per socket while its owners stay the same: "
                + events.list().stream().filter(e -> e.socket().inode() == open.socket().inode()).toList());
    }

    @Test
    void portActivityHintMakesTheMonitorPollAtOnce() throws Exception {
        start(3_600_000);
        events.await(e -> true);
        try (Listeners.Listener l = socat(SOCAT, Protocol.UDP, "UDP4-RECV:%d,bind=127.0.0.1")) {
            monitor.portActivity(Protocol.UDP, l.port);
            events.await(PortEvent.Kind.OPEN, l.port); // the next scheduled poll is an hour away
        }
    }

    @Test
    void aNewTcpListenerIsToldBeforeUdpsTablesAreReadAndAUdpSocketBoundWithItRightAfter() throws Exception {
        start(3_600_000);
        events.await(e -> true);
        try (Listeners.Listener udp = socat(SOCAT, Protocol.UDP, "UDP4-RECV:%d,bind=127.0.0.1");
                Listeners.Listener tcp = socat(SOCAT, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1")) {
            monitor.portActivity(null, 0); // one hint, as a bind gives: both are new to this poll

            List<Integer> opened = events.list().stream().filter(e -> e.kind() == PortEvent.Kind.OPEN)
                    .map(e -> e.socket().port()).filter(p -> p == udp.port || p == tcp.port).toList();
            assertEquals(List.of(tcp.port, udp.port), opened, "TCP's first, UDP's by the poll right after, both "
                    + "before the hint returned");
        }
    }

    @Test
    void portActivityHintPollsOnItsOwnThreadAndTellsTheListenersBeforeItReturns() throws Exception {
        start(3_600_000);
        events.await(e -> true);
        List<String> threads = Collections.synchronizedList(new ArrayList<>());
        try (Listeners.Listener l = socat(SOCAT, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1")) {
            monitor.bindListener(e -> {
                if (e.kind() == PortEvent.Kind.OPEN && e.socket().port() == l.port) {
                    threads.add(Thread.currentThread().getName());
                }
            });
            monitor.portActivity(Protocol.TCP, l.port);
            // the first time (a listener bound late also hears every known socket again, on the poller)
            assertEquals(Thread.currentThread().getName(), threads.isEmpty() ? "nobody" : threads.get(0),
                    "heard on the hint's thread before portActivity returned");
        }
    }

    @Test
    void aHintWhileAnotherThreadPollsMakesThatThreadPollAgainBeforeItLetsGo() throws Exception {
        start(3_600_000);
        events.await(e -> true);
        List<Listeners.Listener> started = Collections.synchronizedList(new ArrayList<>());
        List<String> heard = Collections.synchronizedList(new ArrayList<>());
        try (Listeners.Listener first = socat(SOCAT, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1")) {
            monitor.bindListener(e -> {
                if (e.kind() != PortEvent.Kind.OPEN) {
                    return;
                }
                if (e.socket().port() == first.port && started.isEmpty()) {
                    try { // while this thread polls: a second socket, and another thread's hint for it
                        started.add(socat(SOCAT, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1"));
                        Thread hinter = new Thread(() -> monitor.portActivity(Protocol.TCP, 0));
                        hinter.start();
                        hinter.join(10_000);
                        heard.add(hinter.isAlive() ? "hinter still polling" : "hinter returned");
                    } catch (Exception x) {
                        throw new IllegalStateException(x);
                    }
                } else if (!started.isEmpty() && e.socket().port() == started.get(0).port && heard.size() == 1) {
                    // the first time (a listener bound late hears every known socket again, on the poller)
                    heard.add("second on " + Thread.currentThread().getName());
                }
            });
            monitor.portActivity(Protocol.TCP, first.port);
            assertEquals(List.of("hinter returned", "second on " + Thread.currentThread().getName()), heard,
                    "the hint found this thread polling and left the poll to it");
        } finally {
            for (Listeners.Listener l : started) {
                l.close();
            }
        }
    }

    @Test
    void socketsQueriesFoundAndThatClosedBeforeAnyPollSawThemAreClosedByTheNextPoll() throws Exception {
        // The port store learns sockets from queries too (its periodic full scan, a first packet's owner query): a
        // socket closed before any poll saw it used to stay permitted until the store's next full scan, 10 s later.
        try (Listeners.Listener marker = socat(SOCAT, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1")) {
            start(3_600_000); // polls only when told to
            events.await(PortEvent.Kind.OPEN, marker.port); // the first poll is over
            ListeningSocket byOwnerOf;
            ListeningSocket byListening;
            try (Listeners.Listener a = socat(SOCAT, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1");
                    Listeners.Listener b = socat(SOCAT, Protocol.UDP, "UDP4-RECV:%d,bind=127.0.0.1")) {
                byOwnerOf = monitor.ownerOf(Protocol.TCP, AddressFamily.IPV4, a.port).orElseThrow();
                byListening = monitor.listening().stream()
                        .filter(s -> s.protocol() == Protocol.UDP && s.port() == b.port).findFirst().orElseThrow();
            }
            try (Listeners.Listener stays = socat(SOCAT, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1")) {
                ListeningSocket live = monitor.ownerOf(Protocol.TCP, AddressFamily.IPV4, stays.port).orElseThrow();
                monitor.portActivity(null, 0); // one poll
                for (ListeningSocket gone : List.of(byOwnerOf, byListening)) {
                    assertEquals(gone.inode(), events.await(PortEvent.Kind.CLOSE, gone.port()).socket().inode());
                    assertEquals(0, events.count(e -> e.socket().inode() == gone.inode()
                            && e.kind() == PortEvent.Kind.OPEN), "never opened by a poll");
                }
                assertEquals(live.inode(), events.await(PortEvent.Kind.OPEN, stays.port).socket().inode());
                assertEquals(0, events.count(e -> e.socket().inode() == live.inode()
                        && e.kind() == PortEvent.Kind.CLOSE), "a socket still listening is not closed");
            }
        }
    }

    @Test
    void listenerBoundLateIsToldOfTheSocketsAlreadyOpen() throws Exception {
        try (Listeners.Listener l = socat(SOCAT, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1")) {
            start(3_600_000);
            events.await(PortEvent.Kind.OPEN, l.port);
            Events late = new Events();
            monitor.bindListener(late);
            assertEquals(l.pid(), late.await(PortEvent.Kind.OPEN, l.port).socket().owners().get(0).pid());
        }
    }

    @Test
    void ownerChangeOfALiveSocketIsReportedAsOpenAgain() throws Exception {
        start(20);
        try (OwnerResolverTest.Python py = new OwnerResolverTest.Python("""
                import os, socket, sys, time
                s = socket.socket()
                s.bind(('127.0.0.1', 0))
                s.listen()
                print(s.getsockname()[1], flush=True)
                sys.stdin.readline()
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
                time.sleep(60)
                """)) {
            int port = Integer.parseInt(py.line());
            PortEvent first = events.await(PortEvent.Kind.OPEN, port);
            assertEquals(1, first.socket().owners().size());
            py.send("fork");
            PortEvent second = events.await(e -> e.kind() == PortEvent.Kind.OPEN && e.socket().port() == port
                    && e.socket().owners().size() == 2);
            assertEquals(first.socket().inode(), second.socket().inode());
            assertFalse(events.list().stream().anyMatch(e -> e.kind() == PortEvent.Kind.CLOSE
                    && e.socket().inode() == first.socket().inode()), "never closed while it listens");
        }
    }

    @Test
    void forkedChildAndItsExitChangeTheOwnersWithoutTheRescanTimer() throws Exception {
        monitor = new SockDiagPortMonitor(RecordingLogger.into(logged));
        monitor.bindListener(events);
        monitor.start(20, 3_600_000); // no timed owner rescan: only a new socket or processes coming and going count
        try (OwnerResolverTest.Python py = new OwnerResolverTest.Python("""
                import os, socket, sys, time
                s = socket.socket()
                s.bind(('127.0.0.1', 0))
                s.listen()
                print(s.getsockname()[1], flush=True)
                sys.stdin.readline()
                child = os.fork()
                if child == 0:
                    time.sleep(60)
                    os._exit(0)
                print(child, flush=True)
                sys.stdin.readline()
                os.kill(child, 9)
                os.waitpid(child, 0)
                print('gone', flush=True)
                time.sleep(60)
                """)) {
            int port = Integer.parseInt(py.line());
            long inode = events.await(PortEvent.Kind.OPEN, port).socket().inode();
            Predicate<PortEvent> opened = e -> e.kind() == PortEvent.Kind.OPEN && e.socket().inode() == inode;
            py.send("fork");
            int child = Integer.parseInt(py.line());
            PortEvent shared = events.await(opened.and(e -> e.socket().owners().size() == 2));
            assertEquals(List.of(Math.min(py.pid(), child), Math.max(py.pid(), child)),
                    shared.socket().owners().stream().map(SocketOwner::pid).toList());
            assertEquals(startTimeOf(child), shared.socket().owners().stream().filter(o -> o.pid() == child)
                    .findFirst().orElseThrow().startTime());
            py.send("kill");
            assertEquals("gone", py.line());
            Await.until("the third OPEN of the socket", () -> events.count(opened) >= 3);
            List<PortEvent> opens = events.list().stream().filter(opened).toList();
            assertEquals(3, opens.size(), opens.toString());
            assertEquals(List.of(py.pid()), opens.get(2).socket().owners().stream().map(SocketOwner::pid).toList());
            assertEquals(opens.get(0).socket().owners(), opens.get(2).socket().owners(), "the parent as it was");
            // an observation window, not synchronisation: ten polls with other processes coming and going
            Thread.sleep(200);
            assertEquals(3, events.count(opened));
            assertEquals(0, events.count(e -> e.kind() == PortEvent.Kind.CLOSE && e.socket().inode() == inode));
        }
    }

    @Test
    void ownerOfAnswersAnIpv4PacketWithADualStackSocketButNotWithAV6OnlyOne() throws Exception {
        start(3_600_000);
        try (Listeners.Listener dual = socat(SOCAT, Protocol.TCP, "TCP6-LISTEN:%d,ipv6only=0");
                Listeners.Listener v6 = socat(SOCAT, Protocol.TCP, "TCP6-LISTEN:%d,ipv6only=1")) {
            ListeningSocket s = monitor.ownerOf(Protocol.TCP, AddressFamily.IPV4, dual.port).orElseThrow();
            assertEquals(AddressFamily.IPV6, s.family());
            assertEquals(dual.pid(), s.owners().get(0).pid());
            assertEquals(Listeners.sha256(SOCAT), s.owners().get(0).sha256());
            assertEquals(Optional.empty(), monitor.ownerOf(Protocol.TCP, AddressFamily.IPV4, v6.port));
            assertEquals(v6.pid(), monitor.ownerOf(Protocol.TCP, AddressFamily.IPV6, v6.port).orElseThrow()
                    .owners().get(0).pid());
            assertEquals(Optional.empty(), monitor.ownerOf(Protocol.UDP, AddressFamily.IPV6, v6.port));
        }
    }

    @Test
    void ownerOfPrefersTheSocketOnAnyAddressOverALoopbackOne() throws Exception {
        start(3_600_000);
        int port = Listeners.freePort(Protocol.UDP);
        try (Listeners.Listener a = socat(SOCAT, Protocol.UDP, "UDP4-RECV:%d,bind=127.0.0.1,reuseaddr", port,
                "127.0.0.1");
                Listeners.Listener b = socat(SOCAT, Protocol.UDP, "UDP4-RECV:%d,bind=0.0.0.0,reuseaddr", port,
                        "0.0.0.0")) {
            ListeningSocket s = monitor.ownerOf(Protocol.UDP, AddressFamily.IPV4, port).orElseThrow();
            assertEquals("0.0.0.0", s.addressText());
            assertEquals(b.pid(), s.owners().get(0).pid());
        }
    }

    @Test
    void ownerOfAPortNobodyListensOnIsEmpty() throws Exception {
        start(3_600_000);
        int port = Listeners.freePort(Protocol.TCP);
        assertEquals(Optional.empty(), monitor.ownerOf(Protocol.TCP, AddressFamily.IPV4, port));
        assertEquals(Optional.empty(), monitor.ownerOf(Protocol.TCP, AddressFamily.IPV4, 0));
    }

    @Test
    void listeningIsAFreshScanWithOwners() throws Exception {
        start(3_600_000);
        try (Listeners.Listener l = socat(SOCAT, Protocol.UDP, "UDP4-RECV:%d,bind=127.0.0.1")) {
            ListeningSocket s = Listeners.only(monitor.listening(), Protocol.UDP, AddressFamily.IPV4, l.port);
            assertEquals(l.pid(), s.owners().get(0).pid());
        }
    }

    @Test
    void failingListenerDoesNotStopTheOthers() throws Exception {
        monitor = new SockDiagPortMonitor(RecordingLogger.into(logged));
        monitor.bindListener(e -> {
            throw new IllegalStateException("listener bug");
        });
        monitor.bindListener(events);
        try (Listeners.Listener l = socat(SOCAT, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1")) {
            monitor.start(3_600_000, 1000);
            events.await(PortEvent.Kind.OPEN, l.port);
            assertTrue(logged.stream().anyMatch(m -> m.startsWith("ERROR a port event listener failed")), logged.toString());
        }
    }

    /** Collects events; waits for one with a deadline (a missing event fails, a slow one does not). */
    static final class Events implements PortEventListener {
        private final List<PortEvent> list = new ArrayList<>();

        @Override
        public synchronized void portEvent(PortEvent event) {
            list.add(event);
            notifyAll();
        }

        synchronized List<PortEvent> list() {
            return List.copyOf(list);
        }

        synchronized long count(Predicate<PortEvent> p) {
            return list.stream().filter(p).count();
        }

        PortEvent await(PortEvent.Kind kind, int port) throws InterruptedException {
            return await(e -> e.kind() == kind && e.socket().port() == port);
        }

        synchronized PortEvent await(Predicate<PortEvent> p) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (true) {
                for (PortEvent e : list) {
                    if (p.test(e)) {
                        return e;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("no such event within 10 s; got " + list);
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
    }
}
