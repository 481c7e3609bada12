package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import jakarta.json.JsonObject;

import java.util.concurrent.atomic.AtomicReference;
import org.flexwall.testing.Await;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.flexwall.testing.Commands.Result;

/**
 * Issue 13, findings 5 to 7, end to end: the attacks on "who listens" as they were made, against the appliance image,
 * with clients in an outside namespace. Each attack runs the trusted program's exact bytes, so only the signs around
 * them (a tracer, LD_PRELOAD, a memfd, another user, a process that took the socket) can tell it apart; each must
 * leave its port closed, shown by {@code flexwall ports --json} as refused with the reason, and unreachable from
 * outside. A control in each test shows the same port reachable when the program runs plainly.
 */
class IdentityAttackSystemTest {
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final int NOBODY = 65534;

    @TempDir
    static Path work;
    private static Path data;
    private static Path server;
    private static Path holder;
    private static Path takeback;
    private static Path preload;
    private static ApplianceProcess appliance;
    private static OutsideNetwork outside;
    private final List<Process> programs = new ArrayList<>();

    @BeforeAll
    static void startApplianceAndTrustTheServers() throws Exception {
        OutsideNetwork.require();
        // a non-root user must reach the programs: the temp directory is root's only
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path bin = Files.createDirectory(work.resolve("bin"));
        server = Files.copy(Path.of("/usr/bin/socat"), bin.resolve("server"));
        holder = Programs.compile(work, "identity/holder.c", bin.resolve("holder"));
        takeback = Programs.compile(work, "identity/takeback.c", bin.resolve("takeback"));
        preload = bin.resolve("libpreload.so");
        OutsideNetwork.here("gcc", "-O2", "-Wall", "-shared", "-fPIC", "-o", preload.toString(),
                Programs.resource(work, "identity/preload.c").toString(), "-lpthread").check();
        data = ApplianceImage.dataDirectory(work.resolve("data"));
        appliance = ApplianceProcess.startManagedOnLoopback(work, data);
        for (Path p : List.of(server, holder)) {
            JsonObject answer = flexwall("trust", p.toString());
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

    // --- finding 5 ----------------------------------------------------------------------------------------------

    @Test
    void trustedProgramWithAnLdPreloadLibraryThatListensTooGetsNoPortAndIsShownWithTheReason() throws Exception {
        int control = ApplianceImage.freePort();
        listen(List.of(), control);
        awaitPermitted(control);
        assertTrue(reachable(control), "control: the trusted server run plainly is reachable from outside");

        int own = ApplianceImage.freePort();
        int injected = ApplianceImage.freePort();
        listen(List.of("env", "LD_PRELOAD=" + preload, "PRELOAD_PORT=" + injected), own);

        String reason = awaitRefused(injected);
        assertTrue(reason.contains("LD_PRELOAD=" + preload), reason);
        assertTrue(awaitRefused(own).contains("LD_PRELOAD"), "the program's own socket is held by the same process");
        assertUnreachable(injected);
        assertUnreachable(own);
    }

    @Test
    void tracedTrustedProgramLosesItsPort() throws Exception {
        int port = ApplianceImage.freePort();
        Process p = listen(List.of(), port);
        awaitPermitted(port);
        assertTrue(reachable(port), "reachable before a tracer attaches");

        start(List.of(), "strace", "-qq", "-f", "-o", "/dev/null", "-p", Long.toString(p.pid()));

        assertTrue(awaitRefused(port).contains("traced by pid"), "refused as traced");
        assertFalse(permitted().contains("tcp/ipv4/" + port));
        assertUnreachable(port);
    }

    @Test
    void trustedBytesRunFromAMemfdGetNoPort() throws Exception {
        int port = ApplianceImage.freePort();
        start(List.of(), PYTHON.toString(), "-c", String.join("\n", "import os, sys",
                "fd = os.memfd_create('x', 0)", "os.write(fd, open(sys.argv[1], 'rb').read())",
                "os.execv('/proc/self/fd/%d' % fd, ['server', sys.argv[2], 'EXEC:/bin/cat'])"),
                server.toString(), "TCP4-LISTEN:" + port + ",reuseaddr,fork");

        assertTrue(awaitRefused(port).contains("memfd"), "refused as run from a memfd");
        assertUnreachable(port);
    }

    @Test
    void programTrustedForOneUserOrUnitIsNotThatProgramForAnother() throws Exception {
        Path rootOnly = Programs.otherBytes(server, work.resolve("bin/root-only"));
        Path unitOnly = Programs.otherBytes(rootOnly, work.resolve("bin/unit-only"));
        Result trusted = ApplianceImage.flexwall(data, "trust", rootOnly.toString(), "--user", "root");
        assertTrue(trusted.ok() && trusted.output().contains("running as user root (uid 0)"), trusted.output());
        assertTrue(flexwall("trust", unitOnly.toString(), "--unit", "flexwall-test").getBoolean("ok"));

        int asNobody = ApplianceImage.freePort();
        int asRoot = ApplianceImage.freePort();
        int outsideUnit = ApplianceImage.freePort();
        start(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups"), rootOnly.toString(),
                "TCP4-LISTEN:" + asNobody + ",reuseaddr,fork", "EXEC:/bin/cat");
        start(List.of(), rootOnly.toString(), "TCP4-LISTEN:" + asRoot + ",reuseaddr,fork", "EXEC:/bin/cat");
        start(List.of(), unitOnly.toString(), "TCP4-LISTEN:" + outsideUnit + ",reuseaddr,fork", "EXEC:/bin/cat");

        awaitPermitted(asRoot);
        String reason = awaitRefused(asNobody);
        assertTrue(reason.contains("runs as uid " + NOBODY) && reason.contains("only as user root (uid 0)"), reason);
        String notInUnit = awaitRefused(outsideUnit);
        assertTrue(notInUnit.contains("trusted only in unit flexwall-test.service"), notInUnit);
        assertUnreachable(asNobody);
        assertUnreachable(outsideUnit);
    }

    @Test
    void untrustedProcessTakingItsSocketBackFromATrustedProgramInShortBurstsClosesThePortForGood() throws Exception {
        // as in the issue: a non-root user's untrusted program hands its listening socket to an exec of a trusted
        // program, which is then the socket's only holder, and takes it back with pidfd_getfd in short bursts
        int port = ApplianceImage.freePort();
        Process attacker = start(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups"),
                takeback.toString(), Integer.toString(port), holder.toString());
        BufferedReader said = new BufferedReader(new InputStreamReader(attacker.getInputStream(), StandardCharsets.US_ASCII));
        String child = said.readLine();
        assertTrue(child != null && child.startsWith("child "), "takeback said: " + child);
        awaitPermitted(port);
        assertTrue(reachable(port), "control: the trusted holder's port is open before the attack");

        attacker.getOutputStream().write('\n'); // start taking the socket back
        attacker.getOutputStream().flush();
        assertTrue(said.readLine().startsWith("took "), "the attacker took the socket");

        String reason = awaitRefused(port);
        assertTrue(reason.contains("took the socket") && reason.contains("pidfd_getfd")
                && reason.contains(takeback.toString()), reason);
        for (int i = 0; i < 5; i++) {
            Result r = connect(port);
            assertFalse(r.output().contains("attacker"), "the attacker served a connection from outside: " + r);
            assertTrue(!r.ok(), "connection " + i + " from outside got through: " + r);
        }
        assertTrue(said.readLine().startsWith("took "), "the attack went on all along");
        assertFalse(permitted().contains("tcp/ipv4/" + port), "tainted: the port stays closed while the socket lives");
    }

    @Test
    void untrustedProcessHoldingASocketPassedThroughScmRightsIsFoundByTheOwnerRescanAndClosesThePort() throws Exception {
        // SCM_RIGHTS has no tracepoint: the monitor's periodic owner scan (every second) finds the receiver while it
        // holds the socket; one received and closed again between two scans is not seen (README, threat model)
        Path passer = Programs.compile(work, "identity/passer.c", work.resolve("bin/passer"));
        assertTrue(flexwall("trust", passer.toString()).getBoolean("ok"));
        int port = ApplianceImage.freePort();
        Path unix = work.resolve("passer-" + port + ".sock");
        Process p = start(List.of(), passer.toString(), Integer.toString(port), unix.toString());
        assertEquals("listening", new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII))
                .readLine());
        awaitPermitted(port);
        Files.setPosixFilePermissions(unix, PosixFilePermissions.fromString("rwxrwxrwx"));

        Process receiver = start(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups"),
                PYTHON.toString(), "-c", String.join("\n", "import socket, sys",
                        "u = socket.socket(socket.AF_UNIX); u.connect(sys.argv[1])",
                        "msg, fds, flags, addr = socket.recv_fds(u, 1, 1)", "print('got', fds[0], flush=True)",
                        "sys.stdin.readline()"), unix.toString());
        String got = new BufferedReader(new InputStreamReader(receiver.getInputStream(), StandardCharsets.US_ASCII))
                .readLine();
        assertTrue(got != null && got.startsWith("got "), "the untrusted receiver holds the socket: " + got);

        String reason = awaitRefused(port);
        assertTrue(reason.contains("pid " + receiver.pid()) && reason.contains("is not a trusted program"), reason);
        assertUnreachable(port);
    }

