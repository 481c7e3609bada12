package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import javax.xml.parsers.DocumentBuilderFactory;

import jakarta.json.JsonObject;

import org.flexwall.testing.Await;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import org.flexwall.testing.Commands.Result;

/**
 * The packet path seen from the outside (FIG. 6 and FIG. 8): the appliance image runs in the test JVM's namespace,
 * scanners and clients run in an outside namespace across a veth pair (see {@link OutsideNetwork}), and trusted and
 * untrusted programs listen on the appliance. Anti-lockout is bound to loopback, so nothing on wan0 is open by default.
 */
class PacketPathSystemTest {
    // inside nmap's top 100 ports of each protocol, and none of the ports nmap's host discovery probes (80, 443)
    private static final int TRUSTED_TCP = 25;
    private static final int UNTRUSTED_TCP = 110;
    private static final int TRUSTED_UDP = 53;
    private static final int UNTRUSTED_UDP = 161;
    private static final int ATTEMPTS = 1000;

    @TempDir
    static Path work; // removed after the class, with the programs and data the tests made there
    private static Path data;
    private static Path server;
    private static Path impostor;
    private static Path listener;
    private static Path untrustedListener;
    private static Path race;
    private static ApplianceProcess appliance;
    private static OutsideNetwork outside;
    private final List<Process> programs = new ArrayList<>();

    @BeforeAll
    static void startApplianceWithOneTrustedServerAndOneTrustedListener() throws Exception {
        OutsideNetwork.require();
        Path bin = Files.createDirectory(work.resolve("bin"));
        server = Files.copy(Path.of("/usr/bin/socat"), bin.resolve("server"));
        impostor = Programs.otherBytes(server, bin.resolve("impostor"));
        listener = Programs.compile(work, "packetpath/listener.c", bin.resolve("listener"));
        untrustedListener = Programs.otherBytes(listener, bin.resolve("untrusted-listener"));
        race = Programs.compile(work, "packetpath/race.c", bin.resolve("race"));

        data = ApplianceImage.dataDirectory(work.resolve("data"));
        appliance = ApplianceProcess.startManagedOnLoopback(work, data);
        for (Path p : List.of(server, listener)) {
            JsonObject answer = flexwall("trust", p.toString(), p.getFileName().toString());
            assertTrue(answer.getBoolean("ok"), answer.toString());
        }
        outside = OutsideNetwork.create();
    }

    @AfterAll
    static void stopEverything() throws Exception {
        if (outside != null) {
            outside.close();
        }
        if (appliance != null) {
            appliance.close();
            ApplianceImage.flexwall(data, "disable");
        }
    }

    @AfterEach
    void stopPrograms() throws InterruptedException {
        for (Process p : programs) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        programs.clear();
    }

