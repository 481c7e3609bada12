package org.flexwall.port.monitor.tracefs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * flexwall's own tracefs instance ({@code instances/NAME}): a private ring buffer with just the socket events the
 * port monitor needs, so other users of ftrace are neither disturbed nor read.
 */
final class TraceInstance implements AutoCloseable {
    static final List<Path> MOUNT_POINTS = List.of(Path.of("/sys/kernel/tracing"), Path.of("/sys/kernel/debug/tracing"));
    private static final String STOP_MARK = "flexwall-trace-stop";
    private static final int READ_SIZE = 64 * 1024;
    /** Third element of an event that a kernel may lack without the others becoming useless. */
    static final String OPTIONAL = "optional";
    /** The kernel's fixed inode number of the initial PID namespace (PROC_PID_INIT_INO). */
    static final long INITIAL_PID_NAMESPACE = 0xEFFFFFFCL;

    /** Event (relative to events/), and the filter that keeps only what can change a listening socket. */
    static final List<String[]> EVENTS = List.of(
            // TCP: a socket enters or leaves LISTEN (10); carries the port, fires on close and on process exit too
            new String[] { "sock/inet_sock_set_state", "newstate == 10 || oldstate == 10" },
            // UDP has no state change: a successful bind may have opened a port (the event names no port)
            new String[] { "syscalls/sys_exit_bind", "ret == 0" },
            // a process takes a duplicate of another's descriptor (Linux 5.6+; optional): it may hold a socket now
            new String[] { "syscalls/sys_enter_pidfd_getfd", "pidfd >= 0", OPTIONAL },
            new String[] { "syscalls/sys_exit_pidfd_getfd", "ret >= 0", OPTIONAL });

    private final Path dir;
    private volatile boolean open = true;
    /** Optional events this kernel lacks. */
    final List<String> missing = new java.util.ArrayList<>();

    private TraceInstance(Path dir) {
        this.dir = dir;
    }

    /** Creates (or takes over a stale) instance and enables the events; throws with a reason when tracefs is missing. */
    static TraceInstance create(Path tracefs, String name) throws IOException {
        Path instances = tracefs.resolve("instances");
        if (!Files.isDirectory(instances)) {
            throw new IOException("no tracefs at " + tracefs + " (mount it with `mount -t tracefs nodev " + tracefs + "`)");
        }
        long namespace = pidNamespace();
        removeAbandoned(instances, name, namespace);
        // One instance per process: several appliances (tests, network or PID namespaces) may trace at once. A pid
        // means something only in its PID namespace, so the name carries both.
        Path dir = instances.resolve(name + "-" + namespace + "-" + ProcessHandle.current().pid());
        if (Files.isDirectory(dir)) {
            Files.delete(dir); // left by an earlier process with our pid
        }
        Files.createDirectory(dir); // tracefs makes a new instance on mkdir
        TraceInstance instance = new TraceInstance(dir);
        try {
            for (String[] event : EVENTS) {
                Path e = dir.resolve("events").resolve(event[0]);
                if (!Files.isDirectory(e) && event.length > 2) {
                    instance.missing.add(event[0]);
                    continue;
                }
                if (!Files.isDirectory(e)) {
                    throw new IOException("this kernel has no tracepoint " + event[0]);
                }
                Files.writeString(e.resolve("filter"), event[1]);
                Files.writeString(e.resolve("enable"), "1");
            }
        } catch (IOException e) {
            try {
                instance.close();
                instance.remove();
            } catch (IOException x) {
                e.addSuppressed(x);
            }
            throw e;
        }
        return instance;
    }

    /**
     * Instances NAME-NAMESPACE-PID of our PID namespace whose process is gone were left by a flexwall that died: remove
     * them. Those of other PID namespaces are left alone: their pid cannot be checked from here. NAME-PID is the
     * older form, of the initial PID namespace.
     */
    private static void removeAbandoned(Path instances, String name, long namespace) throws IOException {
        Pattern ours = Pattern.compile(Pattern.quote(name) + "-(?:(\\d+)-)?(\\d+)");
        try (var list = Files.list(instances)) {
            for (Path p : list.toList()) {
                Matcher m = ours.matcher(p.getFileName().toString());
                if (!m.matches()) {
                    continue;
                }
                long ns = m.group(1) == null ? INITIAL_PID_NAMESPACE : Long.parseLong(m.group(1));
                if (ns == namespace && ProcessHandle.of(Long.parseLong(m.group(2))).isEmpty()) {
                    try {
                        Files.delete(p);
                    } catch (IOException e) {
                        // busy: a reader still has it open, so it is not abandoned after all
                    }
                }
            }
        }
    }

