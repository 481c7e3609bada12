package org.flexwall.itests;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import org.flexwall.testing.Commands;

import jakarta.json.Json;
import jakarta.json.JsonObject;

/**
 * Three network namespaces in a row for the pcap hook (bump in the wire), made by a test and always removed:
 * <pre>
 * outside ns (po0 10.78.0.1) ── veth ── (pbo0) bridge ns (pbi0) ── veth ── (pcapin0 10.78.0.2) inside = this JVM
 *                                         br0 over pbo0 + pbi0: the kernel path
 * </pre>
 * The appliance runs in the inside namespace (the test JVM's, see OutsideNetwork), so its port monitor sees the trusted
 * service's sockets; its pcap hook opens pbo0 and pbi0 in the bridge namespace. The Linux bridge br0 forwards when no
 * pcap bridge runs; the pcap bridge blocks it while it runs. Offloads are off on every veth: a pcap bridge forwards
 * frames as captured, and a veth's unfinished checksums or 64 KB GSO frames would not survive being sent again.
 */
final class PcapNetwork implements AutoCloseable {
    static final String OUTSIDE_V4 = "10.78.0.1", INSIDE_V4 = "10.78.0.2";
    static final String OUTSIDE_V6 = "fd00:78::1", INSIDE_V6 = "fd00:78::2";
    static final String OUTSIDE_PORT = "pbo0", INSIDE_PORT = "pbi0", INSIDE_HOST = "pcapin0", OUTSIDE_HOST = "po0";

    final String outside;
    final String bridge;
    private final List<Process> processes = new ArrayList<>();

    private PcapNetwork(String suffix) {
        outside = "fwt-po-" + suffix;
        bridge = "fwt-pb-" + suffix;
    }

    static PcapNetwork create() throws IOException {
        PcapNetwork n = new PcapNetwork(Integer.toHexString(ThreadLocalRandom.current().nextInt()));
        try {
            n.setUp();
            return n;
        } catch (IOException | RuntimeException e) {
            n.close();
            throw e;
        }
    }

    private void setUp() throws IOException {
        here("ip", "netns", "add", outside).check();
        here("ip", "netns", "add", bridge).check();
        here("ip", "link", "add", OUTSIDE_HOST, "netns", outside, "type", "veth", "peer", "name", OUTSIDE_PORT,
                "netns", bridge).check();
        here("ip", "link", "add", INSIDE_HOST, "type", "veth", "peer", "name", INSIDE_PORT, "netns", bridge).check();
        in(outside, "ip", "link", "set", "lo", "up").check();
        in(bridge, "ip", "link", "set", "lo", "up").check();
        in(bridge, "ip", "link", "add", "br0", "type", "bridge").check();
        for (String port : List.of(OUTSIDE_PORT, INSIDE_PORT)) {
            in(bridge, "ip", "link", "set", port, "master", "br0").check();
            in(bridge, "ethtool", "-K", port, "tx", "off", "tso", "off", "gso", "off", "gro", "off").check();
            in(bridge, "ip", "link", "set", port, "up").check();
        }
        in(bridge, "ip", "link", "set", "br0", "up").check();
        in(outside, "ethtool", "-K", OUTSIDE_HOST, "tx", "off", "tso", "off", "gso", "off", "gro", "off").check();
        in(outside, "ip", "addr", "add", OUTSIDE_V4 + "/24", "dev", OUTSIDE_HOST).check();
        in(outside, "ip", "addr", "add", OUTSIDE_V6 + "/64", "dev", OUTSIDE_HOST, "nodad").check();
        in(outside, "ip", "link", "set", OUTSIDE_HOST, "up").check();
        here("ethtool", "-K", INSIDE_HOST, "tx", "off", "tso", "off", "gso", "off", "gro", "off").check();
        here("ip", "addr", "add", INSIDE_V4 + "/24", "dev", INSIDE_HOST).check();
        here("ip", "addr", "add", INSIDE_V6 + "/64", "dev", INSIDE_HOST, "nodad").check();
        here("ip", "link", "set", INSIDE_HOST, "up").check();
    }

    /** The configuration of the pcap hook over this network, as ApplianceLab's settings. */
    JsonObject pcapSettings(String mode) {
        return Json.createObjectBuilder().add("org.flexwall.hook.pcap", Json.createObjectBuilder()
                .add("mode", mode).add("outsideInterface", OUTSIDE_PORT).add("insideInterface", INSIDE_PORT)
                .add("namespace", bridge)).build();
    }

    Commands.Result outside(String... argv) throws IOException {
        return in(outside, argv);
    }

    static Commands.Result here(String... argv) throws IOException {
        return OutsideNetwork.here(argv);
    }

    static Commands.Result in(String namespace, String... argv) throws IOException {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        command.addAll(List.of(argv));
        return OutsideNetwork.here(command.toArray(String[]::new));
    }

    /** Starts a long-running command in {@code namespace}, output discarded; it is killed on close. */
    Process start(String namespace, String... argv) throws IOException {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        command.addAll(List.of(argv));
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        processes.add(p);
        return p;
    }

    /** A process started elsewhere, killed on close. */
    Process track(Process p) {
        processes.add(p);
        return p;
    }

    @Override
    public void close() throws IOException {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        here("ip", "link", "del", INSIDE_HOST); // takes its peer with it
        here("ip", "netns", "del", outside);
        here("ip", "netns", "del", bridge);
    }
}
