package org.flexwall.port.monitor.sockdiag;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.stream.IntStream;

/**
 * Reads what /proc says about processes: their file descriptors, start time and executable. Every method answers
 * "gone" (-1, null) rather than throwing when a process exits under it, which happens all the time.
 *
 * <p>Not thread-safe: it reuses its byte buffers, so each thread keeps its own instance.
 */
final class ProcFs {
    private static final byte[] SOCKET_PREFIX = "socket:[".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PROC = "/proc\0".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PROC_SLASH = "/proc/".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LOADAVG = "/proc/loadavg\0".getBytes(StandardCharsets.US_ASCII);
    private static final Charset PATHS = Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
    // One direct buffer, in parts: what the kernel reads (paths) and writes (links, stat, directory entries).
    private static final int PATH = 0;
    private static final int PATH_SIZE = 4096; // PATH_MAX
    private static final int LINK = PATH + PATH_SIZE;
    private static final int LINK_SIZE = 64; // "socket:[" + at most 20 digits + "]"
    private static final int STATX = LINK + LINK_SIZE;
    private static final int STATX_SIZE = 256; // struct statx, the same on every architecture
    private static final int TEXT = STATX + STATX_SIZE;
    private static final int TEXT_SIZE = 4096; // /proc/PID/stat, or an executable's path (PATH_MAX)
    private static final int DIRENTS = TEXT + TEXT_SIZE;
    private static final int DIRENTS_SIZE = 32 * 1024;
    private static final int AT_FDCWD = -100;
    private static final int STATX_BASIC_STATS = 0x7FF;

    private final ByteBuffer buffer = ByteBuffer.allocateDirect(DIRENTS + DIRENTS_SIZE).order(ByteOrder.nativeOrder());
    private final long address = Libc.address(buffer);

    /** Receives the socket descriptors of one process; answers whether to go on with this process. */
    interface SocketFdConsumer {
        boolean socket(int fd, long inode);
    }

    /** The process ids now in /proc, ascending. */
    int[] pids() {
        put(PATH, PROC, 0, PROC.length);
        int dir = Libc.open(address + PATH, Libc.O_RDONLY_CLOEXEC);
        if (dir < 0) {
            throw new IllegalStateException("/proc cannot be opened: is procfs mounted?");
        }
        IntStream.Builder pids = IntStream.builder();
        try {
            forEachNumberedEntry(dir, (pid, name) -> {
                if (pid <= Integer.MAX_VALUE) {
                    pids.add((int) pid);
                }
                return true;
            });
        } finally {
            Libc.close(dir);
        }
        return pids.build().sorted().toArray();
    }

    /**
     * The last pid this PID namespace handed out and how many tasks the machine runs (fields 5 and the total of 4 in
     * /proc/loadavg): while both stay the same, no process or thread was made and none ended, so the pid list is as
     * it was. Null when it cannot be read.
     */
    long[] taskCounts() {
        put(PATH, LOADAVG, 0, LOADAVG.length);
        int fd = Libc.open(address + PATH, Libc.O_RDONLY_CLOEXEC);
        if (fd < 0) {
            return null;
        }
        long len;
        try {
            len = Libc.read(fd, address + TEXT, TEXT_SIZE);
        } finally {
            Libc.close(fd);
        }
        if (len <= 0 || len >= TEXT_SIZE) {
            return null;
        }
        // "0.92 0.85 1.70 1/113 16564\n": the number after '/', then the last one
        int end = TEXT + (int) len;
        int slash = TEXT;
        while (slash < end && buffer.get(slash) != '/') {
            slash++;
        }
        long tasks = 0;
        int i = slash + 1;
        int digits = 0;
        for (; i < end && buffer.get(i) >= '0' && buffer.get(i) <= '9'; i++, digits++) {
            tasks = tasks * 10 + (buffer.get(i) - '0');
        }
        long lastPid = 0;
        int pidDigits = 0;
        for (i++; i < end && buffer.get(i) >= '0' && buffer.get(i) <= '9'; i++, pidDigits++) {
            lastPid = lastPid * 10 + (buffer.get(i) - '0');
        }
        return digits == 0 || pidDigits == 0 ? null : new long[] { lastPid, tasks };
    }

    /**
     * Every socket descriptor of {@code pid} with its socket inode, until {@code out} says stop: one getdents64 pass
     * over /proc/PID/fd and one readlinkat per entry relative to it (the per-descriptor kernel cost is the floor of a
     * full owner scan). Nothing when the process is gone.
     */
    void forEachSocket(int pid, SocketFdConsumer out) {
        int n = putPath(pid, "/fd", -1);
        buffer.put(n, (byte) 0);
        int dir = Libc.open(address + PATH, Libc.O_RDONLY_CLOEXEC);
        if (dir < 0) {
            return;
        }
        try {
            forEachNumberedEntry(dir, (fd, name) -> {
                if (fd > Integer.MAX_VALUE) {
                    return true;
                }
                // d_name is NUL-terminated in place: the kernel reads it straight from the buffer.
                long inode = socketInode(Libc.readlinkat(dir, address + name, address + LINK, LINK_SIZE));
                return inode < 0 || out.socket((int) fd, inode);
            });
        } finally {
            Libc.close(dir);
        }
    }