    @Test
    void nmapFindsTheHostDownAndEveryPortFilteredButTheTrustedOnesAndNoRstOrUnreachableLeaves() throws Exception {
        startHere(server, "TCP6-LISTEN:" + TRUSTED_TCP + ",ipv6only=0,reuseaddr,fork", "EXEC:/bin/cat");
        startHere(server, "-T", "1", "UDP6-RECVFROM:" + TRUSTED_UDP + ",ipv6only=0,fork", "EXEC:/bin/cat");
        startHere(impostor, "TCP6-LISTEN:" + UNTRUSTED_TCP + ",ipv6only=0,reuseaddr,fork", "EXEC:/bin/cat");
        startHere(impostor, "UDP6-RECVFROM:" + UNTRUSTED_UDP + ",ipv6only=0,fork", "EXEC:/bin/cat");
        awaitPermitted(List.of("tcp/ipv4/" + TRUSTED_TCP, "tcp/ipv6/" + TRUSTED_TCP,
                "udp/ipv4/" + TRUSTED_UDP, "udp/ipv6/" + TRUSTED_UDP));
        // the untrusted ports must be filtered because of the firewall, not because nothing listens there yet
        awaitSocket(List.of(), "-ltn", UNTRUSTED_TCP);
        awaitSocket(List.of(), "-lun", UNTRUSTED_UDP);
        Path capture = work.resolve("scan.pcap");

        try (Capture c = Capture.start(capture)) {
            for (String target : List.of(OutsideNetwork.APPLIANCE_V4, OutsideNetwork.APPLIANCE_V6)) {
                // ARP and neighbour discovery answer for any host on the link whatever its IP firewall; a scanner
                // behind a router meets what this one meets without them
                String discovery = nmap("-sS", target, false).output();
                assertTrue(discovery.contains("<hosts up=\"0\" down=\"1\""), target + ": " + discovery);

                Map<String, String> notTrusted = Map.of("-sS", "filtered", "-sA", "filtered", "-sN", "open|filtered",
                        "-sF", "open|filtered", "-sX", "open|filtered", "-sU", "open|filtered");
                for (var scan : notTrusted.entrySet()) {
                    Map<Integer, String> expected = switch (scan.getKey()) {
                        case "-sS" -> Map.of(TRUSTED_TCP, "open");
                        case "-sA" -> Map.of(TRUSTED_TCP, "unfiltered"); // the trusted port's own stack answers
                        case "-sU" -> Map.of(TRUSTED_UDP, "open");
                        default -> Map.of(); // an open port ignores these probes: nothing answers at all
                    };
                    assertPortStates(nmap(scan.getKey(), target, true), expected, scan.getValue());
                }
            }
        }

        List<String> left = Capture.read(capture, "src", "host", OutsideNetwork.APPLIANCE_V4, "or", "src", "host",
                OutsideNetwork.APPLIANCE_V6);
        for (String family : List.of("IP " + OutsideNetwork.APPLIANCE_V4, "IP6 " + OutsideNetwork.APPLIANCE_V6)) {
            String synAck = " " + family + "." + TRUSTED_TCP + " > ";
            assertTrue(left.stream().anyMatch(l -> l.contains(synAck) && l.contains("Flags [S.]")),
                    "the capture missed the trusted port's SYN-ACK (" + family + "), so it proves nothing");
        }
        // ICMPv6 types below 128 are the errors (unreachable, parameter problem…); neighbour discovery is above
        assertEquals(List.of(), Capture.read(capture, "(src", "host", OutsideNetwork.APPLIANCE_V4, "or", "src", "host",
                OutsideNetwork.APPLIANCE_V6 + ")", "and", "(icmp", "or", "(icmp6", "and", "ip6[40]", "<", "128))"),
                "ICMP left the appliance (IPv4: any; IPv6: an error such as unreachable)");
        for (String line : left) {
            if (line.contains("Flags [R")) {
                assertTrue(line.matches(".* IP6? [0-9a-f:.]+\\." + TRUSTED_TCP + " > .*"),
                        "a RST left the appliance from a port no trusted program listens on: " + line);
            }
        }
    }

    @Test
    void aClientConnectingRightAfterATrustedProgramListensAlwaysGetsItsFirstSynAnswered() throws Exception {
        Path capture = work.resolve("race.pcap");
        List<Attempt> attempts;
        try (Capture c = Capture.start(capture, "tcp", "portrange", "20000-" + (20000 + ATTEMPTS - 1))) {
            attempts = race(listener, 20000, 1, 3000);
        }

        long ok = attempts.stream().filter(a -> a.result.equals("ok")).count();
        long[] micros = attempts.stream().filter(a -> a.connectMicros >= 0).mapToLong(a -> a.connectMicros)
                .sorted().toArray();
        Map<Integer, Integer> synsSent = new TreeMap<>();
        List<Integer> firstSynLost = Capture.firstSynUnanswered(capture, synsSent);
        long retransmitted = synsSent.values().stream().filter(n -> n > 1).count();
        System.out.printf("listen() then connect, trusted: %d/%d ok, connect p50 %.2f ms, p99 %.2f ms, max %.2f ms; "
                + "%d SYNs retransmitted, %d first SYNs unanswered%n", ok, ATTEMPTS, percentile(micros, 50) / 1e3,
                percentile(micros, 99) / 1e3, percentile(micros, 100) / 1e3, retransmitted, firstSynLost.size());
        assertEquals(ATTEMPTS, ok, "failed attempts: " + attempts.stream().filter(a -> !a.result.equals("ok")).toList());
        assertEquals(ATTEMPTS, synsSent.size(), "the capture missed attempts, so it proves nothing");
        // the proof that no first SYN was dropped, whatever the load: the SYN-ACK echoes that SYN's timestamp
        assertEquals(List.of(), firstSynLost, "ports whose first SYN got no answer (the client had to retransmit)");
        // the issue's bound: a lost first SYN costs one second; one starved by a loaded machine may take as long
        assertTrue(percentile(micros, 99) < 1_000_000, "connect p99 " + percentile(micros, 99) + " µs");
    }

