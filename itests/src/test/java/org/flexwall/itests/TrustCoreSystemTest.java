package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import jakarta.json.JsonObject;

import org.flexwall.testing.Await;
import org.flexwall.testing.NetnsLab;
import org.flexwall.testing.SystemTests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trust core end to end (FIG. 7, Tables 1 and 2): the appliance started from its image, real programs (copies of
 * socat) opening real sockets, and the operator's own command, {@code flexwall ports --json}, telling what is open.
 * Runs in the test JVM's network namespace; listeners bind the wildcard address, which only loopback reaches there.
 */
class TrustCoreSystemTest {
    @TempDir
    static Path work; // removed after the class, with the programs and data the tests made there
    private static Path trusted;
    private static Path untrusted;
    private static ApplianceProcess appliance;
    private static Path data;
    private final List<Process> programs = new ArrayList<>();

    @BeforeAll
    static void startApplianceAndTrustOneProgram() throws Exception {
        SystemTests.requireRoot("the port monitor needs root to see every process");
        Path bin = Files.createDirectory(work.resolve("bin"));
        trusted = Files.copy(Path.of("/usr/bin/socat"), bin.resolve("server"));
        untrusted = bin.resolve("impostor");
        Files.copy(trusted, untrusted);
        Files.write(untrusted, new byte[] { 0 }, java.nio.file.StandardOpenOption.APPEND); // same program, other bytes
        data = ApplianceImage.dataDirectory(work.resolve("data"));
        int port = ApplianceImage.freePort();
        Path config = ApplianceImage.runtimeConfig(work.resolve("config"), port, null);
        appliance = ApplianceProcess.start(work, port, List.of(), "--data", data.toString(), "--config", config.toString());
        appliance.awaitConsole(30);
        JsonObject answer = flexwall("trust", trusted.toString(), "server");
        assertTrue(answer.getBoolean("ok"), answer.toString());
    }

    @AfterAll
    static void stopAppliance() throws Exception {
        if (appliance != null) {
            appliance.close();
        }
    }

