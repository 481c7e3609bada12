import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonValue;

/**
 * Port event latency of a running appliance, measured without disturbing it: no polling of the appliance while a
 * cycle is measured.
 * <ul>
 * <li>listen() → port-store entry: the entry's own "since" (the store's clock, CLOCK_REALTIME, taken when it permits
 * the port) minus CLOCK_REALTIME right after listen() returned in the C program. Read with one control-socket request
 * per cycle, after the port is in the kernel, so the request never competes with what it measures.</li>
 * <li>listen() → kernel set element, close() → element deleted: the port store's listener (the nftables hook) puts
 * the port into {@code table inet flexwall}; {@code nft monitor} (netlink notifications, blocking) shows when, on
 * CLOCK_MONOTONIC, against CLOCK_MONOTONIC after listen()/close() in the C program. This is the store's decision plus
 * the hook's nft transaction: an upper bound of the store's own close latency.</li>
 * <li>port-store entry → kernel set element: the two above per cycle, subtracted (listen()'s two clocks are read
 * back to back): the nftables hook's share, from the store's decision to the element in the kernel.</li>
 * <li>The goal's own measure, both ends in the kernel, one trace clock (CLOCK_MONOTONIC, tracefs "mono"), nobody's
 * wake-up in between: from the socket entering TCP_LISTEN inside listen() (tracepoint sock:inet_sock_set_state) to
 * the commit of the transaction that adds the element, and from the socket leaving TCP_LISTEN inside close() to the
 * commit that deletes it. The commit is where nf_tables sends its notification: the kernel wakes {@code nft monitor}
 * from the committing thread (tracepoint sched:sched_waking of nft's pid), right after the new generation is live.
 * Read from a tracefs instance of the benchmark's own, so the appliance's instance is untouched.</li>
 * </ul>
 * Usage: java EventLatency.java measure CONTROL_SOCKET NAMESPACE PORT CYCLES SAMPLES_FILE COMMAND...
 *        java EventLatency.java report LABEL SAMPLES_FILE...
 */
public class EventLatency {
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(60);

    public static void main(String[] args) throws Exception {
        if (args[0].equals("report")) {
            report(args[1], Arrays.copyOfRange(args, 2, args.length));
        } else {
            measure(UnixDomainSocketAddress.of(args[1]), args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                    Path.of(args[5]), Arrays.copyOfRange(args, 6, args.length));
        }
    }

    record Kernel(boolean added, long at) {}

    /** A kernel event on the trace clock: the port's socket entered (listen) or left (close) TCP_LISTEN, or a commit. */
    record Traced(String what, long at) {}

