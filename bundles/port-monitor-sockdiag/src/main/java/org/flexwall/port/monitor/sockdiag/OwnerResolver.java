package org.flexwall.port.monitor.sockdiag;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.LongStream;

import org.flexwall.api.port.SocketOwner;

/**
 * Finds the processes holding sockets (FIG. 7, S701, the "which program" half): socket inode → every process holding
 * a descriptor of it, each identified through /proc/PID by pid, start time, running image path and SHA-256.
 *
 * <p>A full scan reads every descriptor of every process: first in one pass of a BPF task_file iterator when the
 * kernel allows it ({@link TaskFileIterator}), otherwise through /proc/PID/fd, one readlinkat per descriptor. It also
 * leaves an index (inode → pid and fd) that {@link #resolve(long)} uses for one socket: the index is only a hint,
 * every entry is checked against /proc/PID/fd again before it is believed, and a socket it does not know costs a full
 * scan. The index is as fresh as the last full
 * scan: a process that inherited a socket since then is found by the next full scan, not by the fast path.
 *
 * <p>Why nothing cheaper for a socket the index does not know: the first holder found is not enough (an untrusted
 * process may share the socket, and the store must see it), and nothing short of reading every descriptor proves
 * that no other process holds it. A socket's uid is its creator's at creation (daemons drop privileges after
 * listen(), descriptors cross uids by fork and SCM_RIGHTS), and a descriptor closed and reopened leaves a process's
 * descriptor count and numbers as they were.
 *
 * <p>Thread-safe: each thread reads /proc with its own buffers; the index and the hash cache are shared.
 */
public final class OwnerResolver implements AutoCloseable {
    /** flexwall's own process: see {@link #withoutSelf(List)}. */
    static final int SELF = (int) ProcessHandle.current().pid();
    private final ImageHasher hasher;
    private final TaskFileIterator descriptors; // null: /proc/PID/fd
    private final ThreadLocal<ProcFs> procs = ThreadLocal.withInitial(ProcFs::new);
    /** inode → packed (pid << 32 | fd) of every holder seen at the last full scan that looked for it. */
    private volatile Map<Long, long[]> index = new ConcurrentHashMap<>();
    /** pid → what its last full identification read, for {@link #identify} to reuse while it is fresh. */
    private final Map<Integer, Read> identities = new ConcurrentHashMap<>();
    private volatile long reuseNanos; // 0: every identification reads /proc in full
    private volatile PidList pidList;

    /** A pid list and the task counts ({@link ProcFs#taskCounts}) it was read at. */
    private record PidList(long[] counts, int[] pids) {}

    /** A full identification and what it was read of: the process (start time) and its image's layout in memory. */
    private record Read(long[] layout, Path exe, String sha256, ProcessSigns.Image image, long at) {}

    /** Reads descriptors through /proc/PID/fd. */
    public OwnerResolver() {
        this(new ImageHasher(), null);
    }

    /** Reads descriptors through {@code descriptors}, or /proc/PID/fd when null; closes it with itself. */
    OwnerResolver(TaskFileIterator descriptors) {
        this(new ImageHasher(), descriptors);
    }

    OwnerResolver(ImageHasher hasher, TaskFileIterator descriptors) {
        this.hasher = hasher;
        this.descriptors = descriptors;
    }

    /**
     * Lets a process's identification be reused for {@code nanos} after it was read in full, for a new socket of the
     * same process (same pid, start time and image layout: see {@link #identify}); 0 reads every one in full.
     */
    void reuseIdentities(long nanos) {
        reuseNanos = nanos;
        identities.clear();
    }

    /** Whether descriptors are read through the BPF iterator. */
    boolean readsThroughBpf() {
        return descriptors != null;
    }

    @Override
    public void close() {
        if (descriptors != null) {
            descriptors.close();
        }
    }

    /**
     * The process ids now in /proc, ascending (a changed set means a process may have inherited a socket); the last
     * list again, not read, while the task counts it was read at say no process came or went. Not to be changed.
     */
    public int[] pids() {
        ProcFs proc = procs.get();
        long[] counts = proc.taskCounts(); // before the list: a task made meanwhile changes them for the next call
        PidList last = pidList;
        if (counts != null && last != null && Arrays.equals(counts, last.counts())) {
            return last.pids();
        }
        int[] pids = proc.pids();
        pidList = counts == null ? null : new PidList(counts, pids);
        return pids;
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
        return resolveAll(inodes, complete, pids, Map.of(), false);
    }

