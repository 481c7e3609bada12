package org.flexwall.hook.nftables;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

import org.flexwall.api.packet.BypassTableListener;
import org.flexwall.api.packet.PacketHook;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.PortStore;
import org.flexwall.hook.nftables.Nft.NftException;
import org.osgi.framework.BundleContext;
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
 * The kernel hook: flexwall's nft table {@code inet flexwall} holds the default-drop baseline and renders packet
 * bypass's table into its permitted sets, so every packet is decided in the kernel (principles 1 and 4; FIG. 8's
 * bypass as a set lookup, the stateful firewall as conntrack).
 *
 * <p>The sets follow packet-bypass's bypass table, as a {@link BypassTableListener}: the port store tells packet
 * bypass, which sets its bitmap and tells this hook on the same thread, without a copy that counts or a delay. What
 * the sets hold when packet bypass or its port store is not there:
 * <ul>
 * <li>Packet bypass's port store stops: packet bypass sends the empty table and the sets are emptied.</li>
 * <li>Packet bypass stops (an update of its bundle, say), and at activation before its first snapshot: the elements
 * stay, those this hook rendered or a previous run left, until packet bypass's next snapshot. They admit only
 * packets to a socket carrying the verified mark (see {@link Ruleset}): the mark dies with the socket, and the port
 * store clears it when it closes the port, so an element nobody vouches for any more matches no socket. Emptying them
 * instead would drop the next packet of every untracked flow of a trusted service at each restart of the JVM.</li>
 * </ul>
 *
 * <p>The baseline is applied at activation and checked every {@value #CHECK_SECONDS} s (someone running
 * {@code nft flush ruleset} or restarting nftables.service would otherwise leave the appliance open). Deactivation
 * and a dying JVM leave the table in the kernel: ports stay as they were, everything else stays dropped. Only
 * {@link Main} {@code disable} removes it.
 *
 * <p>Port changes (FIG. 7: S709 registered, S706–S707 deleted) reach the kernel on the thread that brings them (the
 * one that read the kernel's event, through the port monitor, the store and packet bypass): no hand-off, no wake-up.
 * Whoever holds the kernel lock sends every change pending then as one transaction of element adds and deletes, and
 * looks again before letting go, so changes arriving meanwhile go into the next one (no fixed delay); with the packaged
 * nft, one nfnetlink batch built by libnftnl in this process ({@link NetlinkElements}: no command parsed, no ruleset
 * cache fetched). The worker thread made the library's context and socket (in the namespace they act in) and does what
 * needs libnftables: the baseline, the periodic check, a change of more than {@value NetlinkElements#MAX_ELEMENTS}
 * elements, and the full rewrite of the sets after a batch that failed (the table changed under us).
 */
@Component(name = NftablesHook.PID, service = { PacketHook.class, BypassTableListener.class }, immediate = true)
@Designate(ocd = NftablesHook.Config.class)
public class NftablesHook implements PacketHook, BypassTableListener {
    static final String PID = "org.flexwall.hook.nftables";
    static final long CHECK_SECONDS = 10;
    /** Where the console listens, as the launcher gives Felix HTTP (anti-lockout opens it only off loopback). */
    static final String CONSOLE_HOST = "org.apache.felix.http.host";
    static final String CONSOLE_PORT = "org.osgi.service.http.port";
    /** The data directory (framework property the launcher sets), where the boot baseline is kept. */
    static final String DATA = "flexwall.data";
    /** The configured baseline as this hook last applied it, for {@code flexwall baseline} to load at boot. */
    static final String BOOT_BASELINE = "baseline.nft";

    @ObjectClassDefinition(name = "flexwall nftables hook",
            description = "The kernel baseline: table inet flexwall drops every unsolicited packet; ports of "
                    + "trusted programs, packet bypass's table, are rendered into its sets")
    public @interface Config {
        @AttributeDefinition(name = "Anti-lockout",
                description = "Anti-lockout: keep the operator's own way in reachable whatever the port "
                + "store says, and no more: SSH on the management interface (with none configured: only from the "
                + "client of the SSH session flexwall was started from; at boot: nothing), and the console's port "
                + "only when the console listens on an address other than loopback")
        boolean antiLockout() default true;

        @AttributeDefinition(name = "Management interface",
                description = "The management interface (such as eth1): anti-lockout keeps SSH open on "
                + "it. Empty: no management interface")
        String managementInterface() default "";

        @AttributeDefinition(name = "SSH port", min = "1", max = "65535",
                description = "The SSH port anti-lockout keeps open on the management interface")
        int sshPort() default 22;

        @AttributeDefinition(name = "LAN interfaces",
                description = "LAN interfaces of a gateway: new flows entering on them are forwarded; "
                + "from anywhere else only replies are. Empty: nothing new is forwarded")
        String[] lanInterfaces() default {};

        @AttributeDefinition(name = "Masquerade (NAT) interface",
                description = "Gateway: the outside interface (such as eth0) behind which IPv4 from the "
                + "LAN is masqueraded to the interface's address (NAT). Empty: no NAT, the LAN's addresses are routed "
                + "as they are")
        String masqueradeInterface() default "";

        @AttributeDefinition(name = "LAN services",
                description = "Gateway: services of the appliance itself the LAN interfaces may reach "
                + "whoever listens, as protocol/port (udp/53 for DNS, udp/67 for DHCP, tcp/22 for SSH); other ports "
                + "of the appliance open to the LAN only while a trusted program listens")
        String[] lanServices() default {};

        @AttributeDefinition(name = "Queue number", min = "0", max = "65535",
                description = "NFQUEUE number of the user-space hook (org.flexwall.hook.nfqueue). "
                + "This hook queues nothing: it accepts what that hook marked (see Marks)")
        int queueNum() default 42;

        @AttributeDefinition(name = "nft program", description = "The nft program (package nftables). With the default, nft, flexwall "
                + "calls nftables' library libnftables.so.1 in its own process instead (no process per change); "
                + "another value runs that program for every change")
        String nftBinary() default "nft";

        @AttributeDefinition(name = "Untrack permitted ports",
                description = "Inbound packets to permitted ports skip connection tracking (faster; "
                + "the port decides alone). Ignored on a gateway (lanInterfaces set): forwarded flows and NAT need "
                + "conntrack there")
        boolean untrackPermitted() default true;
    }

    @Reference(service = LoggerFactory.class)
    private Logger log;

    private volatile PortStore portStore;

    private final Object lock = new Object();
    private final Set<Element> permitted = new HashSet<>(); // guarded by lock: packet bypass's table now
    private boolean storeKnown;                         // guarded by lock: permitted comes from packet bypass
    private boolean syncPending;                        // guarded by lock: a sync is scheduled and not yet started
    private boolean changed;                            // guarded by lock: permitted changed since last applied

    // Guards everything below that talks to the kernel: whichever thread holds it applies the changes pending.
    final ReentrantLock kernel = new ReentrantLock(); // package-private: tests hold it to stand for a busy thread
    private Set<Element> applied;                       // under kernel: what the sets hold, null when not known
    private volatile boolean baselineApplied;           // written under kernel
    private boolean closed;                             // under kernel: deactivated, the library context freed

    private final List<String> nftPrefix;
    private Settings settings;
    private Nft nft;
    private Path bootBaseline; // DATA/baseline.nft, null without a data directory (tests)
    ScheduledExecutorService worker; // package-private: tests keep it busy
    private volatile boolean active;
    private volatile int permittedPorts = -1;           // distinct (protocol, port) in the sets, -1 unknown
    private volatile String problem = "not started";
    private volatile String configProblem;
    private String lastLogged;

    public NftablesHook() {
        this(null, List.of());
    }

    /** For tests without OSGi: {@code nftPrefix} runs nft elsewhere, such as {@code ip netns exec NAME}. */
    NftablesHook(Logger log, List<String> nftPrefix) {
        this.log = log;
        this.nftPrefix = List.copyOf(nftPrefix);
    }

    @Activate
    void activate(Config config, BundleContext context) throws InterruptedException {
        String data = context.getProperty(DATA);
        bootBaseline = data == null ? null : Path.of(data).resolve(BOOT_BASELINE);
        start(config, Origin.of(context.getProperty(CONSOLE_HOST), parsePort(context.getProperty(CONSOLE_PORT))));
    }

    /** Without OSGi (tests): {@code origin} stands for what the framework and the environment tell. */
    void start(Config config, Origin origin) throws InterruptedException {
        try {
            settings = Settings.of(config, origin);
            configProblem = null;
        } catch (IllegalArgumentException e) {
            // fail closed: the defaults forward nothing new and keep management reachable so it can be fixed
            settings = Settings.defaults(origin);
            configProblem = "configuration " + PID + " is invalid: " + e.getMessage();
            log.error("{}; applying the baseline with the defaults (anti-lockout: {}; nothing forwarded) until "
                    + "it is fixed", configProblem, settings.managementAccess());
        }
        nft = Nft.of(nftPrefix, settings.nftBinary());
        worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "flexwall-nftables");
            t.setDaemon(true);
            return t;
        });
        active = true;
        try {
            worker.submit(this::sync).get(60, TimeUnit.SECONDS); // the baseline is in place when activate returns
        } catch (ExecutionException | TimeoutException e) {
            log.error("applying the nftables baseline failed: {}", String.valueOf(e.getCause()));
        }
        worker.scheduleWithFixedDelay(this::check, CHECK_SECONDS, CHECK_SECONDS, TimeUnit.SECONDS);
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        active = false;
        worker.shutdownNow();
        boolean stopped = worker.awaitTermination(30, TimeUnit.SECONDS);
        kernel.lock(); // after the change a caller is applying now
        try {
            // A change heard while another thread held the kernel (one closing a port, say) goes in before we stop.
            if (takeChanged() && !sendChanges()) {
                log.warn("the last port changes before stopping did not reach the kernel's sets");
            }
            closed = true;
            if (stopped) {
                nft.close(); // never under a call still running: the library's context would be freed beneath it
            }
        } finally {
            kernel.unlock();
        }
        log.info("nftables hook stopped; table inet {} stays in the kernel (default drop, {} permitted ports kept)",
                Ruleset.TABLE, permittedPorts < 0 ? "earlier" : Integer.toString(permittedPorts));
    }

    private static int parsePort(String value) {
        try {
            return value == null ? 0 : Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    // --- worker ---------------------------------------------------------------------------------------------------

    /** Brings the kernel in line: the baseline first, then the sets. Worker thread. */
    private void sync() {
        kernel.lock();
        try {
            syncLocked();
        } finally {
            kernel.unlock();
        }
        sendPending(); // changes heard meanwhile, whose callers found the kernel busy
    }

    private void syncLocked() {
        if (closed) {
            return;
        }
        Set<Element> desired;
        boolean known;
        synchronized (lock) {
            syncPending = false;
            changed = false;
            desired = new TreeSet<>(permitted);
            known = storeKnown;
        }
        try {
            if (!baselineApplied) {
                applyBaseline(known ? desired : Set.of());
            }
            if (!known) {
                problem = null;
                return; // no store yet: the elements a previous run left stay until it tells us
            }
            if (applied != null && sendChanges(desired)) {
                return;
            }
            if (applied == null && !nft.tablePresent()) { // a batch failed: was it the table?
                log.warn("table inet {} was removed outside flexwall; applying the baseline again", Ruleset.TABLE);
                applyBaseline(desired);
            }
            nft.apply(Ruleset.replaceElements(desired), "rewrite the permitted ports");
            applied(desired);
        } catch (NftException e) {
            problem = e.getMessage();
            if (!problem.equals(lastLogged)) {
                if (baselineApplied) {
                    log.error("{} (retrying every {} s; what the kernel holds now stays in force)", problem,
                            CHECK_SECONDS);
                } else {
                    log.error("THE FIREWALL IS NOT ON: {}; unsolicited packets are not dropped until it is "
                            + "(retrying every {} s). flexwall reports itself not ready meanwhile", problem,
                            CHECK_SECONDS);
                }
                lastLogged = problem;
            }
        }
    }

    /** The baseline; a table an earlier version left is made anew with {@code permitted} in the same transaction. */
    private void applyBaseline(Set<Element> permitted) throws NftException {
        baselineApplied = false;
        try {
            nft.apply(Ruleset.baseline(settings), "apply the baseline (table inet " + Ruleset.TABLE + ")");
        } catch (NftException e) {
            if (e.missing || !nft.tablePresent()) {
                throw e;
            }
            log.warn("{}; making table inet {} anew in one transaction (an earlier version's sets cannot be changed "
                    + "in place), with the {} permitted elements known now", e.getMessage(), Ruleset.TABLE,
                    permitted.size());
            nft.apply(Ruleset.rebuild(settings, permitted), "make table inet " + Ruleset.TABLE + " anew");
            applied(new TreeSet<>(permitted));
        }
        baselineApplied = true;
        announce();
        keepForBoot();
    }

    /**
     * Writes the configured baseline where {@code flexwall baseline} loads it before the JVM runs (the systemd unit
     * does at every start), so from power-on the kernel is as closed and as forwarding as the configuration says. As
     * at boot: no SSH session to keep open. Written whole or not at all (temp file, fsync, rename).
     */
    private void keepForBoot() {
        Path file = bootBaseline;
        if (file == null) {
            return;
        }
        Path temp = file.resolveSibling(BOOT_BASELINE + ".tmp");
        try {
            Files.deleteIfExists(temp); // a leftover of a crash, or a link someone planted: never written through
            try (FileChannel out = FileChannel.open(temp, Set.of(StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
                out.write(ByteBuffer.wrap(Ruleset.baseline(settings.atBoot()).getBytes(StandardCharsets.UTF_8)));
                out.force(true);
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | UnsupportedOperationException e) {
            log.error("could not write the boot baseline {} ({}); at the next boot `flexwall baseline` loads the "
                    + "one written before, or the built-in defaults (closed, nothing forwarded)", file, e.toString());
        }
    }

    private void applied(Set<Element> desired) {
        applied = desired;
        permittedPorts = (int) desired.stream().mapToInt(e -> e.protocol().ordinal() << 16 | e.port()).distinct().count();
        problem = null;
        lastLogged = null;
    }

    /** Periodic: the table must still be there; re-applies everything when it is not. Worker thread. */
    private void check() {
        kernel.lock();
        try {
            checkLocked();
        } finally {
            kernel.unlock();
        }
        sendPending();
    }

    private void checkLocked() {
        if (closed) {
            return;
        }
        try {
            if (baselineApplied && !nft.tablePresent()) {
                log.warn("table inet {} was removed outside flexwall (nft flush ruleset? nftables.service?); "
                        + "applying the baseline again", Ruleset.TABLE);
                baselineApplied = false;
                applied = null;
            }
        } catch (NftException e) {
            problem = e.getMessage();
        }
        syncLocked();
    }

    private void announce() {
        Settings s = settings;
        log.info("firewall on: table inet {} drops every unsolicited inbound IPv4 and IPv6 packet silently (no RST, "
                + "no ICMP); it passes loopback, established and related flows, IPv6 neighbour discovery, packets "
                + "the NFQUEUE hook accepted, and the ports of trusted programs; forwarding: {}",
                Ruleset.TABLE, s.lanInterfaces().isEmpty() ? "replies only (no lanInterfaces)"
                        : "new flows from " + String.join(", ", s.lanInterfaces()) + ", replies otherwise"
                                + (s.masqueradeInterface().isEmpty() ? "; no NAT"
                                        : "; IPv4 masqueraded behind " + s.masqueradeInterface())
                                + (s.lanServices().isEmpty() ? ""
                                        : "; the LAN reaches " + String.join(", ", s.lanServices()) + " here"));
        log.info(s.untracksPermitted() ? "permitted ports skip connection tracking (untrackPermitted): a port "
                + "leaving the set drops its next packet; flows go on only if their service sent since"
                : "permitted ports are connection-tracked ("
                        + (s.untrackPermitted() ? "a gateway: lanInterfaces set" : "untrackPermitted=false") + ")");
        if (s.antiLockout() && !s.managementRules().isEmpty()) {
            log.info("anti-lockout ON: {} stays reachable whatever the port store says; turn it off with "
                    + "antiLockout=false in {} once management is reachable otherwise", s.managementAccess(), PID);
        } else {
            log.info("anti-lockout: {}; management ports are reachable only while a trusted program listens on them "
                    + "(set managementInterface in {} to keep SSH open on it)", s.managementAccess(), PID);
        }
    }

    /**
     * A port change, on the caller's thread (the one that carried it from the port monitor): sends what changed as
     * one batch, unless another thread is at the kernel, which then sends it too before it lets go. What only the
     * worker can do (the baseline, a rewrite after a failed batch, a change too large for one batch) goes to it.
     */
    private void sendPending() {
        while (kernel.tryLock()) {
            try {
                while (takeChanged()) {
                    if (!sendChanges()) {
                        schedule();
                    }
                }
            } finally {
                kernel.unlock();
            }
            synchronized (lock) {
                if (!changed) {
                    return; // nothing came while we held the kernel; whatever comes now, its caller sends
                }
            }
        }
    }

    private boolean takeChanged() {
        synchronized (lock) {
            boolean c = changed && storeKnown;
            changed = false;
            return c;
        }
    }

    /** Under kernel: one batch from the sets as applied to the permitted ports now; false when the worker must. */
    private boolean sendChanges() {
        if (closed || !baselineApplied || applied == null) {
            return closed;
        }
        Set<Element> desired;
        synchronized (lock) {
            desired = new TreeSet<>(permitted);
        }
        return sendChanges(desired);
    }

    /** Under kernel, the sets known: the difference to {@code desired} as one batch; false when it failed or is large. */
    private boolean sendChanges(Set<Element> desired) {
        Set<Element> add = minus(desired, applied);
        Set<Element> delete = minus(applied, desired);
        if (add.isEmpty() && delete.isEmpty()) {
            problem = null;
            return true;
        }
        if (add.size() + delete.size() > NetlinkElements.MAX_ELEMENTS) {
            return false;
        }
        try {
            nft.changeElements(add, delete);
            applied(desired);
            return true;
        } catch (NftException | IllegalStateException e) {
            log.warn("{}; rewriting both sets instead", e.getMessage());
            applied = null;
            return false;
        }
    }

    private void schedule() {
        ScheduledExecutorService w = worker;
        synchronized (lock) {
            if (syncPending || w == null || !active) {
                return; // a sync is due already and will read the newest entries; or not active yet
            }
            syncPending = true;
        }
        try {
            w.execute(this::sync); // changes heard before it starts join it; later ones schedule the next
        } catch (RejectedExecutionException e) {
            // deactivating: the table stays as it is
        }
    }

    /** Waits until every change heard so far is in the kernel (or failed). For tests. */
    void awaitSync() throws Exception {
        worker.submit(this::sync).get(60, TimeUnit.SECONDS);
    }

    /** Runs the periodic check now and waits for it. For tests. */
    void recheck() throws Exception {
        worker.submit(this::check).get(60, TimeUnit.SECONDS);
    }

    private static Set<Element> minus(Set<Element> a, Set<Element> b) {
        Set<Element> r = new TreeSet<>(a);
        r.removeAll(b);
        return r;
    }

    // --- BypassTableListener: packet bypass's table, one element a port; the store counts the sockets behind them -

    @Override
    public void snapshot(Set<PortKey> open) {
        synchronized (lock) {
            permitted.clear();
            open.forEach(k -> permitted.add(Element.of(k)));
            storeKnown = true;
            changed = true;
        }
        sendPending();
    }

    @Override
    public void opened(PortKey port) {
        synchronized (lock) {
            permitted.add(Element.of(port));
            storeKnown = true;
            changed = true;
        }
        sendPending();
    }

    @Override
    public void closed(PortKey port) {
        synchronized (lock) {
            permitted.remove(Element.of(port));
            storeKnown = true;
            changed = true;
        }
        sendPending();
    }

    // --- port store, for the status only: its ports come through packet bypass (above), which says when it stops -

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindPortStore(PortStore s) {
        portStore = s;
    }

    void unbindPortStore(PortStore s) {
        if (portStore == s) {
            portStore = null;
        }
    }

    // --- PacketHook -----------------------------------------------------------------------------------------------

    @Override
    public String name() {
        return "nftables";
    }

    /** Not protecting while the baseline is not in the kernel: nothing drops what is unsolicited then. */
    @Override
    public java.util.Optional<String> problem() {
        if (active && !baselineApplied) {
            String p = problem;
            return java.util.Optional.of("the firewall is NOT on: table inet " + Ruleset.TABLE + " could not be "
                    + "installed (" + (p != null ? p : "applying the baseline") + "); unsolicited packets are not "
                    + "dropped until it is. Retrying every " + CHECK_SECONDS + " s");
        }
        return java.util.Optional.empty();
    }

    @Override
    public String status() {
        Settings s = settings;
        String p = problem;
        if (s == null) {
            return "not active";
        }
        if (!active) {
            return "stopped; table inet " + Ruleset.TABLE + " stays in the kernel as it was";
        }
        if (!baselineApplied) {
            return "not active: " + (p != null ? p : "applying the baseline");
        }
        StringBuilder b = new StringBuilder("baseline active, ");
        int n = permittedPorts;
        b.append(n < 0 ? "ports permitted before kept until packet bypass reports" : n + " permitted ports");
        b.append(", anti-lockout: ").append(s.managementAccess());
        if (!s.lanInterfaces().isEmpty()) {
            b.append(", forwarding from ").append(String.join(", ", s.lanInterfaces()));
        }
        if (portStore == null) {
            b.append("; no port store bound");
        }
        String c = configProblem;
        if (c != null) {
            b.append("; ").append(c).append(", running with the defaults");
        }
        if (p != null) {
            b.append("; problem: ").append(p);
        }
        return b.toString();
    }
}
