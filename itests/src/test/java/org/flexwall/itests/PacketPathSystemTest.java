package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import javax.xml.parsers.DocumentBuilderFactory;

import jakarta.json.Json;
import jakarta.json.JsonObject;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import org.flexwall.itests.OutsideNetwork.Result;

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

    private static Path work;
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
        assumeTrue(OutsideNetwork.available(), "needs root inside the test network namespace (run through Maven)");
        work = Files.createTempDirectory("flexwall-packetpath");
        Path bin = Files.createDirectory(work.resolve("bin"));
        server = Files.copy(Path.of("/usr/bin/socat"), bin.resolve("server"));
        impostor = Programs.otherBytes(server, bin.resolve("impostor"));
        listener = Programs.compile(work, "packetpath/listener.c", bin.resolve("listener"));
        untrustedListener = Programs.otherBytes(listener, bin.resolve("untrusted-listener"));
        race = Programs.compile(work, "packetpath/race.c", bin.resolve("race"));

        data = Files.createDirectory(work.resolve("data"));
        int port = ApplianceImage.freePort();
        JsonObject managementOnLoopback = Json.createObjectBuilder()
                .add("org.flexwall.hook.nftables", Json.createObjectBuilder().add("managementInterface", "lo")).build();
        Path config = ApplianceImage.runtimeConfig(work.resolve("config"), port, null, managementOnLoopback);
        appliance = ApplianceProcess.start(work, port, List.of(), "--data", data.toString(), "--config", config.toString());
        appliance.awaitConsole(30);
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

        for (String line : Capture.read(capture, "src", "host", OutsideNetwork.APPLIANCE_V4, "or", "src", "host",
                OutsideNetwork.APPLIANCE_V6)) {
            assertTrue(!line.contains("unreachable"), "an ICMP unreachable left the appliance: " + line);
            if (line.contains("Flags [R")) {
                assertTrue(line.matches(".* IP6? [0-9a-f:.]+\\." + TRUSTED_TCP + " > .*"),
                        "a RST left the appliance from a port no trusted program listens on: " + line);
            }
        }
    }

    @Test
    void aClientConnectingRightAfterATrustedProgramListensAlwaysGetsInWithoutRetransmitting() throws Exception {
        List<Attempt> attempts = race(listener, 20000, 1, 3000);

        long ok = attempts.stream().filter(a -> a.result.equals("ok")).count();
        long[] micros = attempts.stream().filter(a -> a.connectMicros >= 0).mapToLong(a -> a.connectMicros)
                .sorted().toArray();
        System.out.printf("listen() then connect, trusted: %d/%d ok, connect p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
                ok, ATTEMPTS, percentile(micros, 50) / 1e3, percentile(micros, 99) / 1e3, percentile(micros, 100) / 1e3);
        assertEquals(ATTEMPTS, ok, "failed attempts: " + attempts.stream().filter(a -> !a.result.equals("ok")).toList());
        // a lost first SYN costs the client a retransmission one second later
        assertTrue(percentile(micros, 100) < 1_000_000, "a connect took a SYN retransmission: max "
                + percentile(micros, 100) + " µs");
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

        for (String host : List.of(OutsideNetwork.OUTSIDE_V4, "[" + OutsideNetwork.OUTSIDE_V6 + "]")) {
            Result curl = await(() -> OutsideNetwork.here("curl", "-sS", "--max-time", "3", "http://" + host + ":8000/"));
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
        try (DatagramSocket waiting = new DatagramSocket(new InetSocketAddress("0.0.0.0", 40053));
                Capture c = Capture.start(capture)) {
            startHere(impostor, "TCP-LISTEN:40080,reuseaddr,fork", "EXEC:/bin/cat");
            // "DNS replies" and TCP answers from the outside's servers to appliance ports that never asked
            outside.outside("hping3", "-q", "-2", "-s", "53", "-k", "-p", "40053", "-c", "20", "-i", "u10000", "-d", "40",
                    OutsideNetwork.APPLIANCE_V4);
            for (String flags : List.of("-SA", "-A", "-R", "-F")) {
                for (int port : List.of(40053, 40080)) {
                    outside.outside("hping3", "-q", flags, "-s", "443", "-k", "-p", String.valueOf(port), "-c", "10",
                            "-i", "u10000", OutsideNetwork.APPLIANCE_V4);
                }
            }

            waiting.setSoTimeout(1000);
            DatagramPacket p = new DatagramPacket(new byte[512], 512);
            try {
                waiting.receive(p);
                throw new AssertionError("a spoofed reply was delivered from " + p.getSocketAddress());
            } catch (SocketTimeoutException expected) {
                // nothing came
            }
            // the same socket does get a real reply, so the silence above is the firewall's doing
            startOutside("python3", Programs.resource(work, "packetpath/dns_responder.py").toString(), "53", "192.0.2.8");
            assertEquals("192.0.2.8", resolve(waiting, OutsideNetwork.OUTSIDE_V4, "real.example"));
        }
        List<String> answers = Capture.read(capture, "src", "host", OutsideNetwork.APPLIANCE_V4, "and", "(tcp", "or",
                "icmp)");
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
        s.setSoTimeout(1000);
        for (int attempt = 0; attempt < 10; attempt++) { // the responder may still be starting
            s.send(new DatagramPacket(q.array(), q.position(), new InetSocketAddress(InetAddress.getByName(resolver), 53)));
            DatagramPacket reply = new DatagramPacket(new byte[512], 512);
            try {
                s.receive(reply);
            } catch (SocketTimeoutException e) {
                continue;
            }
            byte[] r = Arrays.copyOf(reply.getData(), reply.getLength());
            return InetAddress.getByAddress(Arrays.copyOfRange(r, r.length - 4, r.length)).getHostAddress();
        }
        throw new AssertionError("no DNS reply from " + resolver);
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
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        List<String> now = List.of();
        while (System.nanoTime() < end) {
            now = flexwall("ports").getJsonArray("permitted").stream().map(v -> v.asJsonObject())
                    .map(p -> p.getString("protocol") + "/" + p.getString("family") + "/" + p.getInt("port")).toList();
            if (now.containsAll(ports)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("not permitted within 15 s: " + ports + "; permitted: " + now + "\n" + appliance.output());
    }

    interface Command {
        Result run() throws Exception;
    }

    /** Runs a command until it succeeds (a server in the outside namespace may still be starting), at most 10 s. */
    private static Result await(Command command) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        Result r = command.run();
        while (!r.ok() && System.nanoTime() < end) {
            Thread.sleep(200);
            r = command.run();
        }
        return r.check();
    }

    private static JsonObject flexwall(String... args) throws IOException {
        List<String> withJson = new ArrayList<>(List.of(args));
        withJson.add("--json");
        return ApplianceImage.json(ApplianceImage.flexwall(data, withJson.toArray(String[]::new)));
    }
}