    // --- finding 6 ----------------------------------------------------------------------------------------------

    @Test
    void textFileWithoutAnInterpreterLineCannotBeTrustedAndTheOperatorIsToldWhy() throws Exception {
        Path text = Files.writeString(work.resolve("bin/hello"), "echo hi\n");
        Files.setPosixFilePermissions(text, PosixFilePermissions.fromString("rwxr-xr-x"));

        Result r = ApplianceImage.flexwall(data, "trust", text.toString());

        assertEquals(1, r.exitCode(), r.output());
        assertTrue(r.output().contains("not a program the kernel can run") && r.output().contains("not an ELF"),
                r.output());
        assertFalse(flexwall("programs").toString().contains(text.toString()));
    }

    // --- finding 7 ----------------------------------------------------------------------------------------------

    @Test
    void connectedUdpSocketsOfATrustedIperf3ServerArePermittedAndNoRefusalLacksAReason() throws Exception {
        Path iperf = Files.copy(Path.of("/usr/bin/iperf3"), work.resolve("bin/iperf3"));
        assertTrue(flexwall("trust", iperf.toString()).getBoolean("ok"));
        int port = ApplianceImage.freePort();
        start(List.of(), iperf.toString(), "-s", "-p", Integer.toString(port));
        awaitPermitted(port);
        for (int run = 0; run < 3; run++) {
            // four parallel UDP streams: each a socket connected to its client next to a new unconnected one
            Result r = outside.outside("iperf3", "-u", "-c", OutsideNetwork.APPLIANCE_V4, "-p", Integer.toString(port),
                    "-t", "2", "-b", "10M", "-l", "60", "-P", "4", "--connect-timeout", "3000");
            assertTrue(r.ok() && r.output().contains("receiver"), r.output());
            for (var v : flexwall("ports").getJsonArray("refused")) {
                JsonObject refused = v.asJsonObject();
                assertFalse(refused.getString("reason").isBlank(), refused.toString());
                assertTrue(refused.getInt("port") != port, "the trusted iperf3's socket was refused: " + refused);
            }
        }
        String log = appliance.output();
        assertFalse(log.contains("not opening UDP port " + port), "a trusted UDP socket was refused:\n" + log);
    }

