package org.flexwall.hook.pcap;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.flexwall.api.packet.BypassTable;
import org.flexwall.api.packet.ConnectionTracker;
import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.DroppedPacket;
import org.flexwall.api.packet.PacketCounters;
import org.flexwall.api.packet.PacketDecider;
import org.flexwall.api.packet.PacketHook;
import org.flexwall.hook.support.KernelFlows;
import org.flexwall.hook.support.RateLimitedLog;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
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
import org.osgi.service.metatype.annotations.Option;
import org.pcap4j.core.PcapHandle;

/**
 * The libpcap hook (pcap4j): the engine of FIG. 8 (packet bypass, then the stateful ICF) on frames libpcap captures,
 * wherever libpcap runs.
 * <ul>
 * <li>{@code bridge}: an inline bridge (bump in the wire) between an outside and an inside interface. Frames from
 * outside are decided as INBOUND and sent out of the inside interface if they pass; frames from inside are decided as
 * OUTBOUND (so the ICF learns the flows opened from inside and lets their replies in) and sent outside. ARP and
 * neighbour discovery pass. Each handle captures only what arrives on its interface, never what the bridge sent.</li>
 * <li>{@code monitor}: one interface; every frame it receives (and every one it sends, so the ICF knows the host's
 * own flows) is decided and counted as would pass or would drop; nothing is changed.</li>
 * </ul>
 * Inactive until configured. A worker opens the interfaces and reopens them every few seconds while that fails (an
 * interface that does not exist, no permission to capture): meanwhile nothing is forwarded (fail closed) and
 * {@link #problem()} says why.
 */
@Component(name = PcapHook.PID, service = { PacketHook.class, PacketCounters.class },
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = PcapHook.Config.class)
public class PcapHook implements PacketHook, PacketCounters {
    static final String PID = "org.flexwall.hook.pcap";
    private static final long RETRY_SECONDS = 5;
    private static final int READ_TIMEOUT_MILLIS = 100;
    /** Burst above rateLimit of first packets packet bypass is asked about, as the NFQUEUE hook's default burst. */
    private static final int FIRST_PACKET_BURST = 200;

    @ObjectClassDefinition(name = "flexwall libpcap hook",
            description = "The engine on frames captured with libpcap: an inline bridge between two interfaces, "
            + "or a monitor of one")
    public @interface Config {
        @AttributeDefinition(name = "Mode", options = {
                @Option(label = "bridge: forward what the engine permits between two interfaces", value = "bridge"),
                @Option(label = "monitor: count what the engine would drop on one interface", value = "monitor") },
                description = "bridge: frames between outsideInterface and insideInterface are forwarded when "
                + "the engine permits them, the rest dropped. monitor: frames on outsideInterface are decided and "
                + "counted, nothing is changed")
        String mode() default "bridge";

        @AttributeDefinition(name = "Outside interface",
                description = "The interface facing the untrusted side (in monitor mode: the one watched)")
        String outsideInterface() default "";

        @AttributeDefinition(name = "Inside interface", required = false,
                description = "bridge mode: the interface facing what the bridge protects")
        String insideInterface() default "";

        @AttributeDefinition(name = "Network namespace", required = false,
                description = "The network namespace (of ip netns) that holds the interfaces; empty: the JVM's own")
        String namespace() default "";

        @AttributeDefinition(name = "Capture buffer (bytes)", min = "65536",
                description = "libpcap's buffer per interface; when it overflows the kernel drops")
        int bufferSize() default 8 * 1024 * 1024;

        @AttributeDefinition(name = "Recent drops kept", min = "1", max = "100000",
                description = "Recent drops kept for the console")
        int recentDrops() default 256;

        @AttributeDefinition(name = "First packets per second", min = "1", max = "10000",
                description = "bridge mode: first packets of new inbound flows the engine dropped that packet "
                + "bypass is asked about per second at most (1-10000), as the NFQUEUE hook's rateLimit; the excess "
                + "stays dropped")
        int rateLimit() default 2000;
    }

