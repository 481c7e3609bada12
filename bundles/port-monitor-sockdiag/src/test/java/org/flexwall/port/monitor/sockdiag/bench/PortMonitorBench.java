package org.flexwall.port.monitor.sockdiag.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PortEvent;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.port.SocketOwner;
import org.flexwall.port.monitor.sockdiag.ImageHasher;
import org.flexwall.port.monitor.sockdiag.OwnerResolver;
import org.flexwall.port.monitor.sockdiag.SockDiagPortMonitor;
import org.flexwall.port.monitor.sockdiag.SocketScanner;
import org.flexwall.port.monitor.sockdiag.TestMonitors;
import org.flexwall.testing.Await;

/**
 * Port monitor benchmarks, each next to a baseline measured in the same run:
 * <ol>
 * <li>{@code scan}: one full scan with owners (sock_diag dump + /proc owner resolution + SHA-256 cache) at 10,
 * 1 000 and 10 000 TCP listeners plus as many UDP sockets held by one python3 child, against {@code ss -ltnup}
 * (and {@code ss -ltnu}, no owners) on the same sockets;</li>
 * <li>{@code owner}: ownerOf() median and p99, with the index (steady state) and without it (a socket the last
 * poll has not seen: full /proc scan), against {@code ss -Htlnp sport = :PORT};</li>
 * <li>{@code latency}: listen() to OPEN event and close() to CLOSE event over N cycles, for several poll intervals
 * and with a PortActivityListener hint right after listen() (what the tracefs bundle sends).</li>
 * </ol>
 *
 * <pre>cd bundles/port-monitor-sockdiag &amp;&amp; mvn -q test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt \
 *   &amp;&amp; java -cp target/classes:target/test-classes:$(cat target/cp.txt) \
 *      org.flexwall.port.monitor.sockdiag.bench.PortMonitorBench [scan|owner|latency|all] [latency cycles, 1000]</pre>
 * Owners are read through the BPF task_file iterator; {@code -Downers=proc} reads /proc/PID/fd instead.
 * Must run as root (the child raises its descriptor limit; /proc of every process must be readable).
 */
public final class PortMonitorBench {

    public static void main(String[] args) throws Exception {
        String what = args.length > 0 ? args[0] : "all";
        int cycles = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        machine();
        if (what.equals("scan") || what.equals("all")) {
            System.out.println("\n(a) full scan with owners vs ss, N TCP listeners + N UDP sockets (one child each), "
                    + "medians of 11 interleaved runs (ms)");
            System.out.println("     N | sock_diag | owners | scan total | ss -ltnu | ss -ltnup | ss -ltnup / ours "
                    + "| steady poll | ss -ltnup / steady poll");
            for (int n : new int[] { 10, 1_000, 10_000 }) {
                try (Child tcp = Child.start(n, "tcp"); Child udp = Child.start(n, "udp")) {
                    scan(n, tcp, udp);
                }
            }
        }
        if (what.equals("owner") || what.equals("all")) {
            try (Child c = Child.start(1_000, "tcp"); Child u = Child.start(1_000, "udp")) {
                ownerOf(c);
            }
        }
        if (what.equals("latency") || what.equals("all")) {
            System.out.println("\n(c) listen() -> OPEN and close() -> CLOSE, " + cycles + " cycles each (ms)");
            System.out.println("  mode                   | OPEN p50 | OPEN p99 | CLOSE p50 | CLOSE p99 | idle poll cost");
            latency(200, false, cycles);
            latency(50, false, cycles);
            latency(10, false, cycles);
            latency(2, false, cycles);
            latency(3_600_000, true, cycles);
        }
    }

    // --- (a) ------------------------------------------------------------------------------------------------------