    private interface NumberedEntry {
        /** One entry named by a decimal number, its name at {@code name} in the buffer; false stops the walk. */
        boolean visit(long number, int name);
    }

    /** Walks the entries of the open directory {@code dir} whose names are decimal numbers (pids, descriptors). */
    private void forEachNumberedEntry(int dir, NumberedEntry visit) {
        long got;
        while ((got = Libc.getdents64(dir, address + DIRENTS, DIRENTS_SIZE)) > 0) {
            // struct linux_dirent64 {u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]}
            for (int at = 0; at + 19 < got; ) {
                int reclen = reclen(at, got);
                if (reclen < 0) {
                    break;
                }
                int name = DIRENTS + at + 19;
                long number = number(name, DIRENTS + at + reclen); // -1 for "." and ".."
                at += reclen;
                if (number >= 0 && !visit.visit(number, name)) {
                    return;
                }
            }
        }
    }

    /** The inode of the socket behind descriptor {@code fd} of {@code pid}, or -1 when it is not a socket (any more). */
    long socketInode(int pid, int fd) {
        int n = putPath(pid, "/fd/", fd);
        buffer.put(n, (byte) 0);
        return socketInode(Libc.readlink(address + PATH, address + LINK, LINK_SIZE));
    }

    /** The length of the directory entry at {@code at}, or -1 when it would run past what the kernel wrote. */
    private int reclen(int at, long got) {
        int reclen = buffer.getShort(DIRENTS + at + 16) & 0xFFFF;
        // cannot happen with a sane kernel; never read past what it wrote
        return reclen < 20 || at + reclen > got ? -1 : reclen;
    }

