package org.flexwall.hook.nfqueue;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.flexwall.api.packet.BypassTable;
import org.flexwall.api.packet.ConnectionTracker;
import org.flexwall.api.packet.DroppedPacket;
import org.flexwall.api.packet.PacketCounters;
import org.flexwall.api.packet.PacketDecider;
import org.flexwall.api.packet.PacketHook;
import org.flexwall.hook.support.KernelFlows;
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
import org.osgi.service.metatype.annotations.Option;

/**
 * The NFQUEUE hook: packets the kernel cannot decide alone are queued to Java and decided here (FIG. 6/8 on Linux).
 *
 * <p>One worker thread starts the receive thread, installs and updates the kernel rules and retries both every few
 * seconds while they fail (another process holding the queue during a swap, a missing tool). The receive thread never
 * waits for the worker. On deactivation the rules go first, then the queue: nothing is queued any more and the nft
 * baseline decides alone. If the JVM dies instead, the rules stay and queue to nobody, so the kernel drops (fail
 * closed). Established traffic never crosses this hook in firstPacket mode.
 *
 * <p>How FIG. 8 runs in each mode (the one place that says so; the README's "How a packet is decided" follows it):
 * <ul>
 * <li>{@code firstPacket}: the kernel decides almost every packet itself. flexwall's nft table looks the destination
 * up in its permitted sets, packet bypass's table as the nftables hook renders it (S805), and the kernel's connection
 * tracking (conntrack, {@code ct state established,related}) stands in for the stateful ICF (S807): the Java ICF is
 * bound but idle. Only the first packet of a new inbound flow the kernel could not accept is queued here, and goes
 * to packet bypass as a {@link BypassTable} question, which has the port store verify the receiving socket.</li>
 * <li>{@code userspace}: every inbound and outbound TCP and UDP packet is queued here and goes to packet bypass as a
 * {@link PacketDecider}: a permitted port passes, everything else meets the Java stateful ICF behind it.</li>
 * </ul>
 */
@Component(name = NfqueueHook.PID, service = { PacketHook.class, PacketCounters.class })
@Designate(ocd = NfqueueHook.Config.class)
public class NfqueueHook implements PacketHook, PacketCounters {
    static final String PID = "org.flexwall.hook.nfqueue";
    private static final long RETRY_SECONDS = 5;
    /** The largest copy range one can ask for; the kernel caps it a few bytes lower (NFQNL_MAX_COPY_RANGE). */
    static final int MAX_COPY_RANGE = 65535;

    @ObjectClassDefinition(name = "flexwall NFQUEUE hook",
            description = "Hands packets the kernel cannot decide to Java through a netfilter queue")
    public @interface Config {
        @AttributeDefinition(name = "Queue number", min = "0", max = "65535",
                description = "Netfilter queue number (0-65535); no other program may consume it")
        int queueNum() default 42;

        @AttributeDefinition(name = "Mode", options = {
                @Option(label = "firstPacket: the first packet of a new inbound flow", value = "firstPacket"),
                @Option(label = "userspace: every TCP and UDP packet", value = "userspace") },
                description = "firstPacket: only the first packet of a new inbound flow to a port not "
                + "yet permitted is queued, the kernel keeps the rest. userspace: every inbound and outbound TCP and "
                + "UDP packet crosses the packet decider (the patent's literal path; for comparison and platforms "
                + "without conntrack)")
        String mode() default "firstPacket";

        @AttributeDefinition(name = "Copy range (bytes)", min = "64", max = "65535",
                description = "firstPacket mode: bytes of each packet copied to Java (64-65535); headers "
                + "are enough. userspace mode copies whole packets: the packet decider checks each packet's length")
        int copyRange() default 256;

        @AttributeDefinition(name = "Receive buffer (bytes)", min = "65536",
                description = "Socket receive buffer in bytes; when it overflows the kernel drops")
        int rcvbuf() default 8 * 1024 * 1024;

        @AttributeDefinition(name = "Queue length", min = "1",
                description = "Packets the kernel holds for Java before it drops new ones")
        int queueMaxLen() default 8192;

        @AttributeDefinition(name = "New flows per second", min = "1", max = "10000",
                description = "firstPacket mode: new flows queued per second at most (1-10000); the "
                + "excess is not queued and meets the default-drop baseline")
        int rateLimit() default 2000;

        @AttributeDefinition(name = "Burst", min = "1", max = "10000",
                description = "firstPacket mode: burst allowed above rateLimit (1-10000)")
        int rateBurst() default 200;