    /**
     * As {@link #resolveAll(Collection, boolean, int[])}, taking the identification of a process that still holds a
     * socket of {@code known} (inode to its owners from an earlier scan) from there instead of reading /proc again:
     * a port change then reads only the processes holding the new socket, however many other listeners run. A
     * process that holds a socket not in {@code known} is identified afresh, for that socket and every other; but
     * what its image is (path, hash, environment, unit) may come from its identification of the last
     * {@link #reuseIdentities} window, when it is still the same process with the same image: its uid and tracer are
     * read again in any case.
     */
    public Map<Long, List<SocketOwner>> resolveAll(Collection<Long> inodes, boolean complete, int[] pids,
            Map<Long, List<SocketOwner>> known) {
        return resolveAll(inodes, complete, pids, known, true);
    }

    private Map<Long, List<SocketOwner>> resolveAll(Collection<Long> inodes, boolean complete, int[] pids,
            Map<Long, List<SocketOwner>> known, boolean reuse) {
        if (complete && !reuse) {
            identities.clear(); // a full read of every holder: it keeps those it reads, and no process that is gone
        }
        long[] wanted = inodes.stream().mapToLong(Long::longValue).sorted().distinct().toArray();
        ProcFs proc = procs.get();
        long[][] holders = wanted.length == 0 ? new long[0][] : holders(proc, new InodeSlots(wanted), pids);
        Map<Integer, SocketOwner> owners = new HashMap<>(); // one identification per process per scan
        // with nothing known there is nothing earlier to take: every holder is read anyway
        Set<Integer> readAfresh = known.isEmpty() ? Set.of() : holdersOfNew(holders, wanted, known);
        Map<Long, List<SocketOwner>> result = new HashMap<>(wanted.length * 2);
        Map<Long, long[]> seen = complete ? new ConcurrentHashMap<>(wanted.length * 2) : index;
        for (int slot = 0; slot < wanted.length; slot++) {
            long inode = wanted[slot];
            long[] at = holders[slot];
            if (at == null) {
                result.put(inode, List.of());
                seen.remove(inode);
                continue;
            }
            List<SocketOwner> list = new ArrayList<>(at.length);
            for (long where : at) {
                int pid = pid(where);
                SocketOwner o = owners.get(pid);
                if (o == null && !readAfresh.contains(pid)) {
                    o = earlier(known.get(inode), pid);
                }
                if (o == null) {
                    o = owners.computeIfAbsent(pid, p -> identify(proc, p, inode, fd(where), reuse));
                }
                if (o != null && !contains(list, pid)) {
                    list.add(o);
                }
            }
            list.sort(Comparator.comparingInt(SocketOwner::pid));
            result.put(inode, withoutSelf(List.copyOf(list)));
            seen.put(inode, at);
        }
        if (complete) {
            index = seen; // every other socket is gone
        }
        return result;
    }

    /** The processes holding a wanted socket that {@code known} does not hold: they are read afresh. */
    private static Set<Integer> holdersOfNew(long[][] holders, long[] wanted, Map<Long, List<SocketOwner>> known) {
        Set<Integer> pids = new HashSet<>();
        for (int slot = 0; slot < wanted.length; slot++) {
            if (holders[slot] != null && !known.containsKey(wanted[slot])) {
                for (long where : holders[slot]) {
                    pids.add(pid(where));
                }
            }
        }
        return pids;
    }

    /** The earlier identification of {@code pid} as a holder (not a taker) of the socket, or null. */
    private static SocketOwner earlier(List<SocketOwner> owners, int pid) {
        if (owners != null) {
            for (SocketOwner o : owners) {
                if (o.pid() == pid && !o.taken()) {
                    return o;
                }
            }
        }
        return null;
    }

    /**
     * The holders of {@code inodes} among {@code pids} only (processes that appeared since the last full scan, which
     * may have inherited a socket), added to the holders the index knows. A socket none of them holds is left out; a
     * socket the index does not know gets no entry from this partial look (its next lookup is a full scan).
     */
    public Map<Long, List<SocketOwner>> resolveAmong(Collection<Long> inodes, int[] pids) {
        long[] wanted = inodes.stream().mapToLong(Long::longValue).sorted().distinct().toArray();
        if (wanted.length == 0 || pids.length == 0) {
            return Map.of();
        }
        ProcFs proc = procs.get();
        long[][] holders = holders(proc, new InodeSlots(wanted), pids);
        Map<Integer, SocketOwner> owners = new HashMap<>();
        Map<Long, List<SocketOwner>> result = new HashMap<>();
        Map<Long, long[]> known = index;
        for (int slot = 0; slot < wanted.length; slot++) {
            long[] at = holders[slot];
            if (at == null) {
                continue;
            }
            long inode = wanted[slot];
            List<SocketOwner> list = new ArrayList<>(at.length);
            for (long where : at) {
                SocketOwner o = owners.computeIfAbsent(pid(where), p -> identify(proc, p, inode, fd(where), false));
                if (o != null && !contains(list, o.pid())) {
                    list.add(o);
                }
            }
            list.sort(Comparator.comparingInt(SocketOwner::pid));
            result.put(inode, List.copyOf(list));
            known.computeIfPresent(inode, (k, before) -> union(before, at));
        }
        return result;
    }

