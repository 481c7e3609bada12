package org.flexwall.port.monitor.sockdiag;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads what /proc says about processes: their file descriptors, start time and executable. Every method answers
 * "gone" (-1, null) rather than throwing when a process exits under it, which happens all the time.
 *
 * <p>Not thread-safe: it reuses its byte buffers, so each thread keeps its own instance.
 */
final class ProcFs {
    private static final byte[] SOCKET_PREFIX = "socket:[".getBytes(StandardCharsets.US_ASCII);
    private static final int[] NONE = {};

    private final byte[] path = new byte[64];
    private final byte[] link = new byte[64];
    private final byte[] name = new byte[16];
    private final ByteBuffer dirents = ByteBuffer.allocateDirect(32 * 1024).order(ByteOrder.nativeOrder());

    /** Receives the socket descriptors of one process. */
    interface SocketFdConsumer {
        void socket(int fd, long inode);
    }

    /** The process ids now in /proc, ascending. */
    int[] pids() {
        return numbers(new File("/proc").list());
    }

    /**
     * Every socket descriptor of {@code pid} with its socket inode: one getdents64 pass over /proc/PID/fd and one
     * readlinkat per entry relative to it (the per-descriptor kernel cost is the floor of a full owner scan).
     * Nothing when the process is gone.
     */
    void forEachSocket(int pid, SocketFdConsumer out) {
        int n = 0;
        n = put(path, n, "/proc/");
        n = putInt(path, n, pid);
        n = put(path, n, "/fd");
        path[n] = 0;
        int dir = Libc.open(path, Libc.O_RDONLY_CLOEXEC);
        if (dir < 0) {
            return;
        }
        try {
            long got;
            while ((got = Libc.getdents64(dir, dirents, dirents.capacity())) > 0) {
                // struct linux_dirent64 {u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]}
                for (int at = 0; at + 19 < got; ) {
                    int reclen = dirents.getShort(at + 16) & 0xFFFF;
                    if (reclen < 20 || at + reclen > got) {
                        break; // cannot happen with a sane kernel; never read past what it wrote
                    }
                    int fd = 0;
                    int len = 0;
                    for (int i = at + 19; i < at + reclen && len < name.length - 1; i++, len++) {
                        byte c = dirents.get(i);
                        if (c == 0) {
                            break;
                        }
                        if (c < '0' || c > '9') {
                            len = -1; // "." and ".."
                            break;
                        }
                        name[len] = c;
                        fd = fd * 10 + (c - '0');
                    }
                    at += reclen;
                    if (len <= 0) {
                        continue;
                    }
                    name[len] = 0;
                    long inode = socketInode(Libc.readlinkat(dir, name, link, link.length));
                    if (inode >= 0) {
                        out.socket(fd, inode);
                    }
                }
            }
        } finally {
            Libc.close(dir);
        }
    }

    /** The inode of the socket behind descriptor {@code fd} of {@code pid}, or -1 when it is not a socket (any more). */
    long socketInode(int pid, int fd) {
        int n = 0;
        n = put(path, n, "/proc/");
        n = putInt(path, n, pid);
        n = put(path, n, "/fd/");
        n = putInt(path, n, fd);
        path[n] = 0;
        return socketInode(Libc.readlink(path, link, link.length));
    }

    /** Parses "socket:[N]" from the first {@code len} bytes of {@code link}; -1 for anything else. */
    private long socketInode(long len) {
        if (len <= SOCKET_PREFIX.length + 1 || len >= link.length || link[(int) len - 1] != ']') {
            return -1;
        }
        for (int i = 0; i < SOCKET_PREFIX.length; i++) {
            if (link[i] != SOCKET_PREFIX[i]) {
                return -1;
            }
        }
        long inode = 0;
        for (int i = SOCKET_PREFIX.length; i < len - 1; i++) {
            int d = link[i] - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            inode = inode * 10 + d;
        }
        return inode;
    }

    /**
     * Field 22 of /proc/PID/stat: the start time in clock ticks since boot, which tells two processes with the same
     * pid apart. Parsed after the last ')' because the command name in field 2 may hold spaces and parentheses.
     * -1 when the process is gone.
     */
    static long startTime(int pid) {
        byte[] stat;
        try {
            stat = Files.readAllBytes(Path.of("/proc/" + pid + "/stat"));
        } catch (IOException e) {
            return -1;
        }
        int i = stat.length - 1;
        while (i >= 0 && stat[i] != ')') {
            i--;
        }
        if (i < 0) {
            return -1;
        }
        // After ')' come fields 3, 4, ...: skip to the start of field 22.
        int field = 2;
        i++;
        while (i < stat.length && field < 22) {
            if (stat[i] == ' ') {
                field++;
            }
            i++;
        }
        long v = 0;
        int digits = 0;
        for (; i < stat.length && stat[i] >= '0' && stat[i] <= '9'; i++, digits++) {
            v = v * 10 + (stat[i] - '0');
        }
        return digits == 0 ? -1 : v;
    }

    /** The path of the running image as the kernel reports it (it may end in " (deleted)"), or null when gone. */
    static Path executable(int pid) {
        try {
            return Files.readSymbolicLink(exeLink(pid));
        } catch (IOException e) {
            return null;
        }
    }

    /** /proc/PID/exe: reading through it reads the image the process runs, even when its file was replaced. */
    static Path exeLink(int pid) {
        return Path.of("/proc/" + pid + "/exe");
    }

    private static int[] numbers(String[] names) {
        if (names == null) {
            return NONE;
        }
        int[] out = new int[names.length];
        int n = 0;
        for (String name : names) {
            int v = parse(name);
            if (v >= 0) {
                out[n++] = v;
            }
        }
        int[] result = Arrays.copyOf(out, n);
        Arrays.sort(result);
        return result;
    }

    private static int parse(String s) {
        if (s.isEmpty() || s.length() > 9) {
            return -1;
        }
        int v = 0;
        for (int i = 0; i < s.length(); i++) {
            int d = s.charAt(i) - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            v = v * 10 + d;
        }
        return v;
    }

    private static int put(byte[] b, int at, String ascii) {
        for (int i = 0; i < ascii.length(); i++) {
            b[at++] = (byte) ascii.charAt(i);
        }
        return at;
    }

    private static int putInt(byte[] b, int at, int v) {
        int start = at;
        do {
            b[at++] = (byte) ('0' + v % 10);
            v /= 10;
        } while (v > 0);
        for (int i = start, j = at - 1; i < j; i++, j--) {
            byte t = b[i];
            b[i] = b[j];
            b[j] = t;
        }
        return at;
    }
}
