package org.flexwall.port.monitor.sockdiag;

import java.io.File;
import java.io.IOException;
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

    /** The process ids now in /proc, ascending. */
    int[] pids() {
        return numbers(new File("/proc").list());
    }

    /** The open file descriptors of {@code pid}; empty when the process is gone or has none. */
    int[] fds(int pid) {
        return numbers(new File("/proc/" + pid + "/fd").list());
    }

    /** The inode of the socket behind descriptor {@code fd} of {@code pid}, or -1 when it is not a socket (any more). */
    long socketInode(int pid, int fd) {
        int n = 0;
        n = put(path, n, "/proc/");
        n = putInt(path, n, pid);
        n = put(path, n, "/fd/");
        n = putInt(path, n, fd);
        path[n] = 0;
        long len = Libc.readlink(path, link, link.length);
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