    private static void measure(UnixDomainSocketAddress control, String namespace, int port, int cycles, Path samples,
            String[] command) throws Exception {
        BlockingQueue<Kernel> kernel = new LinkedBlockingQueue<>();
        Process monitor = new ProcessBuilder("ip", "netns", "exec", namespace, "nft", "monitor", "elements")
                .redirectErrorStream(true).start();
        Thread watcher = new Thread(() -> watch(monitor, port, kernel), "nft-monitor");
        watcher.setDaemon(true);
        watcher.start();
        Thread.sleep(300); // nft has subscribed to the netlink group
        long reader = readerThread(); // the appliance's tracefs reader, which carries the change; -1: not found
        Path trace = traceInstance(port, monitor.pid(), reader); // ip netns exec execs nft: the same pid
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII));
        OutputStream in = p.getOutputStream();
        StringBuilder lines = new StringBuilder();
        List<long[]> recorded = new ArrayList<>();
        int warmUp = Integer.parseInt(System.getenv().getOrDefault("WARMUP", "0"));
        try {
            for (int i = -warmUp; i < cycles; i++) { // cycles before 0 are run, not recorded
                long[] listened = stamps(out.readLine(), "listening");
                long kernelOpen = await(kernel, true, port) - listened[0];
                long storeOpen = since(control, port) - listened[1];
                awaitAsleep(monitor.pid()); // so the commit wakes it: the traced end of the next change
                in.write('\n');
                in.flush();
                long[] closed = stamps(out.readLine(), "closed");
                long kernelClose = await(kernel, false, port) - closed[0];
                recorded.add(new long[] { storeOpen, kernelOpen, kernelClose, listened[0] });
                awaitAsleep(monitor.pid());
                in.write('\n');
                in.flush();
            }
            p.waitFor();
            // the trace is read once the cycles are over: a reader woken by each listen() would compete for a CPU
            // with the appliance's own reader at the very moment being measured
            Deque<Traced> traced = readTrace(trace);
            for (int i = 0; i < recorded.size(); i++) {
                long[] r = recorded.get(i);
                long[] tracedOpen = traced(traced, "listen", reader);
                long tracedClose = traced(traced, "close", reader)[0];
                if (i >= warmUp) {
                    lines.append(r[0]).append(' ').append(r[1]).append(' ').append(r[2]).append(' ').append(r[3])
                            .append(' ').append(tracedOpen[0]).append(' ').append(tracedClose).append(' ')
                            .append(tracedOpen[1]).append('\n');
                }
            }
        } finally {
            p.destroyForcibly();
            monitor.destroyForcibly();
            removeTraceInstance(trace);
        }
        Files.writeString(samples, lines, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /**
     * Waits (outside what is measured) until nft monitor sleeps again, in its receive: the next commit's notification
     * then wakes it, which is what the trace takes as the commit's time. Gives up after 2 s (that cycle then counts as
     * one without a traced commit).
     */
    private static void awaitAsleep(long pid) throws IOException, InterruptedException {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        for (int i = 0; i < 2000; i++) {
            String s = Files.readString(stat);
            if (s.charAt(s.lastIndexOf(')') + 2) == 'S') {
                return;
            }
            Thread.sleep(1);
        }
    }

    /** Reads nft monitor's lines; queues each add or delete of the benchmark port's IPv4 element with its time. */
    private static void watch(Process monitor, int port, BlockingQueue<Kernel> to) {
        Pattern element = Pattern.compile("^(add|delete) element inet flexwall permitted4 \\{ tcp \\. (\\d+)( counter .*)? }");
        // the counter is there since the sets count per element (the Firewall page's per-port traffic)
        try (BufferedReader r = new BufferedReader(new InputStreamReader(monitor.getInputStream(), StandardCharsets.US_ASCII))) {
            for (String line; (line = r.readLine()) != null;) {
                long at = System.nanoTime(); // CLOCK_MONOTONIC, as the C program's stamps
                Matcher m = element.matcher(line);
                if (m.find() && Integer.parseInt(m.group(2)) == port) {
                    to.add(new Kernel(m.group(1).equals("add"), at));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The thread of the appliance (pid in APPLIANCE_PID) that reads its kernel tracepoints and carries a port change
     * to the kernel ("flexwall-tracefs", 15 characters of it as the kernel keeps names), or -1.
     */
    private static long readerThread() throws IOException {
        String pid = System.getenv("APPLIANCE_PID");
        if (pid == null) {
            return -1;
        }
        try (var tasks = Files.list(Path.of("/proc", pid, "task"))) {
            for (Path t : tasks.toList()) {
                if (Files.readString(t.resolve("comm")).strip().equals("flexwall-tracef")) {
                    return Long.parseLong(t.getFileName().toString());
                }
            }
        }
        return -1;
    }

    /**
     * A tracefs instance of its own on CLOCK_MONOTONIC: the benchmark port's socket entering or leaving TCP_LISTEN,
     * the kernel waking nft monitor ({@code nft}), which only a commit's notification does, and the appliance's reader
     * thread put on a CPU (when {@code reader} is not -1): what the kernel and the hypervisor take before flexwall runs
     * at all.
     */
    private static Path traceInstance(int port, long nft, long reader) throws IOException {
        Path dir = Path.of("/sys/kernel/tracing/instances", "fwb-latency-" + ProcessHandle.current().pid());
        Files.createDirectory(dir);
        Files.writeString(dir.resolve("trace_clock"), "mono");
        Files.writeString(dir.resolve("buffer_size_kb"), "4096"); // a round's events, read after it (per CPU)
        Path state = dir.resolve("events/sock/inet_sock_set_state");
        Files.writeString(state.resolve("filter"), "sport == " + port + " && (newstate == 10 || oldstate == 10)");
        Path waking = dir.resolve("events/sched/sched_waking");
        Files.writeString(waking.resolve("filter"), "pid == " + nft);
        Path switched = dir.resolve("events/sched/sched_switch");
        Files.writeString(switched.resolve("filter"), "next_pid == " + reader);
        Files.writeString(state.resolve("enable"), "1");
        Files.writeString(waking.resolve("enable"), "1");
        if (reader >= 0) {
            Files.writeString(switched.resolve("enable"), "1");
        }
        return dir;
    }

    private static void removeTraceInstance(Path dir) throws IOException {
        for (String e : List.of("events/sock/inet_sock_set_state", "events/sched/sched_waking",
                "events/sched/sched_switch")) {
            Files.writeString(dir.resolve(e).resolve("enable"), "0");
        }
        try {
            Files.delete(dir);
        } catch (IOException e) {
            System.err.println("could not remove " + dir + " (" + e + "): rmdir it");
        }
    }

    /**
     * The instance's buffer, in time order: "  listen_cycles-123  [001] d..1.  4711.123456: inet_sock_set_state: ...
     * newstate=TCP_LISTEN". Says so when the buffer lost events (it holds a round's easily).
     */
    private static Deque<Traced> readTrace(Path dir) throws IOException {
        Deque<Traced> to = new ArrayDeque<>();
        Pattern at = Pattern.compile(" (\\d+)\\.(\\d{6}): (\\w+):");
        try (BufferedReader r = Files.newBufferedReader(dir.resolve("trace"), StandardCharsets.US_ASCII)) {
            for (String line; (line = r.readLine()) != null;) {
                if (line.startsWith("#")) {
                    if (line.contains("entries-in-buffer") && !line.matches(".*entries-in-buffer/entries-written: (\\d+)/\\1 .*")) {
                        System.err.println("the trace buffer lost events: " + line);
                    }
                    continue;
                }
                Matcher m = at.matcher(line);
                if (!m.find()) {
                    continue;
                }
                long ns = Long.parseLong(m.group(1)) * 1_000_000_000L + Long.parseLong(m.group(2)) * 1000;
                String what = m.group(3).equals("sched_switch") ? "reader on a CPU"
                        : m.group(3).equals("sched_waking") ? "commit"
                        : line.contains("newstate=TCP_LISTEN") ? "listen" : "close";
                to.add(new Traced(what, ns));
            }
        }
        return to;
    }

    /**
     * The next {@code what} (listen or close) and what followed it before the next socket change, in ns after it: the
     * first commit (the kernel's own latency) and the reader thread put on a CPU. Commits before it (the previous
     * change's, a wake-up nft had already had) are skipped. -1 for what did not come: no commit when nft was awake
     * already at the commit, so the kernel had nobody to wake (counted as missing); no reader event when it was on a
     * CPU already or not traced.
     */
    private static long[] traced(Deque<Traced> traced, String what, long reader) {
        Traced start;
        do {
            start = traced.pollFirst();
            if (start == null) {
                throw new IllegalStateException("no " + what + " in the trace for a cycle the benchmark ran");
            }
        } while (!start.what().equals(what));
        long[] after = { -1, -1 };
        List<String> kinds = List.of("commit", "reader on a CPU");
        for (Traced t; (t = traced.peekFirst()) != null && kinds.contains(t.what()); traced.pollFirst()) {
            int k = kinds.indexOf(t.what());
            if (after[0] < 0 && after[k] < 0) { // what came after the commit belongs to no one
                after[k] = t.at() - start.at();
            }
        }
        return after;
    }

    private static long await(BlockingQueue<Kernel> kernel, boolean added, int port) throws InterruptedException {
        Kernel k = kernel.poll(TIMEOUT_NS, TimeUnit.NANOSECONDS);
        if (k == null || k.added() != added) {
            throw new IllegalStateException("expected the kernel to " + (added ? "add" : "delete") + " tcp port "
                    + port + " within 60 s; nft monitor said " + k);
        }
        return k.at();
    }

    /** "WORD MONOTONIC REALTIME" from the C program. */
    private static long[] stamps(String line, String word) {
        String[] f = line == null ? new String[0] : line.split(" ");
        if (f.length != 3 || !f[0].equals(word)) {
            throw new IllegalStateException("listen_cycles said: " + line);
        }
        return new long[] { Long.parseLong(f[1]), Long.parseLong(f[2]) };
    }

    /** The port-store entry's "since" for the benchmark's IPv4 TCP port, in nanoseconds since the epoch. */
    private static long since(UnixDomainSocketAddress control, int port) throws IOException {
        String answer = ports(control);
        try (JsonReader r = Json.createReader(new StringReader(answer))) {
            for (JsonValue v : r.readObject().getJsonArray("permitted")) {
                JsonObject e = v.asJsonObject();
                if (e.getString("protocol").equals("tcp") && e.getString("family").equals("ipv4")
                        && e.getInt("port") == port) {
                    Instant since = Instant.parse(e.getString("since"));
                    return since.getEpochSecond() * 1_000_000_000L + since.getNano();
                }
            }
        }
        throw new IllegalStateException("the port is in the kernel but not in the port store: " + answer);
    }

    /** One "ports" request over the control socket; the answer as text. */
    private static String ports(UnixDomainSocketAddress address) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(address);
            ch.write(StandardCharsets.UTF_8.encode("{\"op\":\"ports\"}\n"));
            ByteBuffer buf = ByteBuffer.allocate(1 << 16);
            while (ch.read(buf) >= 0 && buf.hasRemaining()) {
                // read to the end of the answer
            }
            buf.flip();
            return StandardCharsets.UTF_8.decode(buf).toString();
        }
    }

    private static void report(String label, String[] files) throws IOException {
        List<long[]> rows = new ArrayList<>();
        for (String f : files) {
            for (String line : Files.readAllLines(Path.of(f))) {
                rows.add(Arrays.stream(line.trim().split(" ")).mapToLong(Long::parseLong).toArray());
            }
        }
        String[] what = { "listen() -> port-store entry", "listen() -> kernel element ", "close()  -> kernel deleted ",
            "port-store entry -> kernel element (the hook's part: column 2 minus column 1)",
            "KERNEL CLOCKS: socket in TCP_LISTEN -> commit adding the element",
            "KERNEL CLOCKS: socket out of TCP_LISTEN -> commit deleting it",
            "KERNEL CLOCKS: socket in TCP_LISTEN -> the appliance's tracefs reader on a CPU",
            "KERNEL CLOCKS: that reader on a CPU -> commit (flexwall's own part: column 5 minus column 7)" };
        int[] column = { 0, 1, 2, -1, 4, 5, 6, -2 };
        System.out.printf("%s: %d cycles%n", label, rows.size());
        for (int c = 0; c < what.length; c++) {
            final int col = column[c];
            if (Math.max(col, col == -2 ? 6 : 0) >= rows.get(0).length) {
                continue; // samples of an older run, without the kernel's clocks
            }
            long[] s = rows.stream()
                    .filter(r -> col == -1 || (col == -2 ? r[4] >= 0 && r[6] >= 0 : col < 4 || r[col] >= 0))
                    .mapToLong(r -> col >= 0 ? r[col] : col == -1 ? r[1] - r[0] : r[4] - r[6]).sorted().toArray();
            if (s.length == 0) {
                continue;
            }
            if (s.length < rows.size()) {
                System.out.printf("  (%d cycles without this traced: nft monitor or the reader was awake; left out)%n",
                        rows.size() - s.length);
            }
            System.out.printf("  %s  p50 %8.3f ms  p99 %8.3f ms  max %8.3f ms%n", what[c], pct(s, 0.50) / 1e6,
                    pct(s, 0.99) / 1e6, s[s.length - 1] / 1e6);
        }
    }

    /** Nearest-rank percentile. */
    private static long pct(long[] sorted, double p) {
        return sorted[(int) Math.max(0, Math.ceil(sorted.length * p) - 1)];
    }
}
