package org.flexwall.port.monitor.sockdiag;

import static org.flexwall.port.monitor.sockdiag.Listeners.SOCAT;
import static org.flexwall.port.monitor.sockdiag.Listeners.only;
import static org.flexwall.port.monitor.sockdiag.Listeners.sha256;
import static org.flexwall.port.monitor.sockdiag.Listeners.socat;
import static org.flexwall.port.monitor.sockdiag.Listeners.startTimeOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.port.SocketOwner;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Owners of real sockets: socat and python3 child processes, binaries copied and replaced in a temp dir. */
class OwnerResolverTest {
    private static SocketScanner scanner;
    private static String socatSha;

    @TempDir
    Path dir;

    @BeforeAll
    static void open() throws Exception {
        scanner = new SocketScanner();
        socatSha = sha256(SOCAT);
    }

    @AfterAll
    static void close() {
        scanner.close();
    }

    /** The resolver under test: this class reads /proc/PID/fd, {@link OwnerResolverThroughBpfTest} the BPF iterator. */
    OwnerResolver resolver() {
        return new OwnerResolver();
    }

    @Test
    void pidListShowsAProcessThatStartedOrEndedSinceTheLastList() throws Exception {
        OwnerResolver r = resolver();
        r.pids();
        Process p = new ProcessBuilder("sleep", "60").start();
        try {
            assertTrue(java.util.Arrays.binarySearch(r.pids(), (int) p.pid()) >= 0, "a process that started is listed");
        } finally {
            p.destroyForcibly().waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
        }
        assertTrue(java.util.Arrays.binarySearch(r.pids(), (int) p.pid()) < 0, "one that ended is not");
    }

