package org.flexwall.port.monitor.sockdiag;

import static org.flexwall.port.monitor.sockdiag.Listeners.SOCAT;
import static org.flexwall.port.monitor.sockdiag.Listeners.sha256;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.port.SocketOwner;
import org.flexwall.testing.Await;
import org.flexwall.testing.SystemTests;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The signs that a holder may run code other than its image's, and who it runs as, read from real processes: a real
 * LD_PRELOAD library, a real tracer, a real memfd, a deleted binary, a real non-root user, a real pidfd_getfd.
 */
class HolderSignsTest {
    static final Path PYTHON = Path.of("/usr/bin/python3");
    @TempDir
    Path dir;
    private SocketScanner scanner;
    private final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void needRoot() {
        SystemTests.requireRoot("reading other processes' /proc needs root");
        scanner = new SocketScanner();
    }

    @AfterEach
    void stop() throws InterruptedException {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (scanner != null) {
            scanner.close();
        }
    }

    @Test
    void holderRunningWithAnLdPreloadLibraryIsTampered() throws Exception {
        Path lib = compileLibrary();
        int port = Listeners.freePort(Protocol.TCP);
        SocketOwner o = ownerOf(port, start(List.of("env", "LD_PRELOAD=" + lib), SOCAT.toString(), "-u",
                "TCP4-LISTEN:" + port + ",bind=127.0.0.1", "STDOUT"));

        assertEquals(sha256(SOCAT), o.sha256(), "the image is the real program's");
        assertTrue(o.tampered() != null && o.tampered().contains("LD_PRELOAD=" + lib), String.valueOf(o.tampered()));
    }

    @Test
    void tracedHolderIsTampered() throws Exception {
        int port = Listeners.freePort(Protocol.TCP);
        Process server = start(List.of(), SOCAT.toString(), "-u", "TCP4-LISTEN:" + port + ",bind=127.0.0.1", "STDOUT");
        long inode = awaitSocket(port).inode();
        assertNull(new OwnerResolver().resolve(inode).get(0).tampered(), "untraced, it shows no sign");
        start(List.of(), "strace", "-qq", "-o", "/dev/null", "-p", Long.toString(server.pid()));
        awaitTrue(() -> Files.readString(Path.of("/proc/" + server.pid() + "/status")).matches("(?s).*TracerPid:\\s+[1-9].*"));

        SocketOwner o = new OwnerResolver().resolve(inode).get(0);

        assertTrue(o.tampered() != null && o.tampered().contains("traced by pid"), String.valueOf(o.tampered()));
    }

    @Test
    void holderRunFromAMemfdIsTamperedThoughItsBytesAreTheProgramsOwn() throws Exception {
        int port = Listeners.freePort(Protocol.TCP);
        SocketOwner o = ownerOf(port, start(List.of(), PYTHON.toString(), "-c", String.join("\n", "import os, sys",
                "fd = os.memfd_create('x', 0)", "os.write(fd, open(sys.argv[1], 'rb').read())",
                "os.execv('/proc/self/fd/%d' % fd, ['socat', '-u', sys.argv[2], 'STDOUT'])"),
                SOCAT.toString(), "TCP4-LISTEN:" + port + ",bind=127.0.0.1"));

        assertTrue(o.executable().toString().startsWith("/memfd:x"), o.executable().toString());
        assertEquals(sha256(SOCAT), o.sha256(), "the same bytes as the real program");
        assertTrue(o.tampered() != null && o.tampered().contains("memfd"), String.valueOf(o.tampered()));
    }

    @Test
    void holderRunningADeletedFileIsTampered() throws Exception {
        Path copy = Files.copy(SOCAT, dir.resolve("server"));
        Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rwxr-xr-x"));
        int port = Listeners.freePort(Protocol.TCP);
        Process p = start(List.of(), copy.toString(), "-u", "TCP4-LISTEN:" + port + ",bind=127.0.0.1", "STDOUT");
        long inode = awaitSocket(port).inode();
        Files.delete(copy);

        SocketOwner o = new OwnerResolver().resolve(inode).get(0);

        assertEquals(p.pid(), o.pid());
        assertTrue(o.tampered() != null && o.tampered().contains("deleted file"), String.valueOf(o.tampered()));
    }

