package org.flexwall.port.monitor.sockdiag;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PortActivityListener;
import org.flexwall.api.port.PortEvent;
import org.flexwall.api.port.PortEventListener;
import org.flexwall.api.port.PortMonitor;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.port.SocketMarker;
import org.flexwall.api.port.SocketOwner;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The port monitor for Linux (FIG. 7, S701): polls netlink sock_diag for listening TCP and bound UDP sockets,
 * finds their owners ({@link OwnerResolver}: every socket descriptor from one read of a BPF task_file iterator where
 * the kernel allows it, /proc/PID/fd otherwise; each owner identified through /proc/PID), and tells every
 * {@link PortEventListener} what opened and closed. A
 * {@link PortActivityListener} hint (the tracefs bundle) makes it poll at once, on the hint's thread, instead of at the
 * next interval.
 */
@Component(name = SockDiagPortMonitor.PID, immediate = true,
        service = { PortMonitor.class, PortActivityListener.class, SocketMarker.class },
        property = "flexwall.monitor=sockdiag")
@Designate(ocd = SockDiagPortMonitor.Config.class)
public class SockDiagPortMonitor implements PortMonitor, PortActivityListener, SocketMarker {
    static final String PID = "org.flexwall.port.monitor.sockdiag";

    @ObjectClassDefinition(name = "flexwall port monitor (sock_diag)",
            description = "Finds listening TCP and bound UDP sockets and the programs holding them")
    public @interface Config {
        @AttributeDefinition(name = "Poll interval (ms)", min = "1",
                description = "Milliseconds between two scans of the kernel's socket tables; the "
                + "longest a port opened or closed goes unnoticed when no kernel tracepoint wakes the monitor")
        long poll_interval_ms() default 200;

        @AttributeDefinition(name = "Owner re-scan (ms)", min = "0",
                description = "Milliseconds after which every process is searched for socket owners "
                + "again even when no socket and no process came or went (catches an owner that exec'd another "
                + "program without a new socket, or a socket passed between running processes); also the longest "
                + "that what a holder's image is may be taken from its last reading for its next socket")
        long owner_rescan_ms() default 1000;
    }

    @Reference(service = LoggerFactory.class)
    private Logger log;

    private final List<PortEventListener> listeners = new CopyOnWriteArrayList<>();
    private volatile OwnerResolver resolver; // set by start(), before any poll or query
    private final AtomicBoolean pollQueued = new AtomicBoolean(); // a poll is asked for and has not started
    // One poll at a time, on whichever thread asked (the tracefs reader's hint, the poller's schedule); guards what a
    // poll keeps (pollScanner, diff, lastPids, lastOwnerScan, failing) and orders the listeners' events.
    private final ReentrantLock polling = new ReentrantLock();
    private volatile ScheduledExecutorService poller;
    private SocketScanner pollScanner;   // under polling
    private volatile SocketScanner queryScanner; // ownerOf and listening, under its own lock
    private final SocketDiff diff = new SocketDiff(); // under polling
    private final SocketMarks marks = new SocketMarks();
    // Sockets a query (listening, ownerOf) told someone of: the next poll closes those gone that no poll had seen, or
    // a socket found by a query and closed before any poll would stay open for whoever heard of it.
    private final Map<Long, ListeningSocket> toldByQueries = new ConcurrentHashMap<>();
    // Processes that took a socket from another process (pidfd_getfd), by socket inode: holders until the socket
    // closes, even once they let go of the duplicate, since they may take it again at any moment.
    private final Map<Long, Taken> takers = new ConcurrentHashMap<>();

    /** The takers of one socket, and when the last was noticed (System.nanoTime). */
    private record Taken(List<SocketOwner> owners, long at) {}
    private int[] lastPids = {};
    private long lastOwnerScan;
    private long ownerRescanNanos;
    private boolean failing;
    private boolean udpPostponed; // under polling: the last poll took UDP's sockets from the one before
    private final AtomicBoolean forceOwnerScan = new AtomicBoolean();

    public SockDiagPortMonitor() {}

    /** For tests without OSGi. */
    SockDiagPortMonitor(Logger log) {
        this.log = log;
    }

    @Activate
    void activate(Config config) {
        start(config.poll_interval_ms(), config.owner_rescan_ms());
    }