    /** Drops the holders of processes that are gone ({@code pids} ascending) from the index. */
    public void forget(int[] pids) {
        if (pids.length == 0) {
            return;
        }
        for (int pid : pids) {
            identities.remove(pid);
        }
        Map<Long, long[]> known = index;
        for (Map.Entry<Long, long[]> e : known.entrySet()) {
            long[] at = e.getValue();
            long[] kept = Arrays.stream(at).filter(w -> Arrays.binarySearch(pids, pid(w)) < 0).toArray();
            if (kept.length == 0) {
                known.remove(e.getKey(), at); // nobody known: the next lookup reads every process
            } else if (kept.length < at.length) {
                known.replace(e.getKey(), at, kept);
            }
        }
    }

    private static long[] union(long[] a, long[] b) {
        return LongStream.concat(Arrays.stream(a), Arrays.stream(b)).distinct().toArray();
    }

    /**
     * Every holder (packed pid and fd) of each wanted socket, by slot; null for a socket nobody holds. Reads the
     * descriptors of every process in {@code pids} (null: every process).
     */
    private long[][] holders(ProcFs proc, InodeSlots wanted, int[] pids) {
        long[][] holders = new long[wanted.size()][];
        if (descriptors != null) {
            descriptors.forEach((pid, fd, inode) -> {
                int slot = wanted.slot(inode);
                if (slot >= 0 && (pids == null || Arrays.binarySearch(pids, pid) >= 0)) {
                    add(holders, slot, pid, fd);
                }
            });
            return holders;
        }
        // When one socket is wanted, each process is read only up to its first descriptor of it. (Splitting the pids
        // over two threads gained under 5 % on the shared 2-vCPU machine and would take the packet path's core.)
        boolean one = wanted.size() == 1;
        for (int pid : pids != null ? pids : proc.pids()) {
            proc.forEachSocket(pid, (fd, inode) -> {
                int slot = wanted.slot(inode);
                if (slot < 0) {
                    return true;
                }
                add(holders, slot, pid, fd);
                return !one;
            });
        }
        return holders;
    }

