package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.json.Json;
import jakarta.json.JsonObject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packet path keeps filtering while flexwall itself is killed or its hooks are swapped (issue "Packet path",
 * hot swap and fail closed): a trusted echo server on the appliance, a long TCP session and new connections to it from
 * the outside namespace, and unsolicited SYNs and datagrams all along to an untrusted listener and to a closed port.
 */
class CrashAndHotSwapSystemTest {
    private static final int TRUSTED = 7000;
    private static final int UNTRUSTED_TCP = 7001;
    private static final int UNTRUSTED_UDP = 7002;
    private static final int CLOSED = 7003;
    private static final String APPLIANCE = OutsideNetwork.APPLIANCE_V4;

    @TempDir
    Path work;
    private Path data;
    private Path config;
    private int consolePort;
    private Path server;
    private OutsideNetwork outside;
    private ApplianceProcess appliance;
    private Untrusted untrusted;

    @BeforeEach
    void startApplianceWithATrustedEchoServer() throws Exception {
        assumeTrue(OutsideNetwork.available(), "needs root inside the test network namespace (run through Maven)");
        server = Files.copy(Path.of("/usr/bin/socat"), Files.createDirectory(work.resolve("bin")).resolve("server"));
        data = Files.createDirectory(work.resolve("data"));
        JsonObject managementOnLoopback = Json.createObjectBuilder()
                .add("org.flexwall.hook.nftables", Json.createObjectBuilder().add("managementInterface", "lo")).build();
        consolePort = ApplianceImage.freePort();
        config = ApplianceImage.runtimeConfig(work.resolve("config"), consolePort, null, managementOnLoopback);
        appliance = startAppliance("first");
        JsonObject answer = flexwall("trust", server.toString(), "server");
        assertTrue(answer.getBoolean("ok"), answer.toString());
        outside = OutsideNetwork.create();
        outside.startHere(server.toString(), "TCP6-LISTEN:" + TRUSTED + ",ipv6only=0,reuseaddr,fork", "EXEC:/bin/cat");
        awaitTrustedPortPermitted();
        untrusted = new Untrusted();
    }

