package org.flexwall.port.store;

import java.time.Instant;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.PortEvent;
import org.flexwall.api.port.PortEventListener;
import org.flexwall.api.port.PortMonitor;
import org.flexwall.api.port.PortStore;
import org.flexwall.api.port.PortStoreListener;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.port.RefusedSocket;
import org.flexwall.api.port.SocketMarker;
import org.flexwall.api.program.ProgramRegistry;
import org.flexwall.api.program.ProgramRegistryListener;
import org.osgi.framework.Constants;
import org.osgi.service.component.ComponentServiceObjects;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The permitted-port storage (Table 2) as a service: follows the port monitor's events (FIG. 7), the program
 * registry's trust, and tells every {@link PortStoreListener} which ports (protocol, family, port) open and close:
 * the one source of truth for them, which packet-bypass and the nftables hook follow without counting sockets again.
 *
 * <p>Fail closed: without a usable program registry nothing is permitted and what was permitted is revoked.
 * Locking: {@code lock} orders the store's changes and is never held while calling the registry, the monitor or a
 * listener, so none of them can deadlock with the store.
 */
@Component(name = PortStoreComponent.PID, immediate = true,
        service = { PortStore.class, PortEventListener.class, ProgramRegistryListener.class })
@Designate(ocd = PortStoreComponent.Config.class)
public class PortStoreComponent implements PortStore, PortEventListener, ProgramRegistryListener {
    static final String PID = "org.flexwall.port.store";

    @ObjectClassDefinition(name = "flexwall port store", description = "Which listening sockets get an open port")
    public @interface Config {
        @AttributeDefinition(name = "Re-check interval (s)", min = "0",
                description = "Seconds between full re-checks of every listening socket and its owners "
                + "(catches a process that inherited a permitted socket, and events missed during a monitor update); "
                + "0 turns the re-check off")
        int reconcile_interval_seconds() default 10;

        @AttributeDefinition(name = "Open loopback-only listeners",
                description = "Open the port of a trusted program that listens on a loopback address "
                + "only. Off by default: no packet from the network reaches such a socket, so an open port would only "
                + "make the kernel answer scans with resets")
        boolean loopback_permitted() default false;
    }

    @Reference(service = LoggerFactory.class)
    private Logger log;

    private volatile ProgramRegistry registry;
    private volatile PortMonitor monitor;
    private volatile SocketMarker marker;
    // Guarded by lock: permitted sockets whose kernel mark could not be set (no marker, or the holder was busy
    // changing); the kernel drops their packets until a later try succeeds.
    private final Set<Long> unmarked = new HashSet<>();
    private final Set<Long> reportedUnmarked = new HashSet<>(); // guarded by lock

    private final Object lock = new Object();
    private final AtomicLong trustReads = new AtomicLong();
    private long trustApplied; // guarded by lock: the newest registry read applied so far
    private final Notifier notifier = new Notifier((message, e) -> log().error(message, e));
    private volatile PermittedPorts ports = new PermittedPorts(false); // replaced at activation, before any event
    private volatile ScheduledExecutorService reconciler;
    // Guarded by lock: to log fail-closed transitions once; null until the first registry read.
    private Boolean registryWasUsable;
    private static final int REGISTRY_GRACE_SECONDS = 10;

    public PortStoreComponent() {}

    /** For tests without OSGi. */
    PortStoreComponent(Logger log) {
        this.log = log;
    }

