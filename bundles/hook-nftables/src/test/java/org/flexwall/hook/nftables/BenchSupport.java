package org.flexwall.hook.nftables;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.flexwall.testing.Commands;
import org.flexwall.testing.Configs;
import org.flexwall.testing.RecordingLogger;

/**
 * What the benchmark in {@code bench/} needs from the test fixtures: the lab's namespaces and the real component
 * switched on (baseline, ports permitted through the port store interface) or off (table deleted).
 */
public final class BenchSupport implements AutoCloseable {
    private final Lab lab = Lab.create();
    private final List<String> log = new ArrayList<>();
    private NftablesHook hook;

    public BenchSupport() throws IOException {
    }

    public String outside() {
        return lab.outside;
    }

    public String appliance() {
        return lab.appliance;
    }

    public String applianceV4() {
        return lab.applianceV4;
    }

    /** Starts {@code argv} in {@code ns}; it is killed on close. */
    public void start(String ns, String... argv) throws IOException {
        lab.start(ns, argv);
    }

    /** Waits until something in {@code ns} listens on TCP {@code port}. */
    public void awaitTcpListener(String ns, int port) {
        lab.awaitBound(ns, "-Hltn", port);
    }

    /** Waits until something in {@code ns} has bound UDP {@code port}. */
    public void awaitUdpSocket(String ns, int port) {
        lab.awaitBound(ns, "-Hlun", port);
    }

    /**
     * The baseline of the shipped defaults, with TCP and UDP {@code ports} permitted for IPv4 through the store;
     * {@code untrackPermitted} false keeps permitted traffic in conntrack (the baseline before that setting).
     */
    public void firewallOn(boolean untrackPermitted, int... ports) throws Exception {
        Fakes.Store store = new Fakes.Store();
        hook = new NftablesHook(RecordingLogger.into(log), List.of("ip", "netns", "exec", lab.appliance));
        hook.bindPortStore(store);
        store.bind(hook);
        hook.start(Configs.config(NftablesHook.Config.class, "untrackPermitted", untrackPermitted), Origin.NONE);
        for (int port : ports) {
            store.permit(Protocol.TCP, AddressFamily.IPV4, port);
            store.permit(Protocol.UDP, AddressFamily.IPV4, port);
        }
        hook.awaitSync();
        if (!hook.status().startsWith("baseline active, " + 2 * ports.length + " permitted ports")) {
            throw new IllegalStateException("firewall not on: " + hook.status());
        }
    }

    /** No firewall at all: the component stopped and table inet flexwall deleted. */
    public void firewallOff() throws Exception {
        if (hook != null) {
            hook.deactivate();
            hook = null;
        }
        Main.disable(new NftProgram(List.of("ip", "netns", "exec", lab.appliance), "nft"));
    }

    /** Connection-tracking entries in the appliance namespace now. */
    public long conntrackEntries() throws IOException {
        return Long.parseLong(Commands.ok(lab.appliance, "cat", "/proc/sys/net/netfilter/nf_conntrack_count").trim());
    }

    /** UDP datagrams the appliance namespace's stack has taken in (UdpInDatagrams). */
    public long udpInDatagrams() throws IOException {
        for (String line : Commands.ok(lab.appliance, "cat", "/proc/net/snmp").lines().toList()) {
            if (line.startsWith("Udp: ") && Character.isDigit(line.charAt(5))) {
                return Long.parseLong(line.split("\\s+")[1]);
            }
        }
        throw new IOException("no Udp line in /proc/net/snmp");
    }

    /** Runs {@code argv} in {@code ns} whatever its exit code. */
    public static void attempt(String ns, String... argv) throws IOException {
        Commands.run(ns, null, argv);
    }

    /** Runs {@code argv} in {@code ns}; returns its output, failing on a non-zero exit. */
    public static String run(String ns, String... argv) throws IOException {
        return Commands.ok(ns, argv);
    }

    @Override
    public void close() throws Exception {
        try {
            firewallOff();
        } finally {
            lab.close();
        }
    }
}