    /**
     * Listens on a new TCP port of 127.0.0.1 for each line read, printing the socket's inode; "exec LIB" makes it exec
     * itself with LD_PRELOAD=LIB, and the new image listens once at its start (a line read ahead would be lost).
     */
    static final String LISTENER = String.join("\n", "import os, socket, sys",
            "kept = []",
            "def listen():",
            "    s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); kept.append(s)",
            "    print(os.fstat(s.fileno()).st_ino, flush=True)",
            "if len(sys.argv) > 2:",
            "    listen()",
            "for line in sys.stdin:",
            "    if line.startswith('exec '):",
            "        os.execve(sys.executable, [sys.executable, '-c', sys.argv[1], sys.argv[1], 'again'],"
                    + " dict(os.environ, LD_PRELOAD=line.split()[1]))",
            "    listen()");

    @Test
    void aHolderThatExecsItselfWithAnLdPreloadLibraryIsReadAfreshForItsNextSocket() throws Exception {
        Path lib = compileLibrary();
        OwnerResolver resolver = reusingIdentities();
        Process p = start(List.of(), PYTHON.toString(), "-c", LISTENER, LISTENER);
        BufferedReader said = reader(p);
        long first = Long.parseLong(tell(p, said, "listen"));
        List<SocketOwner> before = resolver.resolveAll(List.of(first), true, null, Map.of()).get(first);
        assertNull(before.get(0).tampered(), "before the exec it shows no sign");

        // the same process (pid, start time), now with the library loaded, opens another socket
        long second = Long.parseLong(tell(p, said, "exec " + lib));
        SocketOwner after = resolver.resolveAll(List.of(second), true, null, Map.of(first, before)).get(second).get(0);

        assertEquals(before.get(0).pid(), after.pid());
        assertEquals(before.get(0).startTime(), after.startTime(), "exec keeps the start time");
        assertTrue(after.tampered() != null && after.tampered().contains("LD_PRELOAD=" + lib), after.toString());
    }

    @Test
    void aTracerAttachedAfterTheHolderWasIdentifiedShowsOnItsNextSocket() throws Exception {
        OwnerResolver resolver = reusingIdentities();
        Process p = start(List.of(), PYTHON.toString(), "-c", LISTENER, LISTENER);
        BufferedReader said = reader(p);
        long first = Long.parseLong(tell(p, said, "listen"));
        List<SocketOwner> before = resolver.resolveAll(List.of(first), true, null, Map.of()).get(first);
        assertNull(before.get(0).tampered(), "untraced, it shows no sign");
        start(List.of(), "strace", "-qq", "-o", "/dev/null", "-p", Long.toString(p.pid()));
        awaitTrue(() -> Files.readString(Path.of("/proc/" + p.pid() + "/status")).matches("(?s).*TracerPid:\\s+[1-9].*"));

        long second = Long.parseLong(tell(p, said, "listen"));
        SocketOwner after = resolver.resolveAll(List.of(second), true, null, Map.of(first, before)).get(second).get(0);

        assertTrue(after.tampered() != null && after.tampered().contains("traced by pid"), after.toString());
    }

    @Test
    void holderOfAnotherUserCarriesItsUidAndNoSign() throws Exception {
        int port = Listeners.freePort(Protocol.TCP);
        SocketOwner o = ownerOf(port, start(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"),
                SOCAT.toString(), "-u", "TCP4-LISTEN:" + port + ",bind=127.0.0.1", "STDOUT"));

        assertEquals(65534, o.uid());
        assertNull(o.tampered());
    }