    /** The inode of this process's PID namespace, 0 when unknown (then no other instance looks like ours). */
    static long pidNamespace() {
        try {
            String link = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString(); // pid:[4026531836]
            return Long.parseLong(link.substring(link.indexOf('[') + 1, link.indexOf(']')));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** The first mounted tracefs, mounting it at the usual place when none is. */
    static Path locate() throws IOException {
        for (Path p : MOUNT_POINTS) {
            if (Files.isDirectory(p.resolve("instances"))) {
                return p;
            }
        }
        Path usual = MOUNT_POINTS.get(0);
        try {
            Process mount = new ProcessBuilder("mount", "-t", "tracefs", "nodev", usual.toString())
                    .redirectErrorStream(true).start();
            String out = new String(mount.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (mount.waitFor() != 0) {
                throw new IOException("tracefs is not mounted and mounting it failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while mounting tracefs", e);
        }
        return usual;
    }

    /** Reads events until {@link #close()}; blocks. Each line goes to {@code lines}. */
    void read(Consumer<String> lines) throws IOException {
        read(lines, () -> {});
    }

    /**
     * As {@link #read(Consumer)}, running {@code caughtUp} once the lines of each read are passed: trace_pipe gives a
     * reader what the kernel has, so a read that ends on a whole line has caught up with it (for a moment).
     *
     * <p>Bytes, not a {@link java.io.Reader}: a reader asks {@code available()} whether to read on, which on a
     * pipe-like tracefs file throws and catches an exception (ESPIPE) inside the JDK, twice per wake-up: 6 % of the
     * reader's time in a profile of port changes.
     */
    void read(Consumer<String> lines, Runnable caughtUp) throws IOException {
        try (InputStream pipe = Files.newInputStream(dir.resolve("trace_pipe"))) {
            readLines(pipe, () -> open, line -> {
                if (!line.contains(STOP_MARK)) {
                    lines.accept(line);
                }
            }, caughtUp);
        }
    }

    /** The lines of {@code in} while {@code open}, running {@code caughtUp} after every read that ended on a line's end. */
    static void readLines(InputStream in, BooleanSupplier open, Consumer<String> lines, Runnable caughtUp)
            throws IOException {
        byte[] buffer = new byte[READ_SIZE];
        int kept = 0; // the start of a line the last read cut off, at the buffer's start
        int got;
        while (open.getAsBoolean() && (got = in.read(buffer, kept, buffer.length - kept)) >= 0) {
            int end = kept + got;
            int start = 0;
            for (int nl; (nl = indexOf(buffer, (byte) '\n', start, end)) >= 0; start = nl + 1) {
                lines.accept(new String(buffer, start, nl - start, StandardCharsets.US_ASCII));
            }
            kept = end - start;
            if (kept == buffer.length) {
                kept = 0; // a line longer than the buffer: no tracepoint of ours writes one, so drop it
            }
            System.arraycopy(buffer, start, buffer, 0, kept);
            if (kept == 0) {
                caughtUp.run();
            }
        }
    }

    private static int indexOf(byte[] bytes, byte b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    Path directory() {
        return dir;
    }

    /** Disables the events, wakes the reader through the instance's trace_marker and removes the instance. */
    @Override
    public void close() throws IOException {
        open = false;
        for (String[] event : EVENTS) {
            Path enable = dir.resolve("events").resolve(event[0]).resolve("enable");
            if (Files.exists(enable)) {
                Files.writeString(enable, "0");
            }
        }
        Files.writeString(dir.resolve("trace_marker"), STOP_MARK);
    }

    /** Removes the instance once the reader has let go of trace_pipe. */
    void remove() throws IOException {
        Files.deleteIfExists(dir);
    }
}