        @AttributeDefinition(name = "Batch size", min = "1", max = "1024",
                description = "Messages taken per receive call (1-1024)")
        int batchSize() default 64;

        @AttributeDefinition(name = "Recent drops kept", min = "1", max = "100000",
                description = "Recent drops kept for the console")
        int recentDrops() default 256;
    }

    @Reference(service = LoggerFactory.class)
    private Logger log;

    private volatile BypassTable bypassTable;
    private volatile PacketDecider decider;
    private volatile ConnectionTracker tracker;

    /** Which backend queues in this kernel, probed once: SCR makes a new instance at every reconfiguration. */
    private static volatile QueueRules.Detection detected;

    private HookSettings settings;
    private QueueRules rules;
    private DropRing drops = new DropRing(1);
    private ScheduledExecutorService worker;
    private volatile QueueConsumer consumer;
    private volatile boolean rulesInstalled;
    private volatile String problem = "not started";
    private String lastLogged;

    private final Commands commands;
    private final ThreadFactory workerThreads;

    public NfqueueHook() {
        this.commands = new Commands(List.of());
        this.workerThreads = r -> {
            Thread t = new Thread(r, "flexwall-nfqueue-worker");
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * For tests without OSGi: {@code commands} run the netfilter tools and {@code workerThreads} make the thread
     * that opens the queue socket, both in the test's network namespace.
     */
    NfqueueHook(Logger log, Commands commands, ThreadFactory workerThreads) {
        this.log = log;
        this.commands = commands;
        this.workerThreads = workerThreads;
    }

    @Activate
    void activate(Config config) {
        try {
            settings = HookSettings.of(config);
        } catch (IllegalArgumentException e) {
            problem = "configuration " + PID + ": " + e.getMessage();
            log.error("{}; the hook stays off and the kernel baseline decides alone (fail closed)", problem);
            return;
        }
        drops = new DropRing(settings.recentDrops());
        rules = new QueueRules(commands, new QueueRules.Settings(settings.mode(), settings.queueNum(),
                settings.rateLimit(), settings.rateBurst()), detected);
        worker = Executors.newSingleThreadScheduledExecutor(workerThreads);
        worker.scheduleWithFixedDelay(this::supervise, 0, RETRY_SECONDS, TimeUnit.SECONDS);
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        if (worker == null) {
            return;
        }
        worker.shutdownNow();
        worker.awaitTermination(30, TimeUnit.SECONDS);
        if (rulesInstalled) {
            try {
                rules.remove();
            } catch (IOException e) {
                log.error("NFQUEUE {}: could not remove the queue rules ({}); until they go, new flows to ports "
                        + "not yet permitted are dropped", settings.queueNum(), e.getMessage());
            }
            rulesInstalled = false;
        }
        QueueConsumer c = consumer;
        if (c != null && !c.stop(2_000)) {
            log.warn("NFQUEUE {}: the receive thread did not stop within 2 s", settings.queueNum());
        }
        consumer = null;
    }

    /** Runs on the worker: (re)starts what is not running. */
    private void supervise() {
        try {
            QueueConsumer c = consumer;
            if (c == null || !c.alive()) {
                if (c != null && c.failure() != null) {
                    log.error("NFQUEUE {}: {}; restarting it", settings.queueNum(), c.failure());
                }
                consumer = startConsumer();
                log.info("NFQUEUE {} bound: mode {}, copy range {}, batch {}", settings.queueNum(),
                        settings.mode().configName, settings.kernelCopyRange(), settings.batchSize());
            }
            applyRules();
            problem = null;
        } catch (QueueException | IOException | RuntimeException e) {
            if (Thread.currentThread().isInterrupted()) {
                return; // deactivating interrupted a command: the rules are removed next, nothing to report
            }
            problem = e.getMessage();
            if (!problem.equals(lastLogged)) {
                log.error("NFQUEUE {}: {} (retrying every {} s; meanwhile the kernel baseline decides alone)",
                        settings.queueNum(), problem, RETRY_SECONDS);
                lastLogged = problem;
            }
        }
    }

    private QueueConsumer startConsumer() throws QueueException {
        QueueSocket socket = QueueSocket.open(settings.queueNum(), settings.kernelCopyRange(), settings.queueMaxLen(),
                settings.rcvbuf(), settings.batchSize());
        Supplier<BypassTable> table = () -> bypassTable;
        Supplier<PacketDecider> packetDecider = this::boundDecider;
        Policy policy = settings.mode() == Mode.FIRST_PACKET ? Policy.firstPacket(table)
                : Policy.userspace(packetDecider);
        try {
            QueueConsumer c = new QueueConsumer(socket, policy, drops, (message, e) -> {
                if (e == null) {
                    log.warn(message);
                } else {
                    log.warn(message, e);
                }
            });
            c.start();
            return c;
        } catch (RuntimeException | Error e) {
            socket.close(); // else the queue stays bound to a socket nobody reads: the next start finds it taken
            throw e;
        }
    }

    /**
     * Installs the rules once, and again when someone removed them. They never change with the permitted ports: a
     * packet to a verified socket carries the nft baseline's mark, which the rules leave to the kernel. Worker thread.
     */
    private void applyRules() throws IOException {
        if (rulesInstalled && !rules.present()) {
            log.warn("NFQUEUE {}: the queue rules were removed by someone else; installing them again",
                    settings.queueNum());
            rulesInstalled = false;
        }
        if (!rulesInstalled) {
            boolean javaDecides = settings.mode() == Mode.USERSPACE;
            if (javaDecides) {
                adoptKernelConnections(); // before the first packet reaches the Java ICF
            }
            QueueRules.Detection d = rules.install();
            detected = d;
            rulesInstalled = true;
            log.info("NFQUEUE {}: rules installed with {}: {}", settings.queueNum(), d.backend().label, d.reason());
            if (javaDecides) {
                adoptKernelConnections(); // and those conntrack admitted while the rules went in
            }
        }
    }

    /**
     * userspace mode: the Java ICF decides from now on where conntrack did, so it takes over conntrack's established
     * flows first and sessions survive the swap. Without an ICF, or when conntrack cannot be read, the mode still
     * starts: flows the ICF does not know are dropped (fail closed) and TCP ones picked up again from their next
     * outbound segment where the ICF's loosePickup allows.
     */
    private void adoptKernelConnections() {
        ConnectionTracker t = tracker;
        if (t == null) {
            log.warn("NFQUEUE {}: no stateful ICF bound to take over the kernel's established flows", settings.queueNum());
            return;
        }
        KernelFlows.adopt(t, log, "NFQUEUE " + settings.queueNum());
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

    // --- references: optional, dynamic, greedy; read once per packet ----------------------------------------------

    /** firstPacket mode's question: packet bypass's table, which has the port store verify the socket. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindBypassTable(BypassTable t) {
        bypassTable = t;
    }

    void unbindBypassTable(BypassTable t) {
        if (bypassTable == t) {
            bypassTable = null; // fail closed: first packets are dropped until packet bypass is back
        }
    }

    /** The engine's entry stage (packet-bypass, FIG. 8), never the ICF behind it: that one would skip the bypass. */
    static final String DECIDER_TARGET = PacketDecider.TARGET_BYPASS;

    @Reference(target = DECIDER_TARGET, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindDecider(PacketDecider d) {
        decider = d;
    }

    void unbindDecider(PacketDecider d) {
        if (decider == d) {
            decider = null; // fail closed: every queued packet is dropped until a decider is back
        }
    }

    /** The decider userspace mode asks now, or null (then it drops). */
    PacketDecider boundDecider() {
        return decider;
    }

    // --- PacketHook ----------------------------------------------------------------------------------------------

    @Override
    public String name() {
        return "nfqueue";
    }

    @Override
    public String status() {
        return QueueStatus.describe(settings, consumer, rulesInstalled, problem, bypassTable != null,
                decider != null);
    }

    /**
     * Not protecting while its queue is not bound or its rules are not in the kernel (the baseline then drops what
     * they would have queued: new flows to ports not yet open). A hook swap waits for this to be empty.
     */
    @Override
    public java.util.Optional<String> problem() {
        QueueConsumer c = consumer;
        String p = problem;
        if (settings == null || c == null || !c.alive() || !rulesInstalled) {
            return java.util.Optional.of("NFQUEUE " + (settings == null ? "" : settings.queueNum() + " ")
                    + "is not deciding: " + (p != null ? p : c == null || !c.alive() ? "its receive thread is not "
                    + "running yet" : "its kernel rules are not installed yet") + "; the kernel baseline drops what "
                    + "it would queue");
        }
        return java.util.Optional.empty();
    }

    // --- PacketCounters -----------------------------------------------------------------------------------------

    @Override
    public String part() {
        return "nfqueue hook";
    }

    /** The queue's verdicts since its receive thread started; empty while none runs. */
    @Override
    public Map<String, Long> counters() {
        return QueueStatus.counters(consumer);
    }

    @Override
    public List<DroppedPacket> recentDrops() {
        return drops.snapshot();
    }
}