    @Test
    void flexwallsOwnDuplicateOfAnotherProcesssSocketMakesItNoHolderButItsOwnSocketsStayItsOwn() throws Exception {
        // here the roles are swapped, with the same effect: this JVM (flexwall) and another process hold one socket
        try (ServerSocket mine = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            long inode = awaitSocket(mine.getLocalPort()).inode();
            assertEquals(List.of(OwnerResolver.SELF), pids(new OwnerResolver().resolve(inode)), "a socket of its own");
            Process taker = start(List.of(), PYTHON.toString(), "-c", TAKER, Long.toString(OwnerResolver.SELF),
                    Integer.toString(fdOf(inode)));
            assertTrue(Integer.parseInt(firstLine(taker)) >= 0, "pidfd_getfd took the socket");

            List<SocketOwner> owners = new OwnerResolver().resolveAll(List.of(inode), true).get(inode);

            assertEquals(List.of((int) taker.pid()), pids(owners), "the other holder only");
        }
    }

    /** Takes descriptor FD of process PID with pidfd_getfd (syscall 438), prints the new one, then waits. */
    static final String TAKER = String.join("\n", "import ctypes, os, sys, time",
            "libc = ctypes.CDLL(None, use_errno=True)",
            "fd = libc.syscall(438, os.pidfd_open(int(sys.argv[1])), int(sys.argv[2]), 0)",
            "print(fd if fd >= 0 else -ctypes.get_errno(), flush=True)",
            "if len(sys.argv) > 3: os.close(fd); print('closed', flush=True)",
            "sys.stdin.readline()");

    @Test
    void processThatTookTheSocketStaysAHolderAfterLettingGoUntilTheSocketCloses() throws Exception {
        SockDiagPortMonitor monitor = TestMonitors.started(3_600_000, 0);
        try {
            int port = Listeners.freePort(Protocol.TCP);
            Process server = start(List.of(), SOCAT.toString(), "-u", "TCP4-LISTEN:" + port + ",bind=127.0.0.1", "STDOUT");
            long inode = awaitSocket(port).inode();
            Process taker = start(List.of(), PYTHON.toString(), "-c", TAKER, Long.toString(server.pid()),
                    Integer.toString(fdOfProcess(server.pid(), inode)), "close");
            BufferedReader said = reader(taker);
            assertTrue(Integer.parseInt(said.readLine()) >= 0, "pidfd_getfd took the socket");
            assertEquals("closed", said.readLine(), "and let go of it again at once");
            assertEquals(List.of((int) server.pid()), pids(socketOn(monitor, port).owners()), "a scan sees the holder only");

            monitor.socketTaken((int) taker.pid(), inode); // what the tracefs bundle tells

            ListeningSocket s = socketOn(monitor, port);
            assertEquals(List.of((int) server.pid(), (int) taker.pid()), pids(s.owners()));
            assertTrue(s.owners().get(1).taken(), "marked as having taken it");
            assertTrue(monitor.ownerOf(Protocol.TCP, org.flexwall.api.port.AddressFamily.IPV4, port).orElseThrow()
                    .owners().stream().anyMatch(SocketOwner::taken), "the packet path's question sees it too");

            server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            Listeners.awaitGone(scanner, inode);
            TestMonitors.poll(monitor);
            assertEquals(0, monitor.takenSockets(), "a closed socket is forgotten with its takers");
        } finally {
            TestMonitors.stop(monitor);
        }
    }

    @Test
    void flexwallsOwnPidfdGetfdIsNoTaking() throws Exception {
        SockDiagPortMonitor monitor = TestMonitors.started(3_600_000, 0);
        try {
            int port = Listeners.freePort(Protocol.TCP);
            start(List.of(), SOCAT.toString(), "-u", "TCP4-LISTEN:" + port + ",bind=127.0.0.1", "STDOUT");
            awaitSocket(port);
            monitor.socketTaken(OwnerResolver.SELF, socketOn(monitor, port).inode());
            assertEquals(0, monitor.takenSockets());
        } finally {
            TestMonitors.stop(monitor);
        }
    }

