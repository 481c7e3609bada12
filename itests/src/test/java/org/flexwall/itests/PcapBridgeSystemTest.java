package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pcap hook as a bump in the wire (issue 16): three namespaces (outside, bridge, inside; {@link PcapNetwork}), the
 * appliance in the inside one with its netfilter hooks stopped and their table removed, so the pcap bridge in the
 * bridge namespace is all that stands between outside and inside. The trusted service (a copy of socat, trusted by
 * {@link ApplianceLab}) listens inside on {@link ApplianceLab#TRUSTED}, untrusted listeners beside it
 * ({@link UntrustedTargets}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // the last two stop the bridge
class PcapBridgeSystemTest {
    private static final int OUTSIDE_ECHO = 9000;

    private Path work;
    private PcapNetwork network;
    private ApplianceLab lab;

    @BeforeAll
    void startBridge(@TempDir Path dir) throws Exception {
        work = dir;
        OutsideNetwork.require();
        network = PcapNetwork.create();
        lab = ApplianceLab.start(work, network.pcapSettings("bridge"));
        PcapLab.leaveOnlyThePcapHook(lab);
        PcapLab.awaitActive(lab);
    }

    @AfterAll
    void stop() throws Exception {
        if (lab != null) {
            lab.close();
        }
        if (network != null) {
            network.close();
        }
    }

    @Test
    void theTrustedServiceInsideIsReachableFromOutsideThroughTheBridgeOverIpv4AndIpv6() throws Exception {
        for (String target : List.of(PcapNetwork.INSIDE_V4, "[" + PcapNetwork.INSIDE_V6 + "]")) {
            String echoed = network.outside("sh", "-c", "echo through-the-bridge | timeout 20 socat -t 5 - TCP:"
                    + target + ":" + ApplianceLab.TRUSTED).output();
            assertTrue(echoed.contains("through-the-bridge"), target + ": " + echoed + "\n" + PcapLab.status(lab));
        }
        String counters = PcapLab.counters(lab).toString();
        assertTrue(PcapLab.counter(lab, "from outside: IP forwarded") > 0, counters);
        assertTrue(PcapLab.counter(lab, "from outside: ARP forwarded") > 0, counters);
    }

    @Test
    void aConnectionOpenedFromInsideToAnOutsideServerGetsItsReplies() throws Exception {
        network.start(network.outside, "socat", "TCP-LISTEN:" + OUTSIDE_ECHO + ",reuseaddr,fork", "EXEC:/bin/cat");
        ApplianceLab.awaitListening(network.outside, "tcp", OUTSIDE_ECHO);
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(PcapNetwork.OUTSIDE_V4, OUTSIDE_ECHO), 5000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            byte[] message = "a reply for the inside\n".repeat(2000).getBytes(StandardCharsets.US_ASCII);
            out.write(message);
            s.shutdownOutput();
            String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertEquals(message.length, reply.length(), "the echo came back cut short\n" + PcapLab.status(lab));
        }
        assertTrue(PcapLab.counter(lab, "from inside: IP forwarded") > 0, PcapLab.counters(lab).toString());
    }

    @Test
    void nmapFromOutsideFindsOnlyTheTrustedPortOpenAndNoRstOrIcmpLeavesTheInside() throws Exception {
        // the lab's untrusted listeners wait on 7001 (TCP) and 7002 (UDP); nothing listens on 7003
        Path capture = work.resolve("outside.pcap");
        Map<Integer, String> ports;
        try (Capture c = PcapLab.capture(network, capture)) {
            ports = nmap("-sS", "-p", "6990-7010");
            // unsolicited probes a stateless filter might let by: a stray ACK and UDP to the untrusted listeners
            network.outside("hping3", "-A", "-p", String.valueOf(UntrustedTargets.TCP), "-c", "3", "-i", "u100000",
                    PcapNetwork.INSIDE_V4);
            network.outside("hping3", "--udp", "-p", String.valueOf(UntrustedTargets.UDP), "-c", "3", "-i",
                    "u100000", PcapNetwork.INSIDE_V4);
            network.outside("hping3", "--udp", "-p", String.valueOf(UntrustedTargets.CLOSED), "-c", "3", "-i",
                    "u100000", PcapNetwork.INSIDE_V4);
        }
        assertEquals(Map.of(ApplianceLab.TRUSTED, "open"), ports, "nmap -sS 6990-7010 through the pcap bridge");
        List<String> fromInside = Capture.read(capture, "src", "host", PcapNetwork.INSIDE_V4);
        assertTrue(fromInside.stream().anyMatch(l -> l.contains("." + ApplianceLab.TRUSTED + " > ")
                && l.contains("Flags [S.]")), "the capture missed the trusted port's SYN-ACK, so it proves nothing: "
                        + fromInside);
        assertEquals(List.of(), Capture.read(capture, "src", "host", PcapNetwork.INSIDE_V4, "and", "icmp"),
                "ICMP left the inside");
        for (String line : fromInside) {
            if (line.contains("Flags [R")) {
                assertTrue(line.contains(" " + PcapNetwork.INSIDE_V4 + "." + ApplianceLab.TRUSTED + " > "),
                        "a RST left the inside from a port no trusted program listens on: " + line);
            }
        }
        assertEquals(0, lab.untrusted.delivered(), "connections or datagrams reached the untrusted listeners");
        String counters = PcapLab.counters(lab).toString();
        assertTrue(PcapLab.counter(lab, "from outside: dropped by the engine") >= 20 + 9, counters);
    }

    @Test
    @Order(Integer.MAX_VALUE - 1) // after the tests without an order
    void aCleanStopHandsTheInterfacesBackToTheKernelBridgeAndAStartTakesThemAgain() throws Exception {
        assertTrue(kernelForwardingBlocked(), "the pcap bridge runs without blocking br0");
        WebConsole console = lab.console();
        console.bundleAction("org.flexwall.hook-pcap", "stop");
        assertTrue(!kernelForwardingBlocked(), "a clean stop left br0 blocked");
        assertTrue(echo(PcapNetwork.INSIDE_V4).contains("through-br0"), "br0 does not forward after the clean stop");

        console.bundleAction("org.flexwall.hook-pcap", "start");
        PcapLab.awaitActive(lab);
        assertTrue(kernelForwardingBlocked(), "the pcap bridge started again without blocking br0");
    }

    @Test
    @Order(Integer.MAX_VALUE)
    void whenTheJvmDiesNothingIsForwardedAnyMore() throws Exception {
        assertTrue(echo(PcapNetwork.INSIDE_V4).contains("through-br0"), "the bridge does not forward to begin with");
        lab.killAppliance(); // SIGKILL: no clean stop runs
        assertTrue(kernelForwardingBlocked(), "the JVM's death unblocked br0");
        String echoed = echo(PcapNetwork.INSIDE_V4);
        assertTrue(!echoed.contains("through-br0"), "the trusted service was reached with no bridge running: "
                + echoed);
    }

    /** Whether the pcap hook's nft table that keeps br0 from forwarding is in the bridge namespace. */
    private boolean kernelForwardingBlocked() throws Exception {
        return PcapNetwork.in(network.bridge, "nft", "list", "table", "bridge", "flexwall_pcap").ok();
    }

    /** A line sent from outside to the trusted echo service inside and what came back (within 5 s). */
    private String echo(String target) throws Exception {
        return network.outside("sh", "-c", "echo through-br0 | timeout 10 socat -t 5 - TCP:" + target + ":"
                + ApplianceLab.TRUSTED + ",connect-timeout=5").output();
    }

    /** nmap's port states from outside against the inside's IPv4 address: port to state, those it lists. */
    private Map<Integer, String> nmap(String... options) throws Exception {
        List<String> argv = new java.util.ArrayList<>(List.of("nmap", "-n", "-Pn", "--max-retries", "1", "-oG", "-",
                "--defeat-rst-ratelimit"));
        argv.addAll(List.of(options));
        argv.add(PcapNetwork.INSIDE_V4);
        String out = network.outside(argv.toArray(String[]::new)).check().output();
        Map<Integer, String> states = new TreeMap<>();
        Matcher m = Pattern.compile("(\\d+)/([a-z|]+)/(tcp|udp)").matcher(out);
        while (m.find()) {
            if (!m.group(2).equals("filtered")) {
                states.put(Integer.parseInt(m.group(1)), m.group(2));
            }
        }
        assertTrue(out.contains("Ports:") || out.contains("Ignored State"), out);
        return states;
    }
}
