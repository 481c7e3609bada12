package org.flexwall.port.monitor.sockdiag;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.flexwall.api.port.SocketOwner;

/**
 * Finds the processes holding sockets (FIG. 7, S701, the "which program" half): socket inode → every pid whose
 * /proc/PID/fd holds "socket:[inode]", each identified by pid, start time, running image path and SHA-256.
 *
 * <p>A full scan reads every descriptor of every process. It also leaves an index (inode → pid and fd) that
 * {@link #resolve(long)} uses for one socket: the index is only a hint, every entry is checked against /proc again
 * before it is believed, and a socket it does not know costs a full scan. The index is as fresh as the last full
 * scan: a process that inherited a socket since then is found by the next full scan, not by the fast path.
 *
 * <p>Thread-safe: each thread reads /proc with its own buffers; the index and the hash cache are shared.
 */
public final class OwnerResolver {
    private final ImageHasher hasher;
    private final ThreadLocal<ProcFs> procs = ThreadLocal.withInitial(ProcFs::new);
    /** inode → packed (pid << 32 | fd) of every holder seen at the last full scan that looked for it. */
    private final Map<Long, long[]> index = new ConcurrentHashMap<>();

    public OwnerResolver() {
        this(new ImageHasher());
    }

    OwnerResolver(ImageHasher hasher) {
        this.hasher = hasher;
    }

    /** The process ids now in /proc, ascending (a changed set means a process may have inherited a socket). */
    public int[] pids() {
        return procs.get().pids();
    }

    /**
     * Full scan: the owners of each socket in {@code inodes}. A socket nobody holds (owned by the kernel, or its
     * last holder just exited) maps to an empty list.
     *
     * @param complete whether {@code inodes} are all the sockets there are, so the index may forget every other one
     */
    public Map<Long, List<SocketOwner>> resolveAll(Collection<Long> inodes, boolean complete) {
        return resolveAll(inodes, complete, null);
    }

    /** As {@link #resolveAll(Collection, boolean)}, scanning the given pids (from {@link #pids()}) only. */
    public Map<Long, List<SocketOwner>> resolveAll(Collection<Long> inodes, boolean complete, int[] pids) {
        long[] wanted = inodes.stream().mapToLong(Long::longValue).sorted().distinct().toArray();
        ProcFs proc = procs.get();
        Map<Long, LongList> holders = new HashMap<>();
        if (wanted.length > 0) {
            for (int pid : pids != null ? pids : proc.pids()) {
                proc.forEachSocket(pid, (fd, inode) -> {
                    if (Arrays.binarySearch(wanted, inode) >= 0) {
                        holders.computeIfAbsent(inode, k -> new LongList()).add(pack(pid, fd));
                    }
                });
            }
        }
        Map<Integer, SocketOwner> owners = new HashMap<>(); // one identification per process per scan
        Map<Long, List<SocketOwner>> result = new HashMap<>(wanted.length * 2);
        for (long inode : wanted) {
            LongList at = holders.get(inode);
            if (at == null) {
                result.put(inode, List.of());
                index.remove(inode);
                continue;
            }
            List<SocketOwner> list = new ArrayList<>(at.size);
            for (int i = 0; i < at.size; i++) {
                int pid = pid(at.values[i]);
                int fd = fd(at.values[i]);
                SocketOwner o = owners.computeIfAbsent(pid, p -> identify(proc, p, inode, fd));
                if (o != null && !contains(list, pid)) {
                    list.add(o);
                }
            }
            list.sort(Comparator.comparingInt(SocketOwner::pid));
            result.put(inode, List.copyOf(list));
            index.put(inode, at.toArray());
        }
        if (complete) {
            index.keySet().removeIf(inode -> Arrays.binarySearch(wanted, inode) < 0);
        }
        return result;
    }

    /**
     * The owners of one socket: the index's holders, each confirmed against /proc; a full scan when the index does
     * not know the socket or was wrong about it.
     */
    public List<SocketOwner> resolve(long inode) {
        long[] at = index.get(inode);
        if (at != null) {
            ProcFs proc = procs.get();
            List<SocketOwner> list = new ArrayList<>(at.length);
            boolean confirmed = true;
            for (long where : at) {
                SocketOwner o = identify(proc, pid(where), inode, fd(where));
                if (o == null) {
                    confirmed = false;
                    break;
                }
                if (!contains(list, o.pid())) {
                    list.add(o);
                }
            }
            if (confirmed) {
                list.sort(Comparator.comparingInt(SocketOwner::pid));
                return List.copyOf(list);
            }
        }
        return resolveAll(List.of(inode), false).get(inode);
    }

    /** How many sockets the index knows (for tests and the benchmark). */
    int indexed() {
        return index.size();
    }

    /**
     * Who process {@code pid} is, confirmed afterwards to still hold {@code inode} at {@code fd}: if it does, it lived
     * through the whole read, so the start time and image read belong to it and not to a successor with its pid.
     * Null when it no longer holds the socket.
     */
    private SocketOwner identify(ProcFs proc, int pid, long inode, int fd) {
        long start = ProcFs.startTime(pid);
        Path exe = ProcFs.executable(pid);
        String sha = exe == null ? null : hasher.sha256(pid);
        if (sha != null && !exe.equals(ProcFs.executable(pid))) {
            sha = null; // it exec'd while we hashed: the hash may belong to either image
        }
        if (start < 0 || proc.socketInode(pid, fd) != inode) {
            return null;
        }
        // Unreadable image (no permission): the owner stays, unidentified, so it can never look trusted.
        return new SocketOwner(pid, start, exe != null ? exe : ProcFs.exeLink(pid), sha);
    }

    private static boolean contains(List<SocketOwner> list, int pid) {
        for (SocketOwner o : list) {
            if (o.pid() == pid) {
                return true;
            }
        }
        return false;
    }

    private static long pack(int pid, int fd) {
        return ((long) pid << 32) | (fd & 0xFFFFFFFFL);
    }

    private static int pid(long packed) {
        return (int) (packed >>> 32);
    }

    private static int fd(long packed) {
        return (int) packed;
    }

    /** A growable long array: no boxing in the scan loop. */
    private static final class LongList {
        long[] values = new long[2];
        int size;

        void add(long v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        long[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }
}