    /** The validated configuration. */
    record Settings(boolean monitor, String outside, String inside, String namespace, int bufferSize,
            int recentDrops, int rateLimit) {
        static Settings of(Config c) {
            String mode = c.mode().trim().toLowerCase(Locale.ROOT);
            check(mode.equals("bridge") || mode.equals("monitor"),
                    "mode must be bridge or monitor, not \"" + c.mode() + "\"");
            boolean monitor = mode.equals("monitor");
            String outside = c.outsideInterface().trim(), inside = c.insideInterface().trim();
            check(!outside.isEmpty(), "outsideInterface is not set");
            check(monitor || !inside.isEmpty(), "bridge mode needs insideInterface");
            check(monitor || !inside.equals(outside), "insideInterface and outsideInterface are both " + inside);
            check(c.bufferSize() >= 65536, "bufferSize must be at least 65536 bytes, not " + c.bufferSize());
            check(c.recentDrops() >= 1 && c.recentDrops() <= 100_000,
                    "recentDrops must be 1-100000, not " + c.recentDrops());
            check(c.rateLimit() >= 1 && c.rateLimit() <= 10_000, "rateLimit must be 1-10000, not " + c.rateLimit());
            return new Settings(monitor, outside, monitor ? "" : inside, c.namespace().trim(), c.bufferSize(),
                    c.recentDrops(), c.rateLimit());
        }

        private static void check(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }

        String where() {
            return (monitor ? "monitor of " + outside : "bridge " + outside + " <-> " + inside)
                    + (namespace.isEmpty() ? "" : " in namespace " + namespace);
        }
    }

    @Reference(service = LoggerFactory.class)
    private Logger log;

    private volatile PacketDecider decider;
    private volatile ConnectionTracker tracker;
    private volatile BypassTable bypassTable;
    private volatile Settings settings;
    private volatile List<Leg> legs = List.of();
    private volatile String problem = "not started";
    private List<PcapHandle> handles = List.of();
    private RecentDrops drops = new RecentDrops(1);
    private KernelForwarding kernel;
    private ScheduledExecutorService worker;
    private String lastLogged;
    private final Map<String, RateLimitedLog> problemLogs = new ConcurrentHashMap<>();

    public PcapHook() {}

    /** For tests without OSGi. */
    PcapHook(Logger log) {
        this.log = log;
    }