    private static void scan(int n, Child tcp, Child udp) throws Exception {
        int runs = 11;
        long[] diag = new long[runs];
        long[] owners = new long[runs];
        long[] total = new long[runs];
        long[] ss = new long[runs];
        long[] ssNoOwners = new long[runs];
        long steady = steadyPoll(2 * n);
        try (SocketScanner scanner = new SocketScanner()) {
            OwnerResolver resolver = TestMonitors.benchResolver(null);
            for (int i = 0; i < 3; i++) { // warm-up: JIT, and the image hash cache as in steady state
                scanWithOwners(scanner, resolver, tcp, udp, n, null);
            }
            for (int i = 0; i < runs; i++) {
                long[] parts = new long[2];
                long t0 = System.nanoTime();
                scanWithOwners(scanner, resolver, tcp, udp, n, parts);
                total[i] = System.nanoTime() - t0;
                diag[i] = parts[0];
                owners[i] = parts[1];
                ss[i] = command(2 * n, "ss", "-ltnup");
                ssNoOwners[i] = command(2 * n, "ss", "-ltnu");
            }
        }
        System.out.printf("%6d | %9.2f | %6.2f | %10.2f | %8.2f | %9.2f | %.1fx | %11.2f | %.1fx%n", n,
                ms(median(diag)), ms(median(owners)), ms(median(total)), ms(median(ssNoOwners)), ms(median(ss)),
                (double) median(ss) / median(total), ms(steady), (double) median(ss) / steady);
    }

    /**
     * Median cost of the monitor's poll once it knows every socket and no process came or went: the sock_diag dump
     * and the /proc pid list, owners carried over (they are looked up again when something changes, or each second).
     */
    private static long steadyPoll(int sockets) throws Exception {
        SockDiagPortMonitor monitor = TestMonitors.started(3_600_000, 3_600_000);
        try {
            LinkedBlockingQueue<PortEvent> opened = new LinkedBlockingQueue<>();
            TestMonitors.addListener(monitor, opened::add);
            // the first poll opens everything
            Await.until("an OPEN for each of " + sockets + " sockets", Duration.ofSeconds(60),
                    () -> opened.size() >= sockets);
            return idlePollCost(monitor);
        } finally {
            TestMonitors.stop(monitor);
        }
    }

    private static void scanWithOwners(SocketScanner scanner, OwnerResolver resolver, Child tcp, Child udp, int n,
            long[] parts)
            throws IOException {
        long t0 = System.nanoTime();
        List<ListeningSocket> sockets = scanner.scan();
        long t1 = System.nanoTime();
        Map<Long, List<SocketOwner>> owners = resolver.resolveAll(sockets.stream().map(ListeningSocket::inode).toList(),
                true);
        long t2 = System.nanoTime();
        long mine = owners.values().stream().filter(o -> o.size() == 1 && o.get(0).sha256() != null
                && (o.get(0).pid() == tcp.pid() || o.get(0).pid() == udp.pid())).count();
        if (mine < 2L * n) {
            throw new IllegalStateException("scan found " + mine + " sockets of the child, expected " + 2 * n);
        }
        if (parts != null) {
            parts[0] = t1 - t0;
            parts[1] = t2 - t1;
        }
    }

