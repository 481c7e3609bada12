package org.flexwall.port.monitor.tracefs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.flexwall.api.port.PortActivityListener;

/**
 * Follows pidfd_getfd(2) through its syscall tracepoints: a process that takes a duplicate of another process's
 * socket becomes one of its holders, perhaps only for a moment, and the port monitor must know it even when the
 * duplicate is closed again before any scan. The entry event names the pidfd and the descriptor (read at once, while
 * the original holder still has it); the exit event the new descriptor. flexwall's own calls (its socket marker) are
 * left out. Used by the trace reader thread only.
 */
final class TakenSockets {
    // "comm-TID [CPU]" or "comm-TID (TGID) [CPU]": comm may hold '-' and spaces, the TID is the last number before [
    private static final Pattern TASK = Pattern.compile("^\\s*.*?-(\\d+)\\s+(?:\\(\\s*[-\\d]+\\)\\s+)?\\[\\d+\\]");
    private static final String ENTER = "sys_pidfd_getfd(";
    private static final String EXIT = "sys_pidfd_getfd -> ";
    private static final int MAX_PENDING = 4096;
    private final long self = ProcessHandle.current().pid();
    /** Thread id → the socket inode its pending call names (0 when it could not be read). */
    private final Map<Integer, Long> pending = new HashMap<>();

    /** Handles {@code line} when it is a pidfd_getfd event, telling {@code to}; false for any other line. */
    boolean dispatch(String line, PortActivityListener to) {
        boolean enter = line.contains(ENTER);
        if (!enter && !line.contains(EXIT)) {
            return false;
        }
        int tid = tid(line);
        if (tid <= 0 || ours(tid)) {
            return true;
        }
        if (enter) {
            if (pending.size() >= MAX_PENDING) {
                pending.clear(); // threads that never returned (killed in the call): forget them
            }
            pending.put(tid, inodeThroughPidfd(tid, hex(line, "pidfd: "), hex(line, ", fd: ")));
            return true;
        }
        Long atEntry = pending.remove(tid);
        long ret = hex(line, EXIT);
        if (ret < 0) {
            return true; // the call failed: nothing was taken
        }
        String now = link(Path.of("/proc", Integer.toString(tid), "fd", Long.toString(ret)));
        long inode = now != null ? socketInode(now) : atEntry != null ? atEntry : 0;
        if (now != null && inode < 0) {
            return true; // a duplicate of something that is not a socket
        }
        to.socketTaken(tgid(tid), Math.max(inode, 0));
        return true;
    }

    /** Whether thread {@code tid} is one of flexwall's own. */
    private boolean ours(int tid) {
        return Files.exists(Path.of("/proc/self/task", Integer.toString(tid))) || tgid(tid) == self;
    }

    /** The socket inode behind descriptor {@code fd} of the process {@code pidfd} (of thread {@code tid}) refers to. */
    private static long inodeThroughPidfd(int tid, long pidfd, long fd) {
        if (pidfd < 0 || fd < 0) {
            return 0;
        }
        String info = read(Path.of("/proc", Integer.toString(tid), "fdinfo", Long.toString(pidfd)));
        long target = info == null ? -1 : field(info, "Pid:");
        String link = target <= 0 ? null : link(Path.of("/proc", Long.toString(target), "fd", Long.toString(fd)));
        return link == null ? 0 : Math.max(socketInode(link), 0);
    }

    /** The process (thread group) of thread {@code tid}; the tid itself when /proc no longer tells. */
    static int tgid(int tid) {
        String status = read(Path.of("/proc", Integer.toString(tid), "status"));
        long tgid = status == null ? -1 : field(status, "Tgid:");
        return tgid > 0 ? (int) tgid : tid;
    }

    static int tid(String line) {
        Matcher m = TASK.matcher(line);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** The hexadecimal "0x…" value after {@code key} as a signed long (-1 for the kernel's negative errors). */
    static long hex(String line, String key) {
        int i = line.indexOf(key);
        if (i < 0 || !line.startsWith("0x", i + key.length())) {
            return -1;
        }
        int from = i + key.length() + 2;
        int to = from;
        while (to < line.length() && Character.digit(line.charAt(to), 16) >= 0) {
            to++;
        }
        try {
            return to == from || to - from > 16 ? -1 : Long.parseUnsignedLong(line.substring(from, to), 16);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The inode of "socket:[N]", or -1 for anything else. */
    static long socketInode(String link) {
        if (!link.startsWith("socket:[") || !link.endsWith("]")) {
            return -1;
        }
        try {
            return Long.parseLong(link.substring(8, link.length() - 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static long field(String text, String key) {
        for (String l : text.split("\n")) {
            if (l.startsWith(key)) {
                try {
                    return Long.parseLong(l.substring(key.length()).trim());
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }

    private static String link(Path p) {
        try {
            return Files.readSymbolicLink(p).toString();
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return null;
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException | SecurityException e) {
            return null;
        }
    }
}
