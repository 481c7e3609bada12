package org.flexwall.port.monitor.sockdiag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.flexwall.api.port.Protocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The raw /proc reader against what the JDK reads through its own calls, on this very process. */
class ProcFsTest {
    private static final int SELF = (int) ProcessHandle.current().pid();

    private final ProcFs proc = new ProcFs();

    @TempDir
    Path dir;

    @Test
    void pidsAreAscendingAndIncludeThisProcess() {
        int[] pids = proc.pids();
        int[] sorted = pids.clone();
        Arrays.sort(sorted);
        assertTrue(Arrays.equals(sorted, pids));
        assertTrue(Arrays.binarySearch(pids, SELF) >= 0);
        assertTrue(Arrays.binarySearch(pids, 1) >= 0, "init");
    }

    @Test
    void everySocketDescriptorIsReportedWithTheInodeItsLinkNames() throws Exception {
        try (ServerSocketChannel a = listener(); ServerSocketChannel b = listener();
                SocketScanner scanner = new SocketScanner()) {
            Map<Integer, Long> seen = new HashMap<>();
            proc.forEachSocket(SELF, (fd, inode) -> {
                seen.put(fd, inode);
                return true;
            });
            for (ServerSocketChannel ch : List.of(a, b)) {
                // The JDK opens a dual-stack IPv6 socket even for 127.0.0.1.
                long inode = scanner.scanPort(Protocol.TCP, port(ch), true, true).get(0).inode();
                int fd = seen.entrySet().stream().filter(e -> e.getValue() == inode).findFirst().orElseThrow()
                        .getKey();
                assertEquals("socket:[" + inode + "]", Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd))
                        .toString());
                assertEquals(inode, proc.socketInode(SELF, fd));
            }
        }
    }

    @Test
    void readingStopsAtTheFirstSocketWhenTheConsumerSaysSo() throws Exception {
        try (ServerSocketChannel a = listener(); ServerSocketChannel b = listener()) {
            List<Integer> seen = new ArrayList<>();
            proc.forEachSocket(SELF, (fd, inode) -> seen.add(fd) && false);
            assertEquals(1, seen.size());
        }
    }

    @Test
    void goneProcessAndNonSocketDescriptorReadAsNothing() throws Exception {
        Process p = new ProcessBuilder("true").start();
        int pid = (int) p.pid();
        p.waitFor(10, TimeUnit.SECONDS);
        List<Integer> seen = new ArrayList<>();
        proc.forEachSocket(pid, (fd, inode) -> seen.add(fd));
        assertEquals(List.of(), seen);
        assertEquals(-1, proc.startTime(pid));
        assertNull(proc.executable(pid));
        assertEquals(-1, proc.socketInode(SELF, 0), "stdin is no socket");
    }

    @Test
    void startTimeAndExecutableAreThoseTheJdkReads() throws Exception {
        assertEquals(Listeners.startTimeOf(SELF), proc.startTime(SELF));
        assertEquals(Files.readSymbolicLink(Path.of("/proc/self/exe")), proc.executable(SELF));
    }

    @Test
    void imageLayoutStartsWithTheStartTimeAndChangesWhenAProcessExecs() throws Exception {
        assertEquals(proc.startTime(SELF), proc.imageLayout(SELF)[0]);
        // a shell that execs another program: the same process, laid out anew
        Process p = new ProcessBuilder("sh", "-c", "read line; exec sleep 60").start();
        try {
            int pid = (int) p.pid();
            long[] before = proc.imageLayout(pid);
            p.getOutputStream().write('\n');
            p.getOutputStream().flush();
            org.flexwall.testing.Await.until("sh exec'd sleep", () -> Files.readSymbolicLink(Path.of("/proc/" + pid
                    + "/exe")).toString().endsWith("/sleep"));
            long[] after = proc.imageLayout(pid);
            assertEquals(before[0], after[0], "exec keeps the start time");
            assertNotEquals(Arrays.toString(before), Arrays.toString(after), "but not the layout");
        } finally {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        assertNull(proc.imageLayout(Integer.MAX_VALUE), "no such process");
    }

    @Test
    void taskCountsChangeWhenAProcessStartsAndWhenItEnds() throws Exception {
        long[] before = proc.taskCounts();
        Process p = new ProcessBuilder("sleep", "60").start();
        long[] running = proc.taskCounts();
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        long[] after = proc.taskCounts();
        assertTrue(running[0] > before[0], "a pid was handed out: " + Arrays.toString(running));
        assertNotEquals(running[1], after[1], "a task fewer");
    }

    @Test
    void fileKeyIsTheFileBehindTheLinkAndChangesWhenTheFileIsReplaced() throws Exception {
        Path file = Files.copy(Listeners.SOCAT, dir.resolve("bin"), StandardCopyOption.COPY_ATTRIBUTES);
        ImageHasher.FileKey key = proc.fileKey(file);
        Map<String, Object> a = Files.readAttributes(file, "unix:ino,size,ctime,lastModifiedTime");
        assertEquals((Long) a.get("ino"), key.ino());
        assertEquals((Long) a.get("size"), key.size());
        assertEquals(((FileTime) a.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS), key.mtimeNs());
        assertEquals(((FileTime) a.get("ctime")).to(TimeUnit.NANOSECONDS), key.ctimeNs());
        assertEquals(key, proc.fileKey(file));

        Path link = Files.createSymbolicLink(dir.resolve("link"), file);
        assertEquals(key, proc.fileKey(link), "links are followed, as /proc/PID/exe must be");

        Path other = Files.copy(Listeners.SOCAT, dir.resolve("other"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.move(other, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        assertNotEquals(key, proc.fileKey(file), "same bytes, same times, another file");
        assertNull(proc.fileKey(dir.resolve("missing")));
    }

    private static ServerSocketChannel listener() throws Exception {
        ServerSocketChannel ch = ServerSocketChannel.open();
        ch.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        return ch;
    }

    private static int port(ServerSocketChannel ch) {
        return ch.socket().getLocalPort();
    }
}