    @Test
    void aClientConnectingToAnUntrustedListenerNeverGetsInNorAnAnswer() throws Exception {
        List<Attempt> attempts = race(untrustedListener, 30000, 50, 1500);

        Map<String, Long> byResult = new TreeMap<>();
        attempts.forEach(a -> byResult.merge(a.result, 1L, Long::sum));
        System.out.println("listen() then connect, untrusted: " + byResult);
        assertEquals(Map.of("timeout", (long) ATTEMPTS), byResult, "every SYN must be dropped silently");
    }

    @Test
    void theApplianceReachesOutOverTcpAndUdpDnsAndTheRepliesGetBack() throws Exception {
        Path site = Files.createDirectory(work.resolve("site"));
        Files.writeString(site.resolve("index.html"), "outside");
        startOutside("python3", "-m", "http.server", "8000", "--bind", "::", "--directory", site.toString());
        startOutside("python3", Programs.resource(work, "packetpath/dns_responder.py").toString(), "53", "192.0.2.7");
        // the servers listen before the first try: a lost first reply must fail the test, not be retried away
        awaitSocket(outside.inOutside(), "-ltn", 8000);
        awaitSocket(outside.inOutside(), "-lun", 53);

        for (String host : List.of(OutsideNetwork.OUTSIDE_V4, "[" + OutsideNetwork.OUTSIDE_V6 + "]")) {
            Result curl = OutsideNetwork.here("curl", "-sS", "--max-time", "3", "http://" + host + ":8000/").check();
            assertEquals("outside", curl.output(), host);
        }
        for (String resolver : List.of(OutsideNetwork.OUTSIDE_V4, OutsideNetwork.OUTSIDE_V6)) {
            try (DatagramSocket s = new DatagramSocket(0)) {
                assertEquals("192.0.2.7", resolve(s, resolver, "gateway.example"), resolver);
            }
        }
    }