    void start(long pollIntervalMs, long ownerRescanMs) {
        if (pollIntervalMs < 1 || ownerRescanMs < 0) {
            throw new IllegalArgumentException("poll_interval_ms must be at least 1 and owner_rescan_ms at least 0, "
                    + "not " + pollIntervalMs + " and " + ownerRescanMs);
        }
        ownerRescanNanos = TimeUnit.MILLISECONDS.toNanos(ownerRescanMs);
        try {
            Libc.ready();
        } catch (LinkageError | UnsupportedOperationException e) {
            throw new IllegalStateException("the port monitor cannot reach libc through JNA (" + e
                    + "); no port will be opened for any program. Check that the JNA bundle for this platform is "
                    + "installed and that flexwall runs on 64-bit Linux", e);
        }
        OwnerResolver owners = new OwnerResolver(descriptorIterator());
        owners.reuseIdentities(ownerRescanNanos); // a new socket's holder is read in full no more often than all are
        resolver = owners;
        pollScanner = new SocketScanner();
        queryScanner = new SocketScanner();
        ScheduledExecutorService p = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "flexwall-port-monitor");
            t.setDaemon(true);
            return t;
        });
        poller = p;
        // The first poll opens every live socket: listeners rebuild their state from it after a restart.
        p.scheduleWithFixedDelay(this::poll, 0, pollIntervalMs, TimeUnit.MILLISECONDS);
        log.info("port monitor started: sock_diag every {} ms, owners re-checked at least every {} ms",
                pollIntervalMs, ownerRescanMs);
    }

    /** The BPF iterator over every descriptor, or null (then /proc/PID/fd): the same answers, the first far cheaper. */
    private TaskFileIterator descriptorIterator() {
        try {
            TaskFileIterator it = TaskFileIterator.open();
            log.info("socket owners are read in one pass of a BPF task_file iterator");
            return it;
        } catch (IllegalStateException | LinkageError e) {
            log.warn("socket owners are read through /proc/PID/fd, one call per descriptor, as the BPF iterator "
                    + "cannot be used: {}. Nothing is less safe, but a full owner scan costs several times more CPU",
                    e.getMessage());
            return null;
        }
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        ScheduledExecutorService p = poller;
        poller = null;
        if (p != null) {
            p.shutdownNow();
            p.awaitTermination(5, TimeUnit.SECONDS);
        }
        polling.lock(); // after a poll a hint runs on its own thread
        try {
            if (pollScanner != null) {
                pollScanner.close();
                pollScanner = null;
            }
        } finally {
            polling.unlock();
        }
        SocketScanner q = queryScanner;
        queryScanner = null; // ownerOf after this fails instead of opening a new netlink socket
        if (q != null) {
            q.close();
        }
        OwnerResolver r = resolver;
        if (r != null) {
            r.close(); // the BPF link and program, which would otherwise outlive a bundle update
        }
    }

    // --- references ---------------------------------------------------------------------------------------------

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void bindListener(PortEventListener l) {
        listeners.add(l);
        ScheduledExecutorService p = poller;
        if (p != null) {
            // A listener that arrives late learns the sockets already open, in order with the polls.
            execute(p, () -> {
                polling.lock();
                try {
                    if (listeners.contains(l)) {
                        for (ListeningSocket s : diff.known()) {
                            deliver(l, new PortEvent(PortEvent.Kind.OPEN, s));
                        }
                    }
                } finally {
                    polling.unlock();
                }
                pollAsked(false); // a hint that came meanwhile found the lock held and left its poll to us
            });
        }
    }

    void unbindListener(PortEventListener l) {
        listeners.remove(l);
    }

    // --- PortActivityListener -----------------------------------------------------------------------------------

    /**
     * Polls on the hint's own thread (the tracefs reader): the event goes from there through the store to the kernel
     * hooks without waking another thread. When a poll is running already, it polls once more before it lets go:
     * hints come in bursts, and one poll after the last covers them all.
     */
    @Override
    public void portActivity(Protocol protocol, int port) {
        if (poller != null) {
            pollQueued.set(true);
            pollAsked(false);
        }
    }

    @Override
    public void socketTaken(int pid, long inode) {
        if (pid == OwnerResolver.SELF || pid <= 0) {
            return; // flexwall marking a socket (SocketMarker) takes a duplicate itself
        }
        OwnerResolver r = resolver;
        if (inode > 0 && r != null) {
            SocketOwner taker = r.identifyTaker(pid);
            Taken before = takers.get(inode);
            takers.compute(inode, (k, known) -> {
                List<SocketOwner> list = new ArrayList<>(known == null ? List.of() : known.owners());
                list.removeIf(o -> o.pid() == pid);
                list.add(taker);
                return new Taken(List.copyOf(list), System.nanoTime());
            });
            if (before == null || before.owners().stream().noneMatch(o -> o.pid() == pid)) { // once, not per burst
                log.warn("pid {} ({}) took socket {} from another process (pidfd_getfd): it counts as a holder of "
                        + "that socket until the socket closes", pid, taker.executable(), inode);
            }
        }
        // A known socket gets its takers added by the next poll, which every kind of poll does; an unknown one needs
        // every holder looked up again. (Tracepoints are global: most takings are of other namespaces' sockets.)
        if (inode <= 0) {
            forceOwnerScan.set(true);
        }
        portActivity(null, 0);
    }

    /** How many sockets have takers remembered (for tests). */
    int takenSockets() {
        return takers.size();
    }

    // --- PortMonitor --------------------------------------------------------------------------------------------

    @Override
    public boolean mark(ListeningSocket socket, boolean verified) {
        OwnerResolver r = resolver;
        return r != null && marks.mark(socket, r.holders(socket.inode()), verified);
    }

    @Override
    public List<ListeningSocket> listening() {
        List<ListeningSocket> sockets;
        try {
            sockets = query().scan();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return told(stillThere(withOwners(sockets, resolver.resolveAll(inodes(sockets), true)), query()));
    }

    @Override
    public Optional<ListeningSocket> ownerOf(Protocol protocol, AddressFamily family, int port) {
        if (port < 1 || port > 65535) {
            return Optional.empty();
        }
        List<ListeningSocket> found;
        try {
            // An IPv4 packet may also reach a dual-stack IPv6 socket, so IPv4 asks both families.
            found = query().scanPort(protocol, port, family == AddressFamily.IPV4, true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return choose(found, protocol, family, port)
                .map(s -> told(withOwners(s, resolver.resolve(s.inode()))));
    }

    private List<ListeningSocket> told(List<ListeningSocket> sockets) {
        sockets.forEach(this::told);
        return sockets;
    }

    private ListeningSocket told(ListeningSocket s) {
        toldByQueries.put(s.inode(), s);
        return s;
    }

    /**
     * Of the sockets on a port, the one a new packet from the network most likely reaches: a wildcard socket of the
     * packet's own family before a dual-stack one, any of them before a socket bound to one address, loopback last.
     */
    static Optional<ListeningSocket> choose(List<ListeningSocket> found, Protocol protocol, AddressFamily family,
            int port) {
        return found.stream()
                .filter(s -> s.protocol() == protocol && s.port() == port && s.serves(family))
                .min(Comparator.comparingInt((ListeningSocket s) -> rank(s, family))
                        .thenComparingLong(ListeningSocket::inode));
    }

    private static int rank(ListeningSocket s, AddressFamily family) {
        if (s.isLoopback()) {
            return 3;
        }
        if (!s.isWildcard()) {
            return 2;
        }
        return s.family() == family ? 0 : 1;
    }

    // --- polling ------------------------------------------------------------------------------------------------

    /** One scan and its events (S701), done when this returns: the poller's schedule, and tests. */
    void poll() {
        pollQueued.set(true);
        pollAsked(true);
    }

    /**
     * Runs the polls asked for on this thread; unless {@code wait}, only if no other thread is polling, which then
     * polls again before it lets go (it looks once more after letting go, for a hint that came just then).
     */
    private void pollAsked(boolean wait) {
        do {
            if (wait) {
                polling.lock();
            } else if (!polling.tryLock()) {
                return;
            }
            try {
                while (pollQueued.getAndSet(false)) {
                    pollSafely();
                }
            } finally {
                polling.unlock();
            }
            wait = false;
        } while (pollQueued.get());
    }

    private void pollSafely() {
        if (pollScanner == null) {
            return; // deactivated
        }
        try {
            pollOnce();
        } catch (RuntimeException | LinkageError e) {
            // Never let one bad poll end the schedule: the next one may well work.
            log.error("port monitor poll failed: {}", e.toString(), e);
        }
    }

    private void pollOnce() {
        // Taken before the scan: each was seen by a query that ended before this scan starts.
        List<ListeningSocket> told = new ArrayList<>();
        for (ListeningSocket s : toldByQueries.values()) {
            if (toldByQueries.remove(s.inode(), s) && !diff.knows(s.inode())) {
                told.add(s);
            }
        }
        List<ListeningSocket> sockets;
        long started = System.nanoTime();
        try {
            sockets = scanTcpFirst();
        } catch (IOException e) {
            told.forEach(s -> toldByQueries.putIfAbsent(s.inode(), s)); // for the next poll that works
            if (!failing) {
                failing = true;
                log.error("scanning listening sockets failed, keeping the last known ports until it works again: {}",
                        e.getMessage(), e);
            }
            return;
        }
        if (failing) {
            failing = false;
            log.info("scanning listening sockets works again");
        }
        int[] pids = resolver.pids();
        long now = System.nanoTime();
        boolean newSocket = sockets.stream().anyMatch(s -> !diff.knows(s.inode()));
        boolean forced = forceOwnerScan.getAndSet(false);
        List<ListeningSocket> scan;
        // Owners can only change when a socket or a process came or went, or by exec / fd passing (the timer).
        boolean rescan = forced || now - lastOwnerScan >= ownerRescanNanos;
        if (newSocket || rescan) {
            // for a new socket only its holders are read: the others' identification waits for the timer
            Map<Long, List<SocketOwner>> owners = rescan ? resolver.resolveAll(inodes(sockets), true, pids)
                    : resolver.resolveAll(inodes(sockets), true, pids, knownOwners());
            scan = stillThere(withOwners(sockets, owners), pollScanner);
            lastPids = pids;
            if (rescan) {
                lastOwnerScan = now;
            }
        } else if (!Arrays.equals(pids, lastPids)) {
            scan = afterProcessesChanged(sockets, pids);
            lastPids = pids;
        } else {
            Map<Long, ListeningSocket> before = diff.byInode();
            scan = new ArrayList<>(sockets.size());
            for (ListeningSocket s : sockets) {
                scan.add(withOwners(s, before.get(s.inode()).owners()));
            }
        }
        List<PortEvent> events = new ArrayList<>();
        if (!told.isEmpty()) {
            Set<Long> live = new HashSet<>(inodes(sockets));
            for (ListeningSocket s : told) {
                if (!live.contains(s.inode())) {
                    events.add(new PortEvent(PortEvent.Kind.CLOSE, s)); // closed before any poll saw it
                }
            }
        }
        events.addAll(diff.update(scan));
        // A socket this scan did not see is closed, and forgotten with its takers; unless it was taken after the
        // scan began, when it may simply be newer than the scan.
        Set<Long> live = new HashSet<>(inodes(scan));
        takers.entrySet().removeIf(e -> !live.contains(e.getKey()) && e.getValue().at() - started < 0);
        for (PortEvent e : events) {
            for (PortEventListener l : listeners) {
                deliver(l, e);
            }
        }
    }

    /**
     * The sockets now; but when a TCP listener is new, UDP's as the last poll saw them, and the poll right after this
     * one reads UDP's tables: the new listener reaches the kernel without waiting for two more sock_diag walks (a
     * bind wakes the monitor before the listen() that follows it, so a TCP service's first poll used to read both).
     * Never twice in a row, so UDP's tables are read at least every other poll. Under polling.
     */
    private List<ListeningSocket> scanTcpFirst() throws IOException {
        List<ListeningSocket> sockets = pollScanner.scan(Protocol.TCP);
        // not at the first poll, which opens every live socket at once
        if (!udpPostponed && !diff.isEmpty() && sockets.stream().anyMatch(s -> !diff.knows(s.inode()))) {
            for (ListeningSocket s : diff.known()) {
                if (s.protocol() == Protocol.UDP) {
                    sockets.add(s);
                }
            }
            udpPostponed = true;
            pollQueued.set(true);
            return sockets;
        }
        udpPostponed = false;
        sockets.addAll(pollScanner.scan(Protocol.UDP));
        return sockets;
    }

    /** The owners of each socket as the last poll told them. Under polling. */
    private Map<Long, List<SocketOwner>> knownOwners() {
        Map<Long, List<SocketOwner>> known = new HashMap<>();
        diff.byInode().forEach((inode, s) -> known.put(inode, s.owners()));
        return known;
    }

    /**
     * Owners when no socket is new but processes came or went: one that went holds nothing any more, and only the
     * new ones are read, for a socket inherited through fork. (Reading every process again each time cost 100+ ms at
     * 10 000 sockets on a machine where processes start all the time.) Under polling.
     */
    private List<ListeningSocket> afterProcessesChanged(List<ListeningSocket> sockets, int[] pids) {
        resolver.forget(missing(lastPids, pids));
        Map<Long, List<SocketOwner>> inherited = resolver.resolveAmong(inodes(sockets), missing(pids, lastPids));
        Map<Long, ListeningSocket> before = diff.byInode();
        List<ListeningSocket> out = new ArrayList<>(sockets.size());
        for (ListeningSocket s : sockets) {
            List<SocketOwner> owners = new ArrayList<>();
            for (SocketOwner o : before.get(s.inode()).owners()) {
                if (Arrays.binarySearch(pids, o.pid()) >= 0) {
                    owners.add(o);
                }
            }
            for (SocketOwner o : inherited.getOrDefault(s.inode(), List.of())) {
                if (owners.stream().noneMatch(known -> known.pid() == o.pid())) {
                    owners.add(o);
                }
            }
            owners.sort(Comparator.comparingInt(SocketOwner::pid));
            out.add(withOwners(s, owners));
        }
        return out;
    }

    /** The pids of {@code a} that are not in {@code b}, ascending (both ascending). */
    static int[] missing(int[] a, int[] b) {
        return Arrays.stream(a).filter(pid -> Arrays.binarySearch(b, pid) < 0).toArray();
    }

    private void deliver(PortEventListener l, PortEvent e) {
        try {
            l.portEvent(e);
        } catch (RuntimeException x) {
            log.error("a port event listener failed on {} {} port {}", e.kind(), e.socket().protocol(),
                    e.socket().port(), x);
        }
    }

    private void execute(ScheduledExecutorService p, Runnable r) {
        try {
            p.execute(r);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // deactivated meanwhile
        }
    }

    private SocketScanner query() {
        SocketScanner s = queryScanner;
        if (s == null) {
            throw new IllegalStateException("the port monitor is not active");
        }
        return s;
    }

    private static List<Long> inodes(List<ListeningSocket> sockets) {
        List<Long> out = new ArrayList<>(sockets.size());
        for (ListeningSocket s : sockets) {
            out.add(s.inode());
        }
        return out;
    }

    private List<ListeningSocket> withOwners(List<ListeningSocket> sockets, Map<Long, List<SocketOwner>> owners) {
        List<ListeningSocket> out = new ArrayList<>(sockets.size());
        for (ListeningSocket s : sockets) {
            out.add(withOwners(s, owners.getOrDefault(s.inode(), List.of())));
        }
        return out;
    }

    /** The socket with {@code owners}, and every process that ever took it from another (pidfd_getfd). */
    private ListeningSocket withOwners(ListeningSocket s, List<SocketOwner> owners) {
        Taken taken = takers.isEmpty() ? null : takers.get(s.inode()); // no boxing per socket in the usual case
        List<SocketOwner> all = owners;
        if (taken != null) {
            all = new ArrayList<>(owners);
            for (SocketOwner t : taken.owners()) {
                all.removeIf(o -> o.pid() == t.pid());
                all.add(t);
            }
            all.sort(Comparator.comparingInt(SocketOwner::pid));
        }
        return new ListeningSocket(s.protocol(), s.family(), s.address(), s.port(), s.inode(), s.v6Only(), all);
    }

    /**
     * Of the sockets of a scan, those that nobody seemed to hold are looked up again: one closed between the socket
     * dump and the owner scan is dropped, as if the dump had come a moment later; one still there really has no
     * holder (passed in a SCM_RIGHTS message, say) and is reported so, without owners.
     */
    static List<ListeningSocket> stillThere(List<ListeningSocket> scan, SocketScanner scanner) {
        if (scan.stream().noneMatch(s -> s.owners().isEmpty())) {
            return scan;
        }
        List<ListeningSocket> out = new ArrayList<>(scan.size());
        for (ListeningSocket s : scan) {
            if (!s.owners().isEmpty() || present(s, scanner)) {
                out.add(s);
            }
        }
        return out;
    }

    private static boolean present(ListeningSocket s, SocketScanner scanner) {
        try {
            boolean v4 = s.family() == AddressFamily.IPV4;
            return scanner.scanPort(s.protocol(), s.port(), v4, !v4).stream().anyMatch(x -> x.inode() == s.inode());
        } catch (IOException e) {
            return true; // cannot tell: keep it, ownerless, which opens nothing
        }
    }
}