    /** The decimal number in the NUL-terminated name from {@code from} (before {@code end}), or -1 if it is none. */
    private long number(int from, int end) {
        long v = 0;
        int i = from;
        for (; i < end && i - from < 19; i++) {
            byte c = buffer.get(i);
            if (c == 0) {
                break;
            }
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return i == from || i == end || buffer.get(i) != 0 ? -1 : v;
    }

    /** Parses "socket:[N]" from the first {@code len} bytes of the link part; -1 for anything else. */
    private long socketInode(long len) {
        if (len <= SOCKET_PREFIX.length + 1 || len >= LINK_SIZE || buffer.get(LINK + (int) len - 1) != ']') {
            return -1;
        }
        for (int i = 0; i < SOCKET_PREFIX.length; i++) {
            if (buffer.get(LINK + i) != SOCKET_PREFIX[i]) {
                return -1;
            }
        }
        long inode = 0;
        for (int i = SOCKET_PREFIX.length; i < len - 1; i++) {
            int d = buffer.get(LINK + i) - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            inode = inode * 10 + d;
        }
        return inode;
    }

    /**
     * Field 22 of /proc/PID/stat: the start time in clock ticks since boot, which tells two processes with the same
     * pid apart. -1 when the process is gone.
     */
    long startTime(int pid) {
        long[] f = stat(pid, START_TIME);
        return f == null ? -1 : f[0];
    }

    /** The fields of /proc/PID/stat that {@link #imageLayout} reads: where exec(2) put the stack, arguments and environment. */
    private static final int START_TIME = 22;
    private static final int[] LAYOUT = { START_TIME, 28, 48, 49, 50, 51 };

    /**
     * The start time (element 0) and where the running image's stack, arguments and environment lie (fields 28, 48-51
     * of /proc/PID/stat): every exec(2) lays these out anew, at random places unless address randomisation is off, so a
     * process that exec'd since is told apart from what it was. Null when the process is gone.
     */
    long[] imageLayout(int pid) {
        return stat(pid, LAYOUT);
    }

    /**
     * The numeric fields {@code wanted} (ascending, from 3) of /proc/PID/stat, parsed after the last ')' because the
     * command name in field 2 may hold spaces and parentheses. Null when the process is gone.
     */
    private long[] stat(int pid, int... wanted) {
        int n = putPath(pid, "/stat", -1);
        buffer.put(n, (byte) 0);
        int fd = Libc.open(address + PATH, Libc.O_RDONLY_CLOEXEC);
        if (fd < 0) {
            return null;
        }
        long len;
        try {
            len = Libc.read(fd, address + TEXT, TEXT_SIZE); // procfs hands out the whole of a small file at once
        } finally {
            Libc.close(fd);
        }
        if (len <= 0 || len >= TEXT_SIZE) {
            return null;
        }
        int end = TEXT + (int) len;
        int i = end - 1;
        while (i >= TEXT && buffer.get(i) != ')') {
            i--;
        }
        if (i < TEXT) {
            return null;
        }
        long[] values = new long[wanted.length];
        int field = 2; // after ')' come a space and fields 3, 4, ...
        i++;
        for (int w = 0; w < wanted.length; w++) {
            while (i < end && field < wanted[w]) {
                if (buffer.get(i) == ' ') {
                    field++;
                }
                i++;
            }
            long v = 0;
            int digits = 0;
            for (; i < end && buffer.get(i) >= '0' && buffer.get(i) <= '9'; i++, digits++) {
                v = v * 10 + (buffer.get(i) - '0');
            }
            if (digits == 0) {
                return null;
            }
            values[w] = v;
        }
        return values;
    }

    /**
     * The whole of the small /proc file {@code /proc/PID/NAME} (status, environ, cgroup), read with plain read(2) calls
     * into the text part and copied out; null when it cannot be read (the process is gone).
     */
    byte[] read(int pid, String name) {
        int n = putPath(pid, name, -1);
        buffer.put(n, (byte) 0);
        int fd = Libc.open(address + PATH, Libc.O_RDONLY_CLOEXEC);
        if (fd < 0) {
            return null;
        }
        byte[] out = new byte[0];
        try {
            long got;
            while ((got = Libc.read(fd, address + TEXT, TEXT_SIZE)) > 0) {
                int at = out.length;
                out = java.util.Arrays.copyOf(out, at + (int) got);
                buffer.get(TEXT, out, at, (int) got);
            }
            return got < 0 ? null : out;
        } finally {
            Libc.close(fd);
        }
    }

    /** The path of the running image as the kernel reports it (it may end in " (deleted)"), or null when gone. */
    Path executable(int pid) {
        int n = putPath(pid, "/exe", -1);
        buffer.put(n, (byte) 0);
        long len = Libc.readlink(address + PATH, address + TEXT, TEXT_SIZE);
        if (len <= 0 || len >= TEXT_SIZE) {
            return null; // gone, a kernel thread, or cut short
        }
        byte[] bytes = new byte[(int) len];
        buffer.get(TEXT, bytes);
        return Path.of(new String(bytes, PATHS));
    }

    /**
     * The identity of the file {@code path} leads to (links followed, so /proc/PID/exe gives the running image):
     * one statx(2), the same structure on every architecture. Null when it cannot be read.
     */
    ImageHasher.FileKey fileKey(Path path) {
        byte[] bytes = path.toString().getBytes(PATHS);
        if (bytes.length >= PATH_SIZE) {
            return null;
        }
        buffer.put(PATH, bytes).put(PATH + bytes.length, (byte) 0);
        if (Libc.statx(AT_FDCWD, address + PATH, 0, STATX_BASIC_STATS, address + STATX) != 0) {
            return null;
        }
        int mask = buffer.getInt(STATX);
        if ((mask & STATX_BASIC_STATS) != STATX_BASIC_STATS) {
            return null; // a file system that cannot tell: no identity, so nothing cached for it
        }
        long dev = ((long) buffer.getInt(STATX + 136) << 32) | (buffer.getInt(STATX + 140) & 0xFFFFFFFFL);
        return new ImageHasher.FileKey(dev, buffer.getLong(STATX + 32), buffer.getLong(STATX + 40),
                nanos(STATX + 112), nanos(STATX + 96));
    }

    /** A struct statx_timestamp {s64 tv_sec; u32 tv_nsec} in nanoseconds. */
    private long nanos(int at) {
        return buffer.getLong(at) * 1_000_000_000L + (buffer.getInt(at + 8) & 0xFFFFFFFFL);
    }

    /** /proc/PID/exe: reading through it reads the image the process runs, even when its file was replaced. */
    static Path exeLink(int pid) {
        return Path.of("/proc/" + pid + "/exe");
    }

    /** Writes "/proc/PID" + {@code tail} (+ {@code fd} when not negative) at the path part; returns its end. */
    private int putPath(int pid, String tail, int fd) {
        int at = put(PATH, PROC_SLASH, 0, PROC_SLASH.length);
        at = putInt(at, pid);
        for (int i = 0; i < tail.length(); i++) {
            buffer.put(at++, (byte) tail.charAt(i));
        }
        return fd >= 0 ? putInt(at, fd) : at;
    }

    private int put(int at, byte[] bytes, int from, int len) {
        for (int i = 0; i < len; i++) {
            buffer.put(at++, bytes[from + i]);
        }
        return at;
    }

    private int putInt(int at, int v) {
        int digits = 1;
        for (int x = v / 10; x > 0; x /= 10) {
            digits++;
        }
        for (int i = at + digits - 1; i >= at; i--, v /= 10) {
            buffer.put(i, (byte) ('0' + v % 10));
        }
        return at + digits;
    }
}