    @Activate
    void activate(Config config) {
        synchronized (lock) {
            ports = new PermittedPorts(config.loopback_permitted());
        }
        notifier.start("flexwall-port-store");
        refreshTrust();
        reconciler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "flexwall-port-store-reconcile");
            t.setDaemon(true);
            return t;
        });
        reconciler.schedule(() -> {
            if (registry == null) {
                log().warn("no program registry is running {} s after start; no port is opened for any program "
                        + "until one is (fail closed)", REGISTRY_GRACE_SECONDS);
            }
        }, REGISTRY_GRACE_SECONDS, TimeUnit.SECONDS);
        int interval = config.reconcile_interval_seconds();
        if (interval > 0) {
            reconciler.scheduleWithFixedDelay(this::reconcile, 0, interval, TimeUnit.SECONDS);
        } else {
            reconciler.execute(this::reconcile);
        }
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        reconciler.shutdownNow();
        notifier.stop(2_000);
    }

    // --- references ---------------------------------------------------------------------------------------------

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindRegistry(ProgramRegistry r) {
        registry = r;
        refreshTrust();
    }

    void updatedRegistry(ProgramRegistry r) {
        refreshTrust();
    }

    void unbindRegistry(ProgramRegistry r) {
        if (registry == r) {
            registry = null;
            refreshTrust(); // fail closed: revokes every entry
        }
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindMonitor(PortMonitor m) {
        monitor = m;
        ScheduledExecutorService r = reconciler;
        if (r != null) {
            r.execute(this::reconcile); // a new monitor (or a new version of it): learn every socket it knows
        }
    }

    void unbindMonitor(PortMonitor m) {
        if (monitor == m) {
            monitor = null; // entries stay: their sockets still listen; the next monitor's scan reconciles
        }
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindMarker(SocketMarker m) {
        synchronized (lock) {
            marker = m;
            ports.permitted().forEach(p -> unmarked.add(p.inode()));
            markPending();
        }
    }

    void unbindMarker(SocketMarker m) {
        if (marker == m) {
            marker = null; // the marks stay on the sockets: they are the kernel's, not ours
        }
    }

    // ComponentServiceObjects: the listener is fetched later, on the store's thread (see Notifier.Subscription).
    @Reference(service = PortStoreListener.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindListener(ComponentServiceObjects<PortStoreListener> l) {
        Object ranking = l.getServiceReference().getProperty(Constants.SERVICE_RANKING);
        synchronized (lock) {
            notifier.add(l, l::getService, ports.openKeys(), ranking instanceof Integer r ? r : 0);
        }
    }

    void unbindListener(ComponentServiceObjects<PortStoreListener> l) {
        notifier.remove(l);
    }

    /** For tests without OSGi. */
    void addListener(PortStoreListener l) {
        addListener(l, 0);
    }

    /** For tests without OSGi: a listener with a service ranking. */
    void addListener(PortStoreListener l, int ranking) {
        synchronized (lock) {
            notifier.add(l, () -> l, ports.openKeys(), ranking);
        }
    }

    void removeListener(PortStoreListener l) {
        notifier.remove(l);
    }

    // --- PortEventListener --------------------------------------------------------------------------------------

    @Override
    public void portEvent(PortEvent event) {
        synchronized (lock) {
            Changes c = event.kind() == PortEvent.Kind.OPEN
                    ? ports.open(event.socket(), Instant.now())
                    : ports.close(event.socket(), Instant.now());
            publish(c);
        }
        notifier.deliver(); // on this thread, the monitor's: the hooks hear it without another thread's wake-up
    }

    // --- ProgramRegistryListener --------------------------------------------------------------------------------

    @Override
    public void programsChanged() {
        refreshTrust();
    }

    // --- PortStore ----------------------------------------------------------------------------------------------

    @Override
    public List<PermittedPort> permitted() {
        synchronized (lock) {
            return ports.permitted();
        }
    }

    /** Whether a new inbound packet of {@code family} to ({@code protocol}, {@code port}) may pass now: for tests. */
    boolean isPermitted(Protocol protocol, AddressFamily family, int port) {
        return ports.isPermitted(protocol, family, port);
    }

    @Override
    public boolean permitNow(Protocol protocol, AddressFamily family, int port) {
        PermittedPorts p = ports;
        // A port the store evaluated and did not permit: its event says when that changes. Asked again under the lock,
        // because an event being applied marks a socket known before it permits it.
        if (!p.isPermitted(protocol, family, port) && p.knows(protocol, family, port)) {
            synchronized (lock) {
                if (!ports.isPermitted(protocol, family, port)) {
                    return false;
                }
            }
        }
        // Not known yet, or permitted: the kernel asks only when the socket that receives the packet is not verified
        // (one no event told of yet, or a trusted program's new socket beside its permitted one): which socket is it?
        PortMonitor m = monitor;
        if (m == null) {
            return false;
        }
        Optional<ListeningSocket> owner;
        try {
            owner = m.ownerOf(protocol, family, port);
        } catch (RuntimeException e) {
            log().warn("the port monitor could not tell who listens on {}/{}/{}: {}", protocol, family, port, e.toString());
            return false;
        }
        ListeningSocket s = owner.orElse(null);
        if (s == null || s.protocol() != protocol || s.port() != port || !s.serves(family)) {
            return false; // nobody listens, or the monitor answered about another socket
        }
        boolean verified;
        synchronized (lock) {
            publish(ports.open(s, Instant.now())); // S703–S709 ahead of the monitor's own event; marks a permitted socket
            if (ports.entries(s.inode()) == null) {
                verified = false;
            } else {
                if (unmarked.contains(s.inode()) && mark(s, true)) {
                    unmarked.remove(s.inode()); // a mark that failed before, tried again for this very packet
                    reportedUnmarked.remove(s.inode());
                }
                verified = !unmarked.contains(s.inode()); // the kernel accepts the packet only at a verified socket
            }
        }
        notifier.deliver();
        return verified;
    }

    @Override
    public List<ListeningSocket> refused() {
        return refusals().stream().map(RefusedSocket::socket).toList();
    }

    @Override
    public List<RefusedSocket> refusals() {
        synchronized (lock) {
            return ports.refused();
        }
    }

    // --- internals ----------------------------------------------------------------------------------------------

    /** Reads the registry (outside the lock) and re-evaluates every known socket against what it says now. */
    private void refreshTrust() {
        long read = trustReads.incrementAndGet();
        ProgramRegistry r = registry;
        Trust trust = Trust.NOTHING;
        String problem = null;
        if (r == null) {
            problem = "no program registry is running";
        } else {
            try {
                if (r.usable()) {
                    trust = Trust.of(r.programs());
                } else {
                    problem = "the program registry is unusable: " + r.problem().orElse("no reason given");
                }
            } catch (RuntimeException e) {
                problem = "the program registry failed: " + e;
            }
        }
        synchronized (lock) {
            if (read < trustApplied) {
                return; // a later read already applied newer trust
            }
            trustApplied = read;
            publish(ports.trust(trust, Instant.now()));
            boolean usable = problem == null;
            Boolean before = registryWasUsable;
            registryWasUsable = usable;
            // At start a missing registry may simply come up a moment later: the grace check warns if it does not.
            boolean quietStart = before == null && (usable || r == null);
            if (!quietStart && (before == null || before != usable)) {
                String message = problem;
                boolean absent = r == null;
                notifier.execute(() -> {
                    if (message != null && absent) {
                        log().warn("{}; no port is opened for any program until one is (fail closed)", message);
                    } else if (message != null) {
                        log().error("{}; no port is opened for any program until it is fixed (fail closed)", message);
                    } else {
                        log().info("program registry usable: ports of trusted programs open as they listen");
                    }
                });
            }
        }
        notifier.deliver();
    }

    /** A full scan from the monitor replaces the store's view (startup, monitor update, periodic re-check). */
    private void reconcile() {
        PortMonitor m = monitor;
        if (m == null) {
            return;
        }
        refreshTrust();
        synchronized (lock) {
            ports.scanStarted();
        }
        List<ListeningSocket> scan;
        try {
            scan = m.listening();
        } catch (RuntimeException e) {
            synchronized (lock) {
                ports.scanAbandoned();
            }
            log().warn("full scan of listening sockets failed, keeping the current view: {}", e.toString());
            return;
        }
        synchronized (lock) {
            publish(ports.reconcile(scan, Instant.now()));
            markPending();
        }
        notifier.deliver();
    }

    /**
     * Under {@code lock}: put the permission on the sockets (principle 7: the kernel admits packets only to marked
     * sockets), then queue the listeners' notifications and the operator's warnings in order. A revoked socket that
     * still lives loses its mark first, so it is closed in the kernel before any set changes.
     */
    private void publish(Changes c) {
        if (c.isEmpty()) {
            return;
        }
        for (PermittedPort p : c.revoked) {
            ListeningSocket s = ports.socket(p.inode());
            unmarked.remove(p.inode());
            reportedUnmarked.remove(p.inode());
            if (s != null && ports.entries(p.inode()) == null) {
                mark(s, false);
            }
        }
        for (PermittedPort p : c.permitted) {
            unmarked.add(p.inode());
        }
        markPending();
        notifier.publish(c);
        for (Changes.Refusal r : c.refused) {
            ListeningSocket s = r.socket();
            notifier.execute(() -> log().warn("not opening {} port {} ({} {}, socket {}) of trusted program {} ({}): "
                    + "{}", s.protocol(), s.port(), s.family(), s.addressText(), s.inode(), r.program().name(),
                    r.program().path(), r.reason()));
        }
    }

    /**
     * Under {@code lock}: marks every permitted socket not marked yet; what fails is tried again at the next scan
     * (the operator hears of each socket once).
     */
    private void markPending() {
        for (Iterator<Long> it = unmarked.iterator(); it.hasNext();) {
            long inode = it.next();
            ListeningSocket s = ports.socket(inode);
            if (s == null || ports.entries(inode) == null) {
                it.remove(); // closed or revoked meanwhile
                reportedUnmarked.remove(inode);
            } else if (mark(s, true)) {
                it.remove();
                reportedUnmarked.remove(inode);
            } else if (reportedUnmarked.add(inode)) {
                log().warn("could not mark the socket of {} port {} (inode {}): none of its holders could be reached "
                        + "({}); the kernel drops its packets until a later try succeeds", s.protocol(), s.port(),
                        inode, marker == null ? "no port monitor to mark it" : "gone or changing");
            }
        }
    }

    private boolean mark(ListeningSocket s, boolean verified) {
        SocketMarker m = marker;
        if (m == null) {
            return false;
        }
        try {
            boolean done = m.mark(s, verified);
            if (!done && !verified) {
                // most often the socket is closing; either way its port leaves the set, so nothing new reaches it
                log().debug("no holder of the socket of {} port {} (inode {}) could be reached to take its mark off",
                        s.protocol(), s.port(), s.inode());
            }
            return done;
        } catch (RuntimeException e) {
            log().error("marking the socket of {} port {} failed: {}", s.protocol(), s.port(), e.toString());
            return false;
        }
    }

    /** For tests: waits until every notification queued so far has been delivered. */
    void flush() throws InterruptedException {
        notifier.flush(10_000);
    }

    /** For tests: waits until the full scans queued so far are done. */
    void awaitReconcile() throws Exception {
        reconciler.submit(() -> {}).get(10, TimeUnit.SECONDS);
    }

    private Logger log() {
        return log;
    }
}
