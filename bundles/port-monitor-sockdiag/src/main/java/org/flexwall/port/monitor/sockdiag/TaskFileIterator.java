package org.flexwall.port.monitor.sockdiag;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * Every socket descriptor of every process in flexwall's PID namespace, from one read of a BPF task_file iterator
 * ({@code src/main/bpf/socket_descriptors.bpf.c}): the kernel walks the descriptor tables itself, instead of one
 * readlinkat per descriptor under /proc/PID/fd, which made a full owner scan cost 3.5 µs per descriptor.
 *
 * <p>It reports what /proc would (the same pids, since it checks that against /proc at {@link #open()}), and more:
 * a thread with a descriptor table of its own is reported by its thread id, where /proc/PID/fd shows the leader's
 * table only. Needs root (CAP_BPF and CAP_PERFMON), libbpf 1.x and a kernel with BTF (5.10 or later).
 *
 * <p>Thread-safe: each pass has its own iterator descriptor, each thread its own buffer.
 */
final class TaskFileIterator implements AutoCloseable {
    private static final String OBJECT = "socket_descriptors.bpf.o";
    private static final int RECORD = 16; // struct descriptor {u32 pid; u32 fd; u64 inode}
    private static final int BUFFER = 64 * 1024;

    /** Receives one socket descriptor: the pid (or thread id) holding it, its number, the socket's inode. */
    interface SocketDescriptor {
        void socket(int pid, int fd, long inode);
    }

    private final Pointer object;
    private final Pointer link;
    private final int linkFd;
    private final ThreadLocal<ByteBuffer> buffers =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(BUFFER).order(ByteOrder.nativeOrder()));

    private TaskFileIterator(Pointer object, Pointer link) {
        this.object = object;
        this.link = link;
        this.linkFd = Libbpf.bpf_link__fd(link);
    }

    /**
     * Loads and attaches the iterator and checks it against /proc on this process's own sockets.
     *
     * @throws IllegalStateException saying why it cannot be used here (the caller reads /proc instead)
     */
    static TaskFileIterator open() {
        byte[] elf = objectBytes();
        try {
            Libbpf.ready();
        } catch (LinkageError e) {
            throw new IllegalStateException("libbpf 1.x cannot be loaded (apt-get install libbpf1): " + e.getMessage());
        }
        Memory image = new Memory(elf.length);
        image.write(0, elf, 0, elf.length);
        Pointer object = Libbpf.bpf_object__open_mem(image, elf.length, null);
        if (object == null) {
            throw new IllegalStateException("libbpf cannot read " + OBJECT + ": " + errno());
        }
        Pointer link = null;
        try {
            int loaded = Libbpf.bpf_object__load(object);
            if (loaded < 0) {
                throw new IllegalStateException("the kernel refused the BPF iterator (" + strerror(-loaded) + "); it "
                        + "needs root, a kernel with BTF (" + (Files.exists(Path.of("/sys/kernel/btf/vmlinux"))
                                ? "present" : "missing: /sys/kernel/btf/vmlinux") + ") and task_file iterators (5.10+)");
            }
            Pointer program = Libbpf.bpf_object__find_program_by_name(object, "socket_descriptors");
            link = program == null ? null : Libbpf.bpf_program__attach_iter(program, null);
            if (link == null) {
                throw new IllegalStateException("the BPF iterator cannot be attached: " + errno());
            }
            TaskFileIterator it = new TaskFileIterator(object, link);
            it.checkAgainstProc();
            return it;
        } catch (RuntimeException e) {
            if (link != null) {
                Libbpf.bpf_link__destroy(link);
            }
            Libbpf.bpf_object__close(object);
            throw e;
        }
    }

    /** One pass over every socket descriptor there is now. */
    void forEach(SocketDescriptor out) {
        int fd = Libbpf.bpf_iter_create(linkFd);
        if (fd < 0) {
            throw new IllegalStateException("a pass of the BPF iterator cannot start: " + strerror(-fd));
        }
        ByteBuffer buffer = buffers.get();
        long address = Libc.address(buffer);
        try {
            int filled = 0; // bytes of a record cut short by the last read, moved to the front
            while (true) {
                long got = Libc.read(fd, address + filled, BUFFER - filled);
                if (got < 0) {
                    if (Native.getLastError() == Libc.EINTR) {
                        continue;
                    }
                    // A pass cut short would hide holders: the caller must not take a partial answer for a whole one.
                    throw new IllegalStateException("reading the BPF iterator failed: " + errno());
                }
                if (got == 0) {
                    return;
                }
                int end = filled + (int) got;
                int at = 0;
                for (; at + RECORD <= end; at += RECORD) {
                    out.socket(buffer.getInt(at), buffer.getInt(at + 4), buffer.getLong(at + 8));
                }
                filled = end - at;
                for (int i = 0; i < filled; i++) {
                    buffer.put(i, buffer.get(at + i));
                }
            }
        } finally {
            Libc.close(fd);
        }
    }

    /**
     * This process's sockets as the iterator reports them must be those /proc/PID/fd shows: proves the record layout
     * and that the iterator numbers pids as this /proc does (a /proc of another PID namespace would not). Other
     * threads open and close sockets meanwhile, so a few tries.
     */
    private void checkAgainstProc() {
        int me = (int) ProcessHandle.current().pid();
        ProcFs proc = new ProcFs();
        try (DatagramChannel probe = DatagramChannel.open()) { // at least one socket to compare
            for (int attempt = 0; attempt < 5; attempt++) {
                Set<String> viaProc = new HashSet<>();
                proc.forEachSocket(me, (fd, inode) -> viaProc.add(fd + ":" + inode));
                Set<String> viaIterator = new HashSet<>();
                forEach((pid, fd, inode) -> {
                    if (pid == me) {
                        viaIterator.add(fd + ":" + inode);
                    }
                });
                if (!viaProc.isEmpty() && viaProc.equals(viaIterator)) {
                    return;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("the BPF iterator does not report this process's sockets as /proc/" + me
                + "/fd does (is /proc mounted for another PID namespace?)");
    }

    @Override
    public void close() {
        Libbpf.bpf_link__destroy(link);
        Libbpf.bpf_object__close(object);
    }

    private static byte[] objectBytes() {
        try (InputStream in = TaskFileIterator.class.getResourceAsStream(OBJECT)) {
            if (in == null) {
                throw new IllegalStateException(OBJECT + " is missing from the bundle (built without clang?)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String errno() {
        return strerror(Native.getLastError());
    }

    private static String strerror(int errno) {
        return switch (errno) {
            case 1 -> "EPERM: not root, or no CAP_BPF and CAP_PERFMON";
            case 2 -> "ENOENT";
            case 13 -> "EACCES: the verifier rejected the program";
            case 22 -> "EINVAL";
            case 95 -> "EOPNOTSUPP";
            default -> "errno " + errno;
        };
    }
}