    // --- helpers -----------------------------------------------------------------------------------------------

    /** The trusted server listening on {@code port} (any IPv4 address), behind {@code prefix}. */
    private Process listen(List<String> prefix, int port) throws IOException {
        return start(prefix, server.toString(), "TCP4-LISTEN:" + port + ",reuseaddr,fork", "EXEC:/bin/echo served");
    }

    private Process start(List<String> prefix, String... command) throws IOException {
        List<String> all = new ArrayList<>(prefix);
        all.addAll(List.of(command));
        Process p = new ProcessBuilder(all).redirectError(work.resolve("program-" + System.nanoTime() + ".err").toFile())
                .start();
        programs.add(p);
        return p;
    }

    /** One connection from outside: socat waits at most 2 s for the handshake, then 1 s for data. */
    private static Result connect(int port) throws IOException {
        return outside.outside("socat", "-T", "1", "-u",
                "TCP4:" + OutsideNetwork.APPLIANCE_V4 + ":" + port + ",connect-timeout=2", "STDOUT");
    }

    private static boolean reachable(int port) throws IOException {
        return connect(port).ok();
    }

    private static void assertUnreachable(int port) throws IOException {
        Result r = connect(port);
        assertFalse(r.ok(), "port " + port + " was reached from outside: " + r);
    }

    private static Set<String> permitted() throws Exception {
        Set<String> ports = new TreeSet<>();
        for (var v : flexwall("ports").getJsonArray("permitted")) {
            JsonObject p = v.asJsonObject();
            ports.add(p.getString("protocol") + "/" + p.getString("family") + "/" + p.getInt("port"));
        }
        return ports;
    }

    private static void awaitPermitted(int port) throws Exception {
        Await.until("port " + port + " permitted", Duration.ofSeconds(15),
                () -> permitted().contains("tcp/ipv4/" + port) || permitted().contains("udp/ipv4/" + port),
                () -> flexwall("ports") + "\n" + appliance.output());
    }

    /** Waits until the TCP socket on {@code port} is refused; returns the reason shown by {@code ports --json}. */
    private static String awaitRefused(int port) throws Exception {
        AtomicReference<JsonObject> last = new AtomicReference<>();
        JsonObject refused = Await.value("port " + port + " refused", Duration.ofSeconds(15), () -> {
            last.set(flexwall("ports"));
            for (var v : last.get().getJsonArray("refused")) {
                JsonObject r = v.asJsonObject();
                if (r.getInt("port") == port && !permitted().contains("tcp/ipv4/" + port)) {
                    return r;
                }
            }
            return null;
        }, () -> last.get() + "\n" + appliance.output());
        String reason = refused.getString("reason");
        assertFalse(reason.isBlank(), refused.toString());
        return reason;
    }

    static JsonObject flexwall(String... args) throws Exception {
        return ApplianceImage.flexwallJson(data, args);
    }
}