    @Test
    void socketClosedBetweenTheDumpAndTheOwnerScanIsNotReportedAsOwnerless() throws Exception {
        java.net.DatagramSocket gone = new java.net.DatagramSocket(0, InetAddress.getLoopbackAddress());
        java.net.DatagramSocket kept = new java.net.DatagramSocket(0, InetAddress.getLoopbackAddress());
        try {
            ListeningSocket g = awaitSocket(gone.getLocalPort());
            ListeningSocket k = awaitSocket(kept.getLocalPort());
            gone.close(); // after the dump, before anyone looked for its owner: nobody holds it any more

            List<ListeningSocket> reported = SockDiagPortMonitor.stillThere(List.of(g, k), scanner);

            assertEquals(List.of(k), reported, "the closed one is dropped, the ownerless one still there is kept");
        } finally {
            kept.close();
        }
    }

    // --- helpers -----------------------------------------------------------------------------------------------

    private Path compileLibrary() throws Exception {
        Path source = Files.writeString(dir.resolve("preload.c"),
                "__attribute__((constructor)) static void hello(void) { }\n");
        Path lib = dir.resolve("libpreload.so");
        Process gcc = new ProcessBuilder("gcc", "-shared", "-fPIC", "-o", lib.toString(), source.toString())
                .inheritIO().start();
        assertEquals(0, gcc.waitFor());
        return lib;
    }

    /** A resolver that reuses an identification for ten minutes: only an exec may make it read the holder again. */
    private static OwnerResolver reusingIdentities() {
        OwnerResolver resolver = new OwnerResolver();
        resolver.reuseIdentities(TimeUnit.MINUTES.toNanos(10));
        return resolver;
    }

    /** Sends {@code line} to a {@link #LISTENER} and returns what it answers (the new socket's inode). */
    private static String tell(Process p, BufferedReader said, String line) throws Exception {
        p.getOutputStream().write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        p.getOutputStream().flush();
        return said.readLine();
    }

    private Process start(List<String> prefix, String... command) throws Exception {
        List<String> all = new ArrayList<>(prefix);
        all.addAll(List.of(command));
        Process p = new ProcessBuilder(all).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        processes.add(p);
        return p;
    }

    private SocketOwner ownerOf(int port, Process p) throws Exception {
        long inode = awaitSocket(port).inode();
        List<SocketOwner> owners = new OwnerResolver().resolve(inode);
        assertEquals(1, owners.size(), owners.toString());
        return owners.get(0);
    }

    private ListeningSocket awaitSocket(int port) throws Exception {
        return Listeners.awaitSocket(scanner, s -> s.port() == port);
    }

    private static ListeningSocket socketOn(SockDiagPortMonitor monitor, int port) {
        return monitor.listening().stream().filter(s -> s.port() == port).findFirst().orElseThrow();
    }

    private static List<Integer> pids(List<SocketOwner> owners) {
        return owners.stream().map(SocketOwner::pid).toList();
    }

    private static int fdOf(long inode) throws Exception {
        return fdOfProcess(ProcessHandle.current().pid(), inode);
    }

    private static int fdOfProcess(long pid, long inode) throws Exception {
        try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    if (Files.readSymbolicLink(fd).toString().equals("socket:[" + inode + "]")) {
                        return Integer.parseInt(fd.getFileName().toString());
                    }
                } catch (java.io.IOException e) {
                    // closed meanwhile
                }
            }
        }
        throw new AssertionError("process " + pid + " holds no socket " + inode);
    }

    private static BufferedReader reader(Process p) {
        return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII));
    }

    private static String firstLine(Process p) throws Exception {
        return reader(p).readLine();
    }

    private static void awaitTrue(Callable<Boolean> c) {
        Await.until("the condition", c);
    }

}