    @Test
    void spoofedRepliesToFlowsThatDoNotExistAreDroppedSilently() throws Exception {
        Path capture = work.resolve("spoof.pcap");
        startHere(impostor, "TCP6-LISTEN:40080,ipv6only=0,reuseaddr,fork", "EXEC:/bin/cat");
        awaitSocket(List.of(), "-ltn", 40080);
        try (DatagramSocket waiting = new DatagramSocket(new InetSocketAddress("::", 40053))) {
            try (Capture c = Capture.start(capture)) {
                // "DNS replies" and TCP answers from the outside's servers to appliance ports that never asked;
                // hping3 speaks IPv4 only, nmap's nping sends the same over IPv6
                outside.outside("hping3", "-q", "-2", "-s", "53", "-k", "-p", "40053", "-c", "20", "-i", "u10000",
                        "-d", "40", OutsideNetwork.APPLIANCE_V4);
                outside.outside("nping", "-6", "-q", "--udp", "-g", "53", "-p", "40053", "-c", "20", "--delay", "10ms",
                        "--data-length", "40", OutsideNetwork.APPLIANCE_V6).check();
                for (String flags : List.of("SA", "A", "R", "F")) {
                    for (int port : List.of(40053, 40080)) {
                        outside.outside("hping3", "-q", "-" + flags, "-s", "443", "-k", "-p", String.valueOf(port),
                                "-c", "10", "-i", "u10000", OutsideNetwork.APPLIANCE_V4); // exits 1: no answer came
                    }
                    outside.outside("nping", "-6", "-q", "--tcp", "--flags", flags, "-g", "443", "-p", "40053,40080",
                            "-c", "10", "--delay", "10ms", OutsideNetwork.APPLIANCE_V6).check();
                }

                waiting.setSoTimeout(1000);
                DatagramPacket p = new DatagramPacket(new byte[512], 512);
                try {
                    waiting.receive(p);
                    throw new AssertionError("a spoofed reply was delivered from " + p.getSocketAddress());
                } catch (SocketTimeoutException expected) {
                    // nothing came
                }
            }
            // the same socket does get real replies, so the silence above is the firewall's doing
            startOutside("python3", Programs.resource(work, "packetpath/dns_responder.py").toString(), "53", "192.0.2.8");
            awaitSocket(outside.inOutside(), "-lun", 53);
            for (String resolver : List.of(OutsideNetwork.OUTSIDE_V4, OutsideNetwork.OUTSIDE_V6)) {
                assertEquals("192.0.2.8", resolve(waiting, resolver, "real.example"), resolver);
            }
        }
        // per family 20 datagrams, and 4 kinds of TCP segment × 2 ports × 10
        for (String to : List.of(OutsideNetwork.APPLIANCE_V4, OutsideNetwork.APPLIANCE_V6)) {
            assertEquals(100, Capture.read(capture, "src", "host", to.contains(":") ? OutsideNetwork.OUTSIDE_V6
                    : OutsideNetwork.OUTSIDE_V4, "and", "dst", "host", to, "and", "(tcp", "or", "udp)").size(),
                    "spoofed packets sent to " + to);
        }
        List<String> answers = Capture.read(capture, "(src", "host", OutsideNetwork.APPLIANCE_V4, "or", "src", "host",
                OutsideNetwork.APPLIANCE_V6 + ")", "and", "(tcp", "or", "icmp", "or", "(icmp6", "and", "ip6[40]", "<",
                "128))");
        assertEquals(List.of(), answers, "the appliance answered spoofed packets");
    }

    /** One nmap run from the outside; {@code pn} skips host discovery (-Pn). */
    private static Result nmap(String scan, String target, boolean pn) throws IOException {
        List<String> argv = new ArrayList<>(List.of("nmap", scan, "-n", "--disable-arp-ping", "--top-ports", "100",
                "-T4", "--max-retries", "1", "--initial-rtt-timeout", "100ms", "--max-rtt-timeout", "300ms", "--host-timeout", "120s",
                "-oX", "-")); // one link away: an answer takes well under a millisecond
        if (pn) {
            argv.add("-Pn");
        }
        if (target.contains(":")) {
            argv.add("-6");
        }
        argv.add(target);
        return outside.outside(argv.toArray(String[]::new)).check();
    }

    /** Every port nmap lists has its expected state, and every port it leaves unlisted has {@code others}. */
    private static void assertPortStates(Result nmap, Map<Integer, String> expected, String others) throws Exception {
        String xml = nmap.output();
        var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        Map<Integer, String> listed = new TreeMap<>();
        NodeList ports = doc.getElementsByTagName("port");
        for (int i = 0; i < ports.getLength(); i++) {
            Element port = (Element) ports.item(i);
            String state = ((Element) port.getElementsByTagName("state").item(0)).getAttribute("state");
            listed.put(Integer.parseInt(port.getAttribute("portid")), state);
        }
        int unlisted = 0;
        NodeList extra = doc.getElementsByTagName("extraports");
        for (int i = 0; i < extra.getLength(); i++) {
            Element e = (Element) extra.item(i);
            assertEquals(others, e.getAttribute("state"), String.join(" ", nmap.command()) + "\n" + xml);
            unlisted += Integer.parseInt(e.getAttribute("count"));
        }
        String scan = String.join(" ", nmap.command());
        assertEquals(new TreeMap<>(expected), listed, scan);
        assertEquals(100, listed.size() + unlisted, scan + "\n" + xml);
    }