    @Test
    void ownerIsTheListeningProcessWithItsStartTimeExecutableAndImageHash() throws Exception {
        try (Listeners.Listener l = socat(SOCAT, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1")) {
            ListeningSocket s = only(scanner.scan(), Protocol.TCP, AddressFamily.IPV4, l.port);
            List<SocketOwner> owners = resolver().resolveAll(List.of(s.inode()), true).get(s.inode());
            assertEquals(List.of(Listeners.owner(l.pid(), SOCAT, socatSha)), owners);
        }
    }

    @Test
    void ownersOfUdpAndIpv6SocketsAreFoundLikeTcp() throws Exception {
        try (Listeners.Listener u = socat(SOCAT, Protocol.UDP, "UDP6-RECV:%d,ipv6only=1")) {
            ListeningSocket s = only(scanner.scan(), Protocol.UDP, AddressFamily.IPV6, u.port);
            SocketOwner o = resolver().resolve(s.inode()).get(0);
            assertEquals(u.pid(), o.pid());
            assertEquals(socatSha, o.sha256());
        }
    }

    @Test
    void copyAtAnotherPathIsReportedAtThatPathAndHashedByItsOwnBytes() throws Exception {
        Path same = Files.copy(SOCAT, dir.resolve("socat-copy"), StandardCopyOption.COPY_ATTRIBUTES);
        Path changed = Files.copy(SOCAT, dir.resolve("socat-changed"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.write(changed, new byte[] { 0, 1, 2, 3 }, StandardOpenOption.APPEND); // still runs: trailing bytes
        OwnerResolver resolver = resolver();
        try (Listeners.Listener a = socat(same, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1");
                Listeners.Listener b = socat(changed, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1");
                Listeners.Listener c = socat(SOCAT, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1")) {
            List<ListeningSocket> all = scanner.scan();
            long ia = only(all, Protocol.TCP, AddressFamily.IPV4, a.port).inode();
            long ib = only(all, Protocol.TCP, AddressFamily.IPV4, b.port).inode();
            long ic = only(all, Protocol.TCP, AddressFamily.IPV4, c.port).inode();
            Map<Long, List<SocketOwner>> owners = resolver.resolveAll(List.of(ia, ib, ic), true);
            SocketOwner oa = owners.get(ia).get(0);
            SocketOwner ob = owners.get(ib).get(0);
            SocketOwner oc = owners.get(ic).get(0);
            assertEquals(same, oa.executable());
            assertEquals(socatSha, oa.sha256(), "identity is the content, not the path");
            assertEquals(changed, ob.executable());
            assertEquals(sha256(changed), ob.sha256());
            assertNotEquals(socatSha, ob.sha256());
            assertEquals(SOCAT, oc.executable());
            assertEquals(socatSha, oc.sha256());
        }
    }

    @Test
    void binaryReplacedOnDiskAfterStartIsJudgedByTheImageThatRuns() throws Exception {
        Path bin = Files.copy(SOCAT, dir.resolve("server"), StandardCopyOption.COPY_ATTRIBUTES);
        OwnerResolver resolver = resolver();
        try (Listeners.Listener l = socat(bin, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1")) {
            long inode = only(scanner.scan(), Protocol.TCP, AddressFamily.IPV4, l.port).inode();
            assertEquals(socatSha, resolver.resolve(inode).get(0).sha256()); // now cached for this image

            // Writing into a running binary is refused by the kernel (ETXTBSY), so an attacker replaces the file.
            assertThrows(IOException.class, () -> Files.write(bin, new byte[] { 1 }, StandardOpenOption.WRITE));
            Path other = dir.resolve("other");
            Files.write(other, "#!/bin/sh\necho not socat\n".getBytes(StandardCharsets.US_ASCII));
            Files.move(other, bin, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);

            for (OwnerResolver r : List.of(resolver, resolver())) { // cached and freshly hashed
                SocketOwner o = r.resolveAll(List.of(inode), true).get(inode).get(0);
                assertEquals(socatSha, o.sha256());
                assertEquals(bin + " (deleted)", o.executable().toString());
                assertNotEquals(sha256(bin), o.sha256());
            }
        }
    }

    @Test
    void aPortChangeReadsTheHoldersOfTheNewSocketOnlyAndTheTimersRescanReadsEveryHolder() throws Exception {
        try (Listeners.Listener a = socat(SOCAT, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1");
                Listeners.Listener b = socat(SOCAT, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1")) {
            List<ListeningSocket> all = scanner.scan();
            long known = only(all, Protocol.TCP, AddressFamily.IPV4, a.port).inode();
            long fresh = only(all, Protocol.TCP, AddressFamily.IPV4, b.port).inode();
            // what an earlier scan said of a's holder, told apart from what /proc says now
            SocketOwner earlier = new SocketOwner(a.pid(), 1, Path.of("/as/told/earlier"), "0".repeat(64));
            Map<Long, List<SocketOwner>> owners = resolver().resolveAll(List.of(known, fresh), true, null,
                    Map.of(known, List.of(earlier)));
            assertEquals(List.of(earlier), owners.get(known), "a known socket's holder is not read again");
            assertEquals(List.of(Listeners.owner(b.pid(), SOCAT, socatSha)), owners.get(fresh));
            assertEquals(List.of(Listeners.owner(a.pid(), SOCAT, socatSha)),
                    resolver().resolveAll(List.of(known, fresh), true, null, Map.of()).get(known));
        }
    }

    @Test
    void aProcessThatOpensANewSocketIsReadAfreshForTheSocketsItHeldBeforeToo() throws Exception {
        try (Python py = new Python("""
                import socket, time
                old, new = socket.socket(), socket.socket()
                for s in (old, new):
                    s.bind(('127.0.0.1', 0))
                    s.listen()
                print(old.getsockname()[1], new.getsockname()[1], flush=True)
                time.sleep(60)
                """)) {
            String[] ports = py.line().split(" ");
            List<ListeningSocket> all = scanner.scan();
            long known = only(all, Protocol.TCP, AddressFamily.IPV4, Integer.parseInt(ports[0])).inode();
            long fresh = only(all, Protocol.TCP, AddressFamily.IPV4, Integer.parseInt(ports[1])).inode();
            SocketOwner earlier = new SocketOwner(py.pid(), 1, Path.of("/as/told/earlier"), "0".repeat(64));
            Map<Long, List<SocketOwner>> owners = resolver().resolveAll(List.of(known, fresh), true, null,
                    Map.of(known, List.of(earlier)));
            // a process may have changed since (traced, say): what it holds is judged by what it is now
            assertEquals(owners.get(fresh), owners.get(known));
            assertEquals(startTimeOf(py.pid()), owners.get(known).get(0).startTime());
        }
    }

    @Test
    void socketInheritedByAForkedChildHasBothProcessesAsOwners() throws Exception {
        try (Python py = new Python("""
                import os, socket, sys, time
                s = socket.socket()
                s.bind(('127.0.0.1', 0))
                s.listen()
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
                print(s.getsockname()[1], flush=True)
                time.sleep(60)
                """)) {
            int port = Integer.parseInt(py.line());
            long inode = only(scanner.scan(), Protocol.TCP, AddressFamily.IPV4, port).inode();
            List<SocketOwner> owners = resolver().resolveAll(List.of(inode), true).get(inode);
            assertEquals(2, owners.size(), owners.toString());
            assertTrue(owners.stream().anyMatch(o -> o.pid() == py.pid()));
            SocketOwner child = owners.stream().filter(o -> o.pid() != py.pid()).findFirst().orElseThrow();
            assertEquals(py.pid(), ProcessHandle.of(child.pid()).orElseThrow().parent().orElseThrow().pid());
            assertEquals(startTimeOf(child.pid()), child.startTime());
        }
    }

    @Test
    void socketSharedWithAProcessOfAnotherUidHasBothOwnersWhetherIndexedOrNot() throws Exception {
        // The child drops to nobody after the fork: the socket's uid (root, its creator's) no longer names every holder.
        try (Python py = new Python("""
                import os, socket, sys, time
                s = socket.socket()
                s.bind(('127.0.0.1', 0))
                s.listen()
                r, w = os.pipe()
                if os.fork() == 0:
                    os.setgid(65534)
                    os.setuid(65534)
                    os.write(w, b'x')
                    time.sleep(60)
                    os._exit(0)
                os.read(r, 1)
                print(s.getsockname()[1], flush=True)
                time.sleep(60)
                """)) {
            int port = Integer.parseInt(py.line());
            long inode = only(scanner.scan(), Protocol.TCP, AddressFamily.IPV4, port).inode();
            OwnerResolver resolver = resolver();
            List<SocketOwner> unseen = resolver.resolve(inode); // not indexed: every process is read
            assertEquals(2, unseen.size(), unseen.toString());
            int child = unseen.stream().mapToInt(SocketOwner::pid).filter(p -> p != py.pid()).findFirst().orElseThrow();
            assertEquals(65534, (int) Files.getAttribute(Path.of("/proc/" + child), "unix:uid"));
            assertEquals(unseen, resolver.resolve(inode)); // indexed: both holders confirmed
            assertEquals(unseen, resolver().resolveAll(List.of(inode), true).get(inode));
        }
    }

    @Test
    void lookAmongNewProcessesAddsTheirHoldsToTheIndexAndGoneProcessesAreForgotten() throws Exception {
        try (Python py = new Python("""
                import os, signal, socket, sys, time
                s = socket.socket()
                s.bind(('127.0.0.1', 0))
                s.listen()
                child = os.fork()
                if child == 0:
                    time.sleep(60)
                    os._exit(0)
                print(s.getsockname()[1], child, flush=True)
                sys.stdin.readline()
                os.kill(child, signal.SIGKILL)
                os.waitpid(child, 0)
                print('gone', flush=True)
                time.sleep(60)
                """)) {
            String[] line = py.line().split(" ");
            int port = Integer.parseInt(line[0]);
            int child = Integer.parseInt(line[1]);
            long inode = only(scanner.scan(), Protocol.TCP, AddressFamily.IPV4, port).inode();

            OwnerResolver empty = resolver();
            assertEquals(List.of(child), pids(empty.resolveAmong(List.of(inode), new int[] { child }).get(inode)));
            assertEquals(0, empty.indexed(), "a partial look never stands for every holder of an unknown socket");

            OwnerResolver resolver = resolver();
            resolver.resolveAll(List.of(inode), true, new int[] { py.pid() }); // as if the child came later
            assertEquals(List.of(py.pid()), pids(resolver.resolve(inode)));
            assertEquals(Map.of(), resolver.resolveAmong(List.of(inode), new int[] { 1 }), "init holds nothing");
            resolver.resolveAmong(List.of(inode), new int[] { child });
            List<Integer> both = pids(resolver.resolve(inode)); // through the index
            assertEquals(List.of(Math.min(py.pid(), child), Math.max(py.pid(), child)), both);

            py.send("kill");
            assertEquals("gone", py.line());
            resolver.forget(new int[] { child });
            assertEquals(1, resolver.indexed());
            assertEquals(List.of(py.pid()), pids(resolver.resolve(inode)));
            resolver.forget(new int[] { py.pid() });
            assertEquals(0, resolver.indexed(), "no holder known: the next lookup reads every process");
            assertEquals(List.of(py.pid()), pids(resolver.resolve(inode)));
        }
    }

    private static List<Integer> pids(List<SocketOwner> owners) {
        return owners.stream().map(SocketOwner::pid).toList();
    }

    @Test
    void resolvingOneSocketFindsItWithoutAPriorScanAndThroughTheIndexAfterOne() throws Exception {
        try (Listeners.Listener l = socat(SOCAT, Protocol.UDP, "UDP4-RECV:%d,bind=127.0.0.1")) {
            long inode = only(scanner.scan(), Protocol.UDP, AddressFamily.IPV4, l.port).inode();
            OwnerResolver resolver = resolver();
            List<SocketOwner> first = resolver.resolve(inode); // not indexed: a full scan for this socket
            assertEquals(1, resolver.indexed());
            assertEquals(l.pid(), first.get(0).pid());
            assertEquals(first, resolver.resolve(inode)); // indexed: confirmed against /proc/PID/fd
        }
    }

    @Test
    void indexEntryOfAnExitedOwnerIsNotBelieved() throws Exception {
        OwnerResolver resolver = resolver();
        long inode;
        try (Listeners.Listener l = socat(SOCAT, Protocol.TCP, "TCP4-LISTEN:%d,bind=127.0.0.1")) {
            inode = only(scanner.scan(), Protocol.TCP, AddressFamily.IPV4, l.port).inode();
            assertEquals(1, resolver.resolveAll(List.of(inode), true).get(inode).size());
        }
        assertEquals(List.of(), resolver.resolve(inode));
        assertEquals(0, resolver.indexed());
    }

    @Test
    void unreadableImageGivesNoHash() {
        assertEquals(null, new ImageHasher().sha256(Path.of("/proc/0/exe")));
    }

    /** python3 running a script; its stdout lines are read by the test. */
    static final class Python implements AutoCloseable {
        final Process process;
        private final BufferedReader out;

        Python(String script) throws IOException {
            process = new ProcessBuilder("python3", "-c", script).redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        int pid() {
            return (int) process.pid();
        }

        String line() throws IOException {
            String l = out.readLine();
            if (l == null) {
                throw new IOException("python3 ended before printing a line");
            }
            return l.trim();
        }

        void send(String line) throws IOException {
            OutputStream in = process.getOutputStream();
            in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            in.flush();
        }

        @Override
        public void close() throws InterruptedException {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