    @Activate
    void activate(Config config) {
        try {
            settings = Settings.of(config);
        } catch (IllegalArgumentException e) {
            problem = "configuration " + PID + ": " + e.getMessage();
            log.error("{}; the hook stays off and forwards nothing (fail closed)", problem);
            return;
        }
        drops = new RecentDrops(settings.recentDrops());
        if (!settings.monitor()) {
            kernel = new KernelForwarding(settings.namespace(), List.of(settings.outside(), settings.inside()));
        }
        worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "flexwall-pcap-worker");
            t.setDaemon(true);
            return t;
        });
        worker.scheduleWithFixedDelay(this::supervise, 0, RETRY_SECONDS, TimeUnit.SECONDS);
    }

    /**
     * A clean stop: the legs stop, the interfaces close, and the kernel's forwarding (if the interfaces are ports of
     * a Linux bridge) takes over again.
     */
    @Deactivate
    void deactivate() throws InterruptedException {
        if (worker == null) {
            return;
        }
        worker.shutdownNow();
        worker.awaitTermination(30, TimeUnit.SECONDS);
        close();
        if (kernel != null) {
            try {
                kernel.release();
                log.info("pcap {}: stopped; kernel forwarding between the interfaces is allowed again",
                        settings.where());
            } catch (IOException e) {
                log.error("pcap {}: {}; the kernel keeps dropping what it would forward between them",
                        settings.where(), e.getMessage());
            }
        }
    }

    /** Runs on the worker: opens the interfaces and starts the legs when they do not run. */
    private void supervise() {
        try {
            List<Leg> running = legs;
            if (!running.isEmpty() && running.stream().allMatch(Leg::alive)) {
                return;
            }
            for (Leg l : running) {
                if (l.failure() != null) {
                    log.error("pcap {}: {}; opening the interfaces again", settings.where(), l.failure());
                }
            }
            close();
            adoptKernelConnections(); // the Java ICF decides from here on: established sessions go on
            if (kernel != null) {
                kernel.block();
            }
            start();
            adoptKernelConnections(); // and those the kernel path admitted meanwhile
            problem = null;
            lastLogged = null;
            log.info("pcap {}: running", settings.where());
        } catch (Exception | LinkageError e) {
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
            close();
            problem = message(e);
            if (!problem.equals(lastLogged)) {
                log.error("pcap {}: {} (retrying every {} s; meanwhile nothing is forwarded)", settings.where(),
                        problem, RETRY_SECONDS);
                lastLogged = problem;
            }
        }
    }

    private void start() throws Exception {
        Settings s = settings;
        List<PcapHandle> opened = new ArrayList<>();
        try {
            ClassLoader previous = Thread.currentThread().getContextClassLoader();
            // pcap4j finds its packet factory through ServiceLoader: it must see this bundle's class loader
            Thread.currentThread().setContextClassLoader(PcapHook.class.getClassLoader());
            try {
                opened.add(open(s, s.outside(), PcapHandle.PcapDirection.IN));
                opened.add(s.monitor() ? open(s, s.outside(), PcapHandle.PcapDirection.OUT)
                        : open(s, s.inside(), PcapHandle.PcapDirection.IN));
            } finally {
                Thread.currentThread().setContextClassLoader(previous);
            }
        } catch (Exception | LinkageError e) {
            opened.forEach(PcapHandle::close);
            throw e;
        }
        handles = opened;
        PcapHandle outside = opened.get(0), second = opened.get(1);
        List<Leg> started = s.monitor()
                ? List.of(leg("inbound", outside, null, Direction.INBOUND),
                        leg("outbound", second, null, Direction.OUTBOUND))
                : List.of(leg("from outside", outside, second, Direction.INBOUND),
                        leg("from inside", second, outside, Direction.OUTBOUND));
        started.forEach(Leg::start);
        legs = started;
    }

    /** A leg; the bridge's inbound one asks packet bypass about first packets, the monitor changes nothing. */
    private Leg leg(String name, PcapHandle from, PcapHandle to, Direction direction) {
        return new Leg(name, from, to, direction, () -> decider, to == null ? null : () -> bypassTable,
                new TokenBucket(settings.rateLimit(), FIRST_PACKET_BURST), drops, this::reportRateLimited);
    }

    /** A live handle on {@code device} that captures only the frames of {@code direction}. */
    private static PcapHandle open(Settings s, String device, PcapHandle.PcapDirection direction) throws Exception {
        try {
            return Netns.call(s.namespace(), () -> {
                PcapHandle h = new PcapHandle.Builder(device).snaplen(65535)
                        .promiscuousMode(org.pcap4j.core.PcapNetworkInterface.PromiscuousMode.PROMISCUOUS)
                        .timeoutMillis(READ_TIMEOUT_MILLIS).bufferSize(s.bufferSize()).immediateMode(true).build();
                try {
                    h.setDirection(direction); // never capture what the bridge itself sent
                } catch (Exception e) {
                    h.close();
                    throw e;
                }
                return h;
            });
        } catch (org.pcap4j.core.PcapNativeException e) {
            String said = String.valueOf(e.getMessage());
            String meaning = said.contains("Operation not permitted") || said.contains("permission")
                    ? " (no permission to capture: flexwall needs root or CAP_NET_RAW)"
                    : said.contains("No such device") ? " (the interface does not exist)" : "";
            throw new IOException("cannot capture on interface " + device
                    + (s.namespace().isEmpty() ? "" : " in namespace " + s.namespace()) + ": " + said + meaning, e);
        }
    }

    private void close() {
        for (Leg l : legs) {
            try {
                if (!l.stop(2_000)) {
                    log.warn("pcap {}: the {} thread did not stop within 2 s", settings.where(), l.name);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        legs = List.of();
        handles.forEach(PcapHandle::close);
        handles = List.of();
    }

    private static String message(Throwable e) {
        if (e instanceof LinkageError) {
            return "libpcap could not be loaded (" + e + "); install libpcap (Debian: apt-get install libpcap0.8)";
        }
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }

    /** Logs trouble on the packet path at most once a minute per kind. Leg threads. */
    private void reportRateLimited(String kind, String message) {
        problemLogs.computeIfAbsent(kind, k -> new RateLimitedLog((m, t) -> log.warn(
                "pcap {}: {} (logged at most once a minute)", settings.where(), m), TimeUnit.MINUTES.toMillis(1)))
                .log(message, null);
    }

    /**
     * The stateful ICF takes over the flows the kernel's conntrack (of the JVM's namespace, where the kernel path ran)
     * holds, so sessions established before the bridge started keep their replies (see {@link ConnectionTracker}).
     */
    private void adoptKernelConnections() {
        ConnectionTracker t = tracker;
        if (t == null || settings.monitor()) {
            return;
        }
        KernelFlows.adopt(t, log, "pcap " + settings.where());
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindTracker(ConnectionTracker t) {
        tracker = t;
    }

    void unbindTracker(ConnectionTracker t) {
        if (tracker == t) {
            tracker = null;
        }
    }

    // --- the engine's entry stage: optional, dynamic, greedy; read once per frame --------------------------------

    @Reference(target = PacketDecider.TARGET_BYPASS, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindDecider(PacketDecider d) {
        decider = d;
    }

    void unbindDecider(PacketDecider d) {
        if (decider == d) {
            decider = null; // fail closed: every IP frame is dropped until a decider is back
        }
    }

    /** The first packets' question: packet bypass's table, which has the port store verify the socket now. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindBypassTable(BypassTable t) {
        bypassTable = t;
    }

    void unbindBypassTable(BypassTable t) {
        if (bypassTable == t) {
            bypassTable = null; // the engine's verdict stands alone
        }
    }

    // --- PacketHook ----------------------------------------------------------------------------------------------

    @Override
    public String name() {
        return "pcap";
    }

    @Override
    public String status() {
        Settings s = settings;
        String p = problem;
        if (s == null || p != null) {
            return "not active" + (s == null ? "" : ": " + s.where()) + ": " + p;
        }
        StringBuilder b = new StringBuilder("active: ").append(s.where());
        if (decider == null) {
            b.append(", NO PACKET DECIDER: every IP frame is ").append(s.monitor() ? "counted as dropped" : "dropped");
        }
        for (Leg l : legs) {
            long passed = l.count(Leg.PASSED) + l.count(Leg.FIRST_PACKET_ADMITTED), dropped = 0;
            for (int i = Leg.DROPPED_BY_ENGINE; i <= Leg.DROPPED_DECISION_ERROR; i++) {
                dropped += l.count(i);
            }
            b.append("; ").append(l.name).append(": ").append(passed)
                    .append(s.monitor() ? " would pass, " : " forwarded, ").append(dropped)
                    .append(s.monitor() ? " would drop" : " dropped");
        }
        return b.toString();
    }

    @Override
    public Optional<String> problem() {
        Settings s = settings;
        String p = problem;
        return p == null ? Optional.empty() : Optional.of("pcap " + (s == null ? "" : s.where() + ": ") + p);
    }

    @Override
    public List<DroppedPacket> recentDrops() {
        return drops.snapshot();
    }

    // --- PacketCounters -----------------------------------------------------------------------------------------

    @Override
    public String part() {
        return "pcap hook";
    }

    @Override
    public Map<String, Long> counters() {
        Map<String, Long> m = new LinkedHashMap<>();
        Settings s = settings;
        for (Leg l : legs) {
            l.counters(s.monitor(), m);
        }
        return m;
    }
}