    record Attempt(int port, String family, String result, long connectMicros) {}

    /** {@code race.c}: ATTEMPTS fresh listeners on consecutive ports, each connected to right after listen(). */
    private static List<Attempt> race(Path program, int firstPort, int window, int deadlineMs) throws IOException {
        Result r = OutsideNetwork.here(race.toString(), program.toString(), "/var/run/netns/" + outside.namespace,
                OutsideNetwork.APPLIANCE_V4, OutsideNetwork.APPLIANCE_V6, String.valueOf(firstPort),
                String.valueOf(ATTEMPTS), String.valueOf(window), String.valueOf(deadlineMs)).check();
        List<Attempt> attempts = r.output().lines().filter(l -> l.startsWith("attempt ")).map(l -> l.split(" "))
                .map(f -> new Attempt(Integer.parseInt(f[2]), f[3], f[4], Long.parseLong(f[5]))).toList();
        assertEquals(ATTEMPTS, attempts.size(), r.output());
        return attempts;
    }

    private static long percentile(long[] sorted, int p) {
        return sorted.length == 0 ? -1 : sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    /** Asks {@code resolver}'s DNS server (port 53) for the A record of {@code name} from socket {@code s}. */
    private static String resolve(DatagramSocket s, String resolver, String name) throws Exception {
        ByteBuffer q = ByteBuffer.allocate(512).putShort((short) 0x1234).putShort((short) 0x0100)
                .putShort((short) 1).putShort((short) 0).putShort((short) 0).putShort((short) 0);
        for (String label : name.split("\\.")) {
            q.put((byte) label.length()).put(label.getBytes(StandardCharsets.US_ASCII));
        }
        q.put((byte) 0).putShort((short) 1).putShort((short) 1);
        s.setSoTimeout(3000); // one query, no retry: the responder already listens
        s.send(new DatagramPacket(q.array(), q.position(), new InetSocketAddress(InetAddress.getByName(resolver), 53)));
        DatagramPacket reply = new DatagramPacket(new byte[512], 512);
        try {
            s.receive(reply);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no DNS reply from " + resolver);
        }
        byte[] r = Arrays.copyOf(reply.getData(), reply.getLength());
        return InetAddress.getByAddress(Arrays.copyOfRange(r, r.length - 4, r.length)).getHostAddress();
    }

    private void startHere(Path program, String... args) throws IOException {
        List<String> argv = new ArrayList<>(List.of(program.toString()));
        argv.addAll(List.of(args));
        programs.add(outside.startHere(argv.toArray(String[]::new)));
    }

    private void startOutside(String... argv) throws IOException {
        programs.add(outside.startOutside(argv));
    }

    private static void awaitPermitted(List<String> ports) throws Exception {
        Await.until(ports + " permitted", Duration.ofSeconds(15), () -> permitted().containsAll(ports),
                () -> "permitted: " + permitted() + "\n" + appliance.output());
    }

    private static List<String> permitted() throws IOException {
        return flexwall("ports").getJsonArray("permitted").stream().map(v -> v.asJsonObject())
                .map(p -> p.getString("protocol") + "/" + p.getString("family") + "/" + p.getInt("port")).toList();
    }

    /**
     * Waits at most 10 s until {@code ss kind} ("-ltn" or "-lun") shows a socket on {@code port}; {@code namespace} is
     * empty for the appliance's or {@code outside.inOutside()}.
     */
    private static void awaitSocket(List<String> namespace, String kind, int port) throws Exception {
        List<String> argv = new ArrayList<>(namespace);
        argv.addAll(List.of("ss", "-H", kind, "sport = :" + port));
        Await.until("a socket on " + port + " (" + String.join(" ", argv) + ")",
                () -> !OutsideNetwork.here(argv.toArray(String[]::new)).check().output().isBlank());
    }

    private static JsonObject flexwall(String... args) throws IOException {
        return ApplianceImage.flexwallJson(data, args);
    }
}