    /** Wall time of a command, checked to have listed at least {@code lines} lines. */
    private static long command(int lines, String... cmd) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        long count = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().count();
        p.waitFor();
        long t = System.nanoTime() - t0;
        if (count < lines) {
            throw new IllegalStateException(String.join(" ", cmd) + " listed " + count + " lines, expected " + lines);
        }
        return t;
    }

    // --- (b) ------------------------------------------------------------------------------------------------------

    private static void ownerOf(Child child) throws Exception {
        int port = child.firstTcpPort;
        SockDiagPortMonitor monitor = TestMonitors.started(3_600_000, 1000);
        try {
            LinkedBlockingQueue<PortEvent> first = new LinkedBlockingQueue<>();
            TestMonitors.addListener(monitor, first::add);
            if (first.poll(60, TimeUnit.SECONDS) == null) {
                throw new IllegalStateException("the monitor's first poll did not finish");
            }
            Thread.sleep(500); // until every start-up OPEN is delivered: the first poll has built the index
            int calls = 20_000;
            long[] hit = new long[calls];
            for (int i = -2_000; i < calls; i++) {
                long t0 = System.nanoTime();
                ListeningSocket s = monitor.ownerOf(Protocol.TCP, AddressFamily.IPV4, port).orElseThrow();
                long t = System.nanoTime() - t0;
                if (s.owners().get(0).pid() != child.pid()) {
                    throw new IllegalStateException("ownerOf answered " + s);
                }
                if (i >= 0) {
                    hit[i] = t;
                }
            }
            // Without the index: a socket the last poll has not seen costs a full /proc scan for its owners.
            ImageHasher warm = new ImageHasher();
            warm.sha256(child.pid());
            int missCalls = 300;
            long[] miss = new long[missCalls];
            OwnerResolver resolver = TestMonitors.benchResolver(warm);
            try (SocketScanner scanner = new SocketScanner()) {
                for (int i = -30; i < missCalls; i++) {
                    TestMonitors.forgetIndex(resolver);
                    long t0 = System.nanoTime();
                    ListeningSocket s = scanner.scanPort(Protocol.TCP, port, true, true).get(0);
                    List<SocketOwner> o = resolver.resolve(s.inode());
                    long t = System.nanoTime() - t0;
                    if (o.get(0).pid() != child.pid()) {
                        throw new IllegalStateException("resolve answered " + o);
                    }
                    if (i >= 0) {
                        miss[i] = t;
                    }
                }
            }
            long[] ss = new long[30];
            for (int i = 0; i < ss.length; i++) {
                ss[i] = command(1, "ss", "-Htlnp", "sport = :" + port);
            }
            System.out.println("\n(b) ownerOf(TCP, IPV4, port) with 1 000 TCP + 1 000 UDP sockets held by two children "
                    + "and " + processes() + " processes (µs)");
            System.out.println("  path                                   | median | p99");
            System.out.printf("  ownerOf, socket in the index (verified) | %6.1f | %6.1f   (%d calls)%n",
                    us(median(hit)), us(p99(hit)), calls);
            System.out.printf("  ownerOf, socket not yet indexed         | %6.1f | %6.1f   (%d calls; full /proc scan)%n",
                    us(median(miss)), us(p99(miss)), missCalls);
            System.out.printf("  baseline: ss -Htlnp 'sport = :PORT'     | %6.1f | %6.1f   (%d runs, process start included)%n",
                    us(median(ss)), us(p99(ss)), ss.length);
        } finally {
            TestMonitors.stop(monitor);
        }
    }

    // --- (c) ------------------------------------------------------------------------------------------------------

    private static void latency(long intervalMs, boolean hint, int cycles) throws Exception {
        SockDiagPortMonitor monitor = TestMonitors.started(intervalMs, 1000);
        LinkedBlockingQueue<long[]> seen = new LinkedBlockingQueue<>(); // {kind, port, nanoTime}
        TestMonitors.addListener(monitor, e -> seen.add(new long[] { e.kind().ordinal(), e.socket().port(),
                System.nanoTime() }));
        try {
            Thread.sleep(Math.min(intervalMs, 1000) + 300); // start-up OPENs
            long idle = hint ? idlePollCost(monitor) : -1;
            seen.clear();
            long[] open = new long[cycles];
            long[] close = new long[cycles];
            for (int i = 0; i < cycles; i++) {
                if (!hint) {
                    Thread.sleep(ThreadLocalRandom.current().nextLong(intervalMs + 1)); // random phase
                }
                ServerSocketChannel ch = ServerSocketChannel.open();
                long t0 = System.nanoTime();
                ch.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)); // bind + listen
                int port = ch.socket().getLocalPort();
                if (hint) {
                    monitor.portActivity(Protocol.TCP, port);
                }
                open[i] = await(seen, PortEvent.Kind.OPEN, port) - t0;
                if (!hint) {
                    Thread.sleep(ThreadLocalRandom.current().nextLong(intervalMs + 1)); // else close() follows a poll
                }
                long t1 = System.nanoTime();
                ch.close();
                if (hint) {
                    monitor.portActivity(Protocol.TCP, port);
                }
                close[i] = await(seen, PortEvent.Kind.CLOSE, port) - t1;
            }
            String mode = hint ? "hint after listen/close" : "poll every " + intervalMs + " ms";
            System.out.printf("  %-22s | %8.2f | %8.2f | %9.2f | %9.2f | %s%n", mode, ms(median(open)), ms(p99(open)),
                    ms(median(close)), ms(p99(close)), idle < 0 ? "" : String.format("%.2f ms", ms(idle)));
        } finally {
            TestMonitors.stop(monitor);
        }
    }

    /** Median cost of a poll that finds nothing new (sock_diag dump + /proc pid list), on this thread. */
    private static long idlePollCost(SockDiagPortMonitor monitor) {
        long[] t = new long[200];
        for (int i = -50; i < t.length; i++) {
            long t0 = System.nanoTime();
            TestMonitors.poll(monitor);
            if (i >= 0) {
                t[i] = System.nanoTime() - t0;
            }
        }
        return median(t);
    }

    private static long await(LinkedBlockingQueue<long[]> seen, PortEvent.Kind kind, int port)
            throws InterruptedException {
        while (true) {
            long[] e = seen.poll(30, TimeUnit.SECONDS);
            if (e == null) {
                throw new IllegalStateException("no " + kind + " event for port " + port + " within 30 s");
            }
            if (e[0] == kind.ordinal() && e[1] == port) {
                return e[2];
            }
        }
    }

    // --- the child holding the sockets ------------------------------------------------------------------------

    /**
     * python3 holding n TCP listeners or n bound UDP sockets on 127.0.0.1 until its stdin closes. One child per
     * protocol: 10 000 + 10 000 descriptors do not fit under the hard limit of 20 000 that this machine gives.
     */
    static final class Child implements AutoCloseable {
        private static final String SCRIPT = """
                import resource, socket, sys
                n, kind = int(sys.argv[1]), sys.argv[2]
                hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
                resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 100), hard))
                keep = []
                for i in range(n):
                    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind == 'tcp' else socket.SOCK_DGRAM)
                    s.bind(('127.0.0.1', 0))
                    if kind == 'tcp':
                        s.listen(1)
                    keep.append(s)
                print(keep[0].getsockname()[1], flush=True)
                sys.stdin.read()
                """;
        final Process process;
        final int firstTcpPort;

        private Child(Process process, int firstTcpPort) {
            this.process = process;
            this.firstTcpPort = firstTcpPort;
        }

        static Child start(int n, String kind) throws IOException {
            Process p = new ProcessBuilder("python3", "-c", SCRIPT, Integer.toString(n), kind)
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))
                    .readLine();
            if (line == null) {
                p.destroyForcibly();
                throw new IOException("the python3 child could not open " + n + " " + kind + " sockets");
            }
            return new Child(p, Integer.parseInt(line.trim()));
        }

        int pid() {
            return (int) process.pid();
        }

        @Override
        public void close() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    // --- figures ----------------------------------------------------------------------------------------------

    private static void machine() throws IOException {
        String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                .findFirst().map(l -> l.substring(l.indexOf(':') + 2)).orElse("?");
        System.out.printf("machine: %d CPUs (%s), Linux %s, Java %s %s, %d processes%n",
                Runtime.getRuntime().availableProcessors(), cpu, System.getProperty("os.version"),
                System.getProperty("java.vm.version"), String.join(" ",
                        java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()),
                processes());
    }

    private static long processes() {
        return ProcessHandle.allProcesses().count();
    }

    private static long median(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static long p99(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, (int) Math.ceil(s.length * 0.99) - 1)];
    }

    private static double ms(long ns) {
        return ns / 1e6;
    }

    private static double us(long ns) {
        return ns / 1e3;
    }
}
