package org.flexwall.port.monitor.tracefs;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * flexwall's own tracefs instance ({@code instances/NAME}): a private ring buffer with just the socket events the
 * port monitor needs, so other users of ftrace are neither disturbed nor read.
 */
final class TraceInstance implements AutoCloseable {
    static final List<Path> MOUNT_POINTS = List.of(Path.of("/sys/kernel/tracing"), Path.of("/sys/kernel/debug/tracing"));
    private static final String STOP_MARK = "flexwall-trace-stop";

    /** Event (relative to events/), and the filter that keeps only what can change a listening socket. */
    static final List<String[]> EVENTS = List.of(
            // TCP: a socket enters or leaves LISTEN (10); carries the port, fires on close and on process exit too
            new String[] { "sock/inet_sock_set_state", "newstate == 10 || oldstate == 10" },
            // UDP has no state change: a successful bind may have opened a port (the event names no port)
            new String[] { "syscalls/sys_exit_bind", "ret == 0" });

    private final Path dir;
    private volatile boolean open = true;

    private TraceInstance(Path dir) {
        this.dir = dir;
    }

    /** Creates (or takes over a stale) instance and enables the events; throws with a reason when tracefs is missing. */
    static TraceInstance create(Path tracefs, String name) throws IOException {
        Path instances = tracefs.resolve("instances");
        if (!Files.isDirectory(instances)) {
            throw new IOException("no tracefs at " + tracefs + " (mount it with `mount -t tracefs nodev " + tracefs + "`)");
        }
        removeAbandoned(instances, name);
        // One instance per process: several appliances (tests, namespaces) may trace at once.
        Path dir = instances.resolve(name + "-" + ProcessHandle.current().pid());
        if (Files.isDirectory(dir)) {
            Files.delete(dir);
        }
        Files.createDirectory(dir); // tracefs makes a new instance on mkdir
        TraceInstance instance = new TraceInstance(dir);
        try {
            for (String[] event : EVENTS) {
                Path e = dir.resolve("events").resolve(event[0]);
                if (!Files.isDirectory(e)) {
                    throw new IOException("this kernel has no tracepoint " + event[0]);
                }
                Files.writeString(e.resolve("filter"), event[1]);
                Files.writeString(e.resolve("enable"), "1");
            }
        } catch (IOException e) {
            instance.close();
            throw e;
        }
        return instance;
    }

    /** Instances NAME-PID whose process is gone were left by a flexwall that died: remove them. */
    private static void removeAbandoned(Path instances, String name) throws IOException {
        try (var list = Files.list(instances)) {
            for (Path p : list.toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith(name + "-") && n.substring(name.length() + 1).matches("\\d+")) {
                    long pid = Long.parseLong(n.substring(name.length() + 1));
                    if (ProcessHandle.of(pid).isEmpty()) {
                        Files.delete(p);
                    }
                }
            }
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
        try (BufferedReader pipe = new BufferedReader(new InputStreamReader(
                Files.newInputStream(dir.resolve("trace_pipe")), StandardCharsets.US_ASCII))) {
            String line;
            while (open && (line = pipe.readLine()) != null) {
                if (!line.contains(STOP_MARK)) {
                    lines.accept(line);
                }
            }
        }
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