    private static void add(long[][] holders, int slot, int pid, int fd) {
        long[] at = holders[slot];
        if (at == null) {
            holders[slot] = new long[] { pack(pid, fd) };
        } else {
            at = Arrays.copyOf(at, at.length + 1); // shared sockets are few: no list per socket
            at[at.length - 1] = pack(pid, fd);
            holders[slot] = at;
        }
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
                SocketOwner o = identify(proc, pid(where), inode, fd(where), false);
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
                return withoutSelf(List.copyOf(list));
            }
        }
        return resolveAll(List.of(inode), false).get(inode);
    }

    /** The (pid, fd) pairs, {@link #pack packed}, the index knows for {@code inode}; null when it knows none. A hint. */
    long[] holders(long inode) {
        return index.get(inode);
    }

    /** Forgets every socket (for the benchmark of lookups the index cannot answer). */
    void forgetIndex() {
        index = new ConcurrentHashMap<>();
    }

    /** How many sockets the index knows (for tests and the benchmark). */
    int indexed() {
        return index.size();
    }

    /**
     * Who process {@code pid} is, confirmed afterwards to still hold {@code inode} at {@code fd}: if it does, it lived
     * through the whole read, so the start time and image read belong to it and not to a successor with its pid.
     * Null when it no longer holds the socket.
     *
     * <p>With {@code reuse}, what its image is comes from its last full identification when that is younger than the
     * reuse window and the process is the one read then, running the image it ran then: the same start time, and the
     * same layout of stack, arguments and environment, which exec(2) makes anew (so a program that exec'd another, or
     * itself with other loader variables, is read in full). An exec that kept the layout (address randomisation off,
     * an environment of the same size) is seen by the next full read, as one of a program holding an older socket is:
     * within the owner re-scan interval. Its uid and tracer, which change without exec, are read every time.
     */
    private SocketOwner identify(ProcFs proc, int pid, long inode, int fd, boolean reuse) {
        long[] layout = proc.imageLayout(pid);
        if (layout == null) {
            return null;
        }
        long start = layout[0];
        Read earlier = reuse ? identities.get(pid) : null;
        Read read;
        if (earlier != null && Arrays.equals(earlier.layout(), layout)
                && System.nanoTime() - earlier.at() < reuseNanos) {
            read = earlier;
        } else {
            long at = System.nanoTime();
            Path exe = proc.executable(pid);
            String sha = exe == null ? null : hasher.sha256(proc, ProcFs.exeLink(pid));
            if (sha != null && !exe.equals(proc.executable(pid))) {
                sha = null; // it exec'd while we hashed: the hash may belong to either image
            }
            read = new Read(layout, exe, sha, ProcessSigns.Image.of(proc, pid, exe), at);
        }
        ProcessSigns signs = ProcessSigns.of(proc, pid, read.image());
        if (proc.socketInode(pid, fd) != inode) {
            return null;
        }
        if (read != earlier && read.sha256() != null && reuseNanos > 0) {
            identities.put(pid, read); // only a whole identification, of a process that lived through it
        }
        // Unreadable image (no permission): the owner stays, unidentified, so it can never look trusted.
        return new SocketOwner(pid, start, read.exe() != null ? read.exe() : ProcFs.exeLink(pid), read.sha256(),
                signs.uid(), signs.unit(), signs.tampered(), false);
    }

    /**
     * Who process {@code pid} is now, for a process that took a socket (pidfd_getfd) and may no longer hold it. An
     * owner that cannot be read (gone already) stays, unidentified, so it can never look trusted.
     */
    public SocketOwner identifyTaker(int pid) {
        ProcFs proc = procs.get();
        long start = proc.startTime(pid);
        Path exe = proc.executable(pid);
        String sha = exe == null ? null : hasher.sha256(proc, ProcFs.exeLink(pid));
        if (sha != null && (!exe.equals(proc.executable(pid)) || proc.startTime(pid) != start)) {
            sha = null;
        }
        ProcessSigns signs = ProcessSigns.of(proc, pid, exe);
        return new SocketOwner(pid, start, exe != null ? exe : ProcFs.exeLink(pid), sha, signs.uid(), signs.unit(),
                signs.tampered(), true);
    }

    /**
     * The holders of a socket as the store must judge them: flexwall's own JVM holds a socket of another process for
     * a few microseconds while it marks it (pidfd_getfd), and is left out then; a socket only the JVM holds (its own
     * console) keeps it as owner.
     */
    static List<SocketOwner> withoutSelf(List<SocketOwner> owners) {
        if (owners.size() < 2 || owners.stream().noneMatch(o -> o.pid() == SELF)) {
            return owners;
        }
        return owners.stream().filter(o -> o.pid() != SELF).toList();
    }

    private static boolean contains(List<SocketOwner> list, int pid) {
        for (SocketOwner o : list) {
            if (o.pid() == pid) {
                return true;
            }
        }
        return false;
    }

    static long pack(int pid, int fd) {
        return ((long) pid << 32) | (fd & 0xFFFFFFFFL);
    }

    static int pid(long packed) {
        return (int) (packed >>> 32);
    }

    static int fd(long packed) {
        return (int) packed;
    }

    /** The wanted socket inodes, each with its slot (its rank): an open-addressing table, no boxing per lookup. */
    private static final class InodeSlots {
        private final long[] keys;
        private final int[] slots;
        private final int mask;
        private final int size;

        InodeSlots(long[] distinct) {
            size = distinct.length;
            int capacity = Integer.highestOneBit(Math.max(2, size) * 2 - 1) << 1; // load at most one half
            keys = new long[capacity];
            slots = new int[capacity];
            mask = capacity - 1;
            Arrays.fill(slots, -1);
            for (int i = 0; i < distinct.length; i++) {
                int at = hash(distinct[i]) & mask;
                while (slots[at] >= 0) {
                    at = (at + 1) & mask;
                }
                keys[at] = distinct[i];
                slots[at] = i;
            }
        }

        int size() {
            return size;
        }

        /** The slot of {@code inode}, or -1 when it is not wanted. */
        int slot(long inode) {
            for (int at = hash(inode) & mask; slots[at] >= 0; at = (at + 1) & mask) {
                if (keys[at] == inode) {
                    return slots[at];
                }
            }
            return -1;
        }

        private static int hash(long v) {
            long h = v * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 32));
        }
    }
}