    @AfterEach
    void stopEverything() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] { untrusted, outside, appliance }) {
            if (c != null) {
                c.close();
            }
        }
        if (data != null) {
            ApplianceImage.flexwall(data, "disable");
        }
    }

    @Test
    void killingTheJvmUnderTrafficKeepsTheSessionAndTheFirewallClosedAndARestartRebuildsThePorts() throws Exception {
        Path capture = work.resolve("kill.pcap");
        Process session;
        try (Capture c = Capture.start(capture)) {
            List<Process> flood = untrusted.sendAll();
            session = outside.startOutside(work.resolve("session.out"), "python3", traffic("session.py"), APPLIANCE,
                    String.valueOf(TRUSTED), "600");
            Thread.sleep(3000);

            appliance.process.destroyForcibly().waitFor(); // SIGKILL: no deactivation runs
            appliance.close();
            Thread.sleep(5000); // traffic goes on against the kernel's baseline alone
            assertEquals(List.of(), probe(2), "new connections to the trusted port while flexwall was dead");

            appliance = startAppliance("second");
            awaitTrustedPortPermitted(); // rebuilt from the live socket: nobody trusted anything again
            assertEquals(List.of(), probe(2), "new connections to the trusted port after the restart");
            stopAll(flood);
        }

        assertSessionLasted(session);
        untrusted.assertNothingDelivered(capture);
    }

    @Test
    void hooksStoppedUpdatedAndSwappedAHundredTimesThroughTheWebConsoleNeverOpenNorBreakASession() throws Exception {
        String password = Files.readString(data.resolve("console-initial-password")).strip();
        WebConsole console = new WebConsole(appliance.port, password);
        Path capture = work.resolve("swap.pcap");
        Process session;
        Process prober;
        long started = System.nanoTime();
        try (Capture c = Capture.start(capture)) {
            List<Process> flood = untrusted.sendAll();
            session = outside.startOutside(work.resolve("session.out"), "python3", traffic("session.py"), APPLIANCE,
                    String.valueOf(TRUSTED), "600");
            prober = outside.startOutside(work.resolve("prober.out"), "python3", traffic("prober.py"), APPLIANCE,
                    String.valueOf(TRUSTED), "600");

            String mode = "firstPacket";
            for (int swap = 0; swap < 100; swap++) {
                switch (swap % 5) {
                    case 0 -> stopAndStart(console, "org.flexwall.hook-nftables");
                    case 1 -> stopAndStart(console, "org.flexwall.hook-nfqueue");
                    case 2 -> console.bundleAction("org.flexwall.hook-nftables", "update");
                    case 3 -> console.bundleAction("org.flexwall.hook-nfqueue", "update");
                    default -> { // every packet through Java, and back
                        mode = mode.equals("firstPacket") ? "userspace" : "firstPacket";
                        console.configure("org.flexwall.hook.nfqueue", Map.of("mode", mode));
                    }
                }
                awaitBothHooksActive(swap, mode);
            }
            stopAll(flood);
            prober.destroy();
            prober.waitFor(10, TimeUnit.SECONDS);
        }
        System.out.printf("100 hook swaps through the Web Console in %.1f s%n", (System.nanoTime() - started) / 1e9);

        assertSessionLasted(session);
        String probed = Files.readString(work.resolve("prober.out"));
        System.out.println("new connections during the swaps: " + probed.lines().reduce((a, b) -> b).orElse(""));
        assertTrue(probed.matches("(?s).*ok [1-9][0-9]* failed 0\\s*"), "new connections failed:\n" + probed);
        untrusted.assertNothingDelivered(capture);
    }

    private static void stopAndStart(WebConsole console, String bundle) throws Exception {
        console.bundleAction(bundle, "stop");
        assertEquals("Resolved", console.bundle(bundle).getString("state"), bundle + " did not stop");
        console.bundleAction(bundle, "start");
    }

    /** flexwall reports itself healthy, both hooks active again and the NFQUEUE hook in {@code mode}. */
    private void awaitBothHooksActive(int swap, String mode) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        JsonObject status = null;
        while (System.nanoTime() < end) {
            status = flexwall("status");
            List<String> hooks = status.getJsonArray("packetHooks").stream()
                    .map(h -> h.asJsonObject().getString("status")).toList();
            if (status.getBoolean("healthy") && hooks.size() == 2 && hooks.stream().noneMatch(h -> h.startsWith("not active"))
                    && hooks.stream().anyMatch(h -> h.startsWith("active: " + mode + ","))) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("not healthy 30 s after swap " + swap + ": " + status + "\n" + appliance.output());
    }

    private void assertSessionLasted(Process session) throws Exception {
        session.destroy(); // SIGTERM: the session reports and ends
        assertTrue(session.waitFor(20, TimeUnit.SECONDS), "the session did not end");
        String report = Files.readString(work.resolve("session.out"));
        System.out.println("session: " + report.strip());
        assertTrue(report.startsWith("exchanged "), report);
        assertEquals(0, session.exitValue(), report);
    }

    /** New connections to the trusted port for {@code seconds}: the failures (none when all got in). */
    private List<String> probe(int seconds) throws IOException {
        String out = outside.outside("python3", traffic("prober.py"), APPLIANCE, String.valueOf(TRUSTED),
                String.valueOf(seconds)).output();
        assertTrue(out.contains("ok "), out);
        return out.lines().filter(l -> l.startsWith("failed:")).toList();
    }

    private static void stopAll(List<Process> processes) throws InterruptedException {
        for (Process p : processes) {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private ApplianceProcess startAppliance(String name) throws Exception {
        ApplianceProcess p = ApplianceProcess.start(Files.createDirectories(work.resolve(name)),
                consolePort, List.of(), "--data", data.toString(), "--config", config.toString());
        p.awaitConsole(30);
        return p;
    }

    private void awaitTrustedPortPermitted() throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < end) {
            if (flexwall("ports").getJsonArray("permitted").stream()
                    .anyMatch(p -> p.asJsonObject().getInt("port") == TRUSTED)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("port " + TRUSTED + " was not permitted within 20 s\n" + appliance.output());
    }

    private String traffic(String script) throws IOException {
        return Programs.resource(work, "traffic/" + script).toString();
    }

    private JsonObject flexwall(String... args) throws IOException {
        List<String> withJson = new ArrayList<>(List.of(args));
        withJson.add("--json");
        return ApplianceImage.json(ApplianceImage.flexwall(data, withJson.toArray(String[]::new)));
    }

    /**
     * What must never get in: an untrusted listener (this JVM: java is not trusted) on a TCP and a UDP port, and a
     * closed port, flooded from the outside. A delivered datagram is counted; a delivered SYN would make the appliance
     * answer (SYN-ACK or RST), which the capture on wan0 shows.
     */
    private final class Untrusted implements AutoCloseable {
        private final ServerSocket tcp = new ServerSocket();
        private final DatagramSocket udp = new DatagramSocket(new InetSocketAddress("0.0.0.0", UNTRUSTED_UDP));
        private final AtomicInteger delivered = new AtomicInteger();

        Untrusted() throws IOException {
            tcp.bind(new InetSocketAddress("0.0.0.0", UNTRUSTED_TCP));
            daemon(() -> {
                while (true) {
                    try (Socket s = tcp.accept()) {
                        delivered.incrementAndGet();
                    }
                }
            });
            daemon(() -> {
                while (true) {
                    udp.receive(new DatagramPacket(new byte[1500], 1500));
                    delivered.incrementAndGet();
                }
            });
        }

        private interface Receiver {
            void run() throws IOException;
        }

        private static void daemon(Receiver receiver) {
            Thread t = new Thread(() -> {
                try {
                    receiver.run();
                } catch (IOException closed) {
                    // the socket was closed: the test is over
                }
            });
            t.setDaemon(true);
            t.start();
        }

        /** hping3 from the outside, 500 packets a second each: SYNs to both TCP ports, datagrams to the UDP one. */
        List<Process> sendAll() throws IOException {
            return List.of(
                    outside.startOutside("hping3", "-q", "-S", "-p", String.valueOf(UNTRUSTED_TCP), "-i", "u2000", APPLIANCE),
                    outside.startOutside("hping3", "-q", "-S", "-p", String.valueOf(CLOSED), "-i", "u2000", APPLIANCE),
                    outside.startOutside("hping3", "-q", "-2", "-p", String.valueOf(UNTRUSTED_UDP), "-d", "32", "-i",
                            "u2000", APPLIANCE));
        }

        void assertNothingDelivered(Path capture) throws IOException {
            List<String> sent = Capture.read(capture, "dst", "host", APPLIANCE, "and", "(dst", "port",
                    String.valueOf(UNTRUSTED_TCP), "or", "dst", "port", String.valueOf(UNTRUSTED_UDP), "or", "dst", "port",
                    String.valueOf(CLOSED) + ")");
            assertTrue(sent.size() > 1000, "the flood did not run: " + sent.size() + " packets");
            assertEquals(0, delivered.get(), "unsolicited packets delivered to the untrusted listener");
            List<String> answers = Capture.read(capture, "src", "host", APPLIANCE, "and", "(icmp", "or", "src", "port",
                    String.valueOf(UNTRUSTED_TCP), "or", "src", "port", String.valueOf(CLOSED) + ")");
            assertEquals(List.of(), answers, "the appliance answered unsolicited packets");
            System.out.println(sent.size() + " unsolicited packets sent, 0 delivered, 0 answered");
        }

        @Override
        public void close() throws IOException {
            tcp.close();
            udp.close();
        }
    }
}