    @AfterEach
    void stopPrograms() throws InterruptedException {
        for (Process p : programs) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void trustedProgramGetsTcpAndUdpPortsInBothFamiliesAndLosesThemWhenItStops() throws Exception {
        int tcp = ApplianceImage.freePort();
        int udp4 = ApplianceImage.freePort();
        int udp6 = ApplianceImage.freePort();
        Process dualStackTcp = run(trusted.toString(), "TCP6-LISTEN:" + tcp + ",ipv6only=0,reuseaddr,fork", "EXEC:/bin/cat");
        run(trusted.toString(), "UDP4-RECVFROM:" + udp4 + ",fork", "EXEC:/bin/cat");
        run(trusted.toString(), "UDP6-RECVFROM:" + udp6 + ",ipv6only=1,fork", "EXEC:/bin/cat");

        Set<String> expected = Set.of("tcp/ipv4/" + tcp, "tcp/ipv6/" + tcp, "udp/ipv4/" + udp4, "udp/ipv6/" + udp6);
        awaitPermitted(p -> p.containsAll(expected), "dual-stack TCP opens both families, UDP v4 and v6-only each one");
        assertTrue(!permitted().contains("udp/ipv4/" + udp6), "an IPv6-only socket opens no IPv4 port");

        dualStackTcp.destroy();
        awaitPermitted(p -> !p.contains("tcp/ipv4/" + tcp) && !p.contains("tcp/ipv6/" + tcp), "closing removes the ports");
        assertTrue(permitted().contains("udp/ipv4/" + udp4), "the other program's ports stay");
    }

    @Test
    void killedTrustedProgramLosesItsPort() throws Exception {
        int tcp = ApplianceImage.freePort();
        Process server = run(trusted.toString(), "TCP-LISTEN:" + tcp + ",reuseaddr,fork", "EXEC:/bin/cat");
        awaitPermitted(p -> p.contains("tcp/ipv4/" + tcp), "the trusted listener is permitted");
        new ProcessBuilder("kill", "-9", Long.toString(server.pid())).start().waitFor();
        awaitPermitted(p -> !p.contains("tcp/ipv4/" + tcp), "kill -9 removes it");
    }

    @Test
    void copyOfTheTrustedProgramWithOtherBytesGetsNothing() throws Exception {
        int tcp = ApplianceImage.freePort();
        int control = ApplianceImage.freePort();
        run(untrusted.toString(), "TCP-LISTEN:" + tcp + ",reuseaddr,fork", "EXEC:/bin/cat");
        assertStaysClosed(tcp, control);
    }

    @Test
    void spoofedArgvZeroGetsNothing() throws Exception {
        int tcp = ApplianceImage.freePort();
        int control = ApplianceImage.freePort();
        run("bash", "-c", "exec -a " + trusted + " " + untrusted + " TCP-LISTEN:" + tcp + ",reuseaddr,fork EXEC:/bin/cat");
        assertStaysClosed(tcp, control);
    }

    @Test
    void untrustedBinaryStartedThroughASymlinkAtTheTrustedPathGetsNothing() throws Exception {
        Path link = work.resolve("bin/link-" + System.nanoTime());
        Path real = Files.copy(trusted, work.resolve("bin/real-" + System.nanoTime()));
        assertTrue(flexwall("trust", link.getParent().resolve(real.getFileName()).toString()).getBoolean("ok"));
        Files.delete(real);
        Files.createSymbolicLink(real, untrusted); // the trusted path now leads to the impostor
        int tcp = ApplianceImage.freePort();
        int control = ApplianceImage.freePort();
        run(real.toString(), "TCP-LISTEN:" + tcp + ",reuseaddr,fork", "EXEC:/bin/cat");
        assertStaysClosed(tcp, control);
    }

    @Test
    void trustedBinaryReplacedOnDiskRunsADeletedImageThatIsRefusedAndItsNextStartIsNotTrusted() throws Exception {
        Path program = Files.copy(trusted, work.resolve("bin/upgraded-" + System.nanoTime()));
        assertTrue(flexwall("trust", program.toString()).getBoolean("ok"));
        int before = ApplianceImage.freePort();
        run(program.toString(), "TCP-LISTEN:" + before + ",reuseaddr,fork", "EXEC:/bin/cat");
        awaitPermitted(p -> p.contains("tcp/ipv4/" + before), "the trusted program is permitted");

        Path replacement = Files.copy(untrusted, program.resolveSibling(program.getFileName() + ".new"));
        Files.move(replacement, program, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        // the running image is the trusted bytes, but a deleted file: a sign flexwall refuses (README, threat model)
        awaitPermitted(p -> !p.contains("tcp/ipv4/" + before), "the process running a deleted file loses its port");
        awaitTrue(() -> flexwall("ports").getJsonArray("refused").toString().contains("it runs a deleted file"),
                "refused with the reason");
        int after = ApplianceImage.freePort();
        run(program.toString(), "TCP-LISTEN:" + after + ",reuseaddr,fork", "EXEC:/bin/cat");

        assertStaysClosed(after, ApplianceImage.freePort());
    }

    @Test
    void processInAnotherNetworkNamespaceGetsNothing() throws Exception {
        try (NetnsLab lab = new NetnsLab("fwt-other")) {
            String ns = lab.namespace("ns");
            int tcp = ApplianceImage.freePort();
            int control = ApplianceImage.freePort();
            run("ip", "netns", "exec", ns, trusted.toString(), "TCP-LISTEN:" + tcp + ",reuseaddr,fork", "EXEC:/bin/cat");
            assertStaysClosed(tcp, control, List.of("ip", "netns", "exec", ns));
        } finally {
            stopPrograms();
            programs.clear();
        }
    }

    @Test
    void untrustedProcessSharingTheTrustedProgramsPortThroughReusePortClosesItAndIsReported() throws Exception {
        int tcp = ApplianceImage.freePort();
        run(trusted.toString(), "TCP-LISTEN:" + tcp + ",reuseaddr,reuseport,fork", "EXEC:/bin/cat");
        awaitPermitted(p -> p.contains("tcp/ipv4/" + tcp), "the trusted listener alone is permitted");
        run(untrusted.toString(), "TCP-LISTEN:" + tcp + ",reuseaddr,reuseport,fork", "EXEC:/bin/cat");
        awaitPermitted(p -> !p.contains("tcp/ipv4/" + tcp), "a second, untrusted listener on the port closes it");
        awaitTrue(() -> flexwall("ports").getJsonArray("refused").toString().contains(untrusted.toString()),
                "the untrusted sharer is reported");
    }

    @Test
    void untrustedProcessInheritingTheTrustedProgramsSocketClosesItIsReportedAndTheParentLeavingOpensNothing()
            throws Exception {
        Path parent = Programs.compile(work, "trustcore/inherit.c", work.resolve("bin/inherit"));
        assertTrue(flexwall("trust", parent.toString()).getBoolean("ok"));
        Path heir = Files.copy(Path.of("/usr/bin/sleep"), work.resolve("bin/heir")); // any untrusted program
        int tcp = ApplianceImage.freePort();
        int control = ApplianceImage.freePort();
        Process trustedParent = new ProcessBuilder(parent.toString(), Integer.toString(tcp), heir.toString(), "600")
                .redirectErrorStream(true).start();
        programs.add(trustedParent);
        BufferedReader said = new BufferedReader(new InputStreamReader(trustedParent.getInputStream(),
                StandardCharsets.US_ASCII));
        assertEquals("listening", said.readLine());
        awaitPermitted(p -> p.contains("tcp/ipv4/" + tcp), "the trusted program holding the socket alone is permitted");

        trustedParent.getOutputStream().write('\n'); // fork, and the child execs the untrusted program
        trustedParent.getOutputStream().flush();
        String child = said.readLine();
        assertTrue(child != null && child.startsWith("child "), "inherit said: " + child);
        ProcessHandle untrustedHeir = ProcessHandle.of(Long.parseLong(child.substring(6))).orElseThrow();
        try {
            awaitPermitted(p -> !p.contains("tcp/ipv4/" + tcp),
                    "an untrusted process holding the inherited socket closes the port");
            awaitTrue(() -> flexwall("ports").getJsonArray("refused").toString().contains(heir.toString()),
                    "the untrusted process sharing the trusted program's socket is reported");

            trustedParent.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // only the untrusted holder is left
            assertTrue(untrustedHeir.isAlive(), "the untrusted process still holds the socket");
            assertStaysClosed(tcp, control);
        } finally {
            untrustedHeir.destroyForcibly(); // reparented: stopPrograms no longer finds it among the descendants
        }
    }

    @Test
    void untrustedChildOfATrustedProgramListeningOnItsOwnPortGetsNothing() throws Exception {
        int parentPort = ApplianceImage.freePort();
        int childPort = ApplianceImage.freePort();
        run(trusted.toString(), "TCP-LISTEN:" + parentPort + ",reuseaddr,fork",
                "EXEC:" + untrusted + " TCP-LISTEN\\:" + childPort + "\\,reuseaddr STDIO");
        awaitPermitted(p -> p.contains("tcp/ipv4/" + parentPort), "the trusted parent is permitted");
        try (Socket trigger = new Socket(InetAddress.getLoopbackAddress(), parentPort)) { // the parent forks the child
            awaitTrue(() -> listening(childPort), "the child listens");
            assertStaysClosed(childPort, parentPort);
        }
    }

    // --- helpers -----------------------------------------------------------------------------------------------

    private Process run(String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(work.resolve("program-" + programs.size() + "-" + System.nanoTime() + ".out").toFile())
                .start();
        programs.add(p);
        return p;
    }

    /** The port stays closed: proven by a trusted listener started after it being permitted while it is not. */
    private void assertStaysClosed(int port, int control) throws Exception {
        assertStaysClosed(port, control, List.of());
    }

    private void assertStaysClosed(int port, int control, List<String> inNamespace) throws Exception {
        awaitTrue(() -> listening(port, inNamespace), "something listens on " + port);
        if (!permitted().contains("tcp/ipv4/" + control)) {
            run(trusted.toString(), "TCP-LISTEN:" + control + ",reuseaddr,fork", "EXEC:/bin/cat");
            awaitPermitted(p -> p.contains("tcp/ipv4/" + control), "a trusted listener started later is permitted");
        }
        Set<String> now = permitted();
        assertTrue(!now.contains("tcp/ipv4/" + port) && !now.contains("tcp/ipv6/" + port),
                "port " + port + " must not be permitted: " + now);
    }

    private static boolean listening(int port) throws Exception {
        return listening(port, List.of());
    }

    private static boolean listening(int port, List<String> inNamespace) throws Exception {
        List<String> command = new ArrayList<>(inNamespace);
        command.addAll(List.of("ss", "-Hltn", "sport = :" + port));
        Process ss = new ProcessBuilder(command).start();
        String out = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        ss.waitFor();
        return out.contains(":" + port);
    }

    private static Set<String> permitted() throws Exception {
        Set<String> ports = new TreeSet<>();
        for (var v : flexwall("ports").getJsonArray("permitted")) {
            JsonObject p = v.asJsonObject();
            ports.add(p.getString("protocol") + "/" + p.getString("family") + "/" + p.getInt("port"));
        }
        return ports;
    }

    private static void awaitPermitted(Predicate<Set<String>> condition, String what) throws Exception {
        Await.until(what, Duration.ofSeconds(15), () -> condition.test(permitted()),
                () -> "permitted now: " + permitted() + "\n" + appliance.output());
    }

    private static void awaitTrue(Callable<Boolean> check, String what) throws Exception {
        Await.until(what, Duration.ofSeconds(15), check, appliance::output);
    }

    /** The operator's command, {@code flexwall COMMAND … --json}, against this test's appliance. */
    static JsonObject flexwall(String... args) throws Exception {
        return ApplianceImage.flexwallJson(data, args);
    }
}
