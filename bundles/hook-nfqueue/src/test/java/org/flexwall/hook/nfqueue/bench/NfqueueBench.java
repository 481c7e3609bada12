package org.flexwall.hook.nfqueue.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.flexwall.hook.nfqueue.BenchSupport;
import org.flexwall.testing.Await;

/**
 * Decisions per second through the NFQUEUE hook's Java consumer against a minimal C consumer of the same queue
 * (libnetfilter_queue, one verdict per packet, accepts everything), with the same traffic generator in the same run.
 *
 * <p>Traffic: {@code udpflood} in a client namespace sends 60-byte UDP frames over veth as fast as it can (pinned to
 * CPU 0); in the server namespace each datagram is conntrack NEW and queued. The consumer under test runs pinned to
 * CPU 1 (run this JVM under {@code taskset -c 1}). Java decides as the hook's firstPacket mode does (parse, ask the
 * bypass table, accept with the mark); C only accepts. Rounds alternate C and Java; medians are printed.
 *
 * <p>Run: {@code bundles/hook-nfqueue/bench.sh [rounds] [seconds]} as root.
 */
public final class NfqueueBench {
    private static final int QUEUE = 7;
    private static final int PORT = 9000;
    private static final int RCVBUF = 8 << 20;
    private static final int BATCH = 64;
    private static final double CLOCK_TICKS = 100.0; // USER_HZ for /proc/PID/stat

    private record Sample(double decided, double lost, double sent, double cpuMicros) {
    }

    private interface Consumer extends AutoCloseable {
        double cpuSeconds() throws IOException;
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        Path bin = Files.createDirectories(Path.of("target", "bench"));
        Path src = Path.of("src", "test", "resources", "bench");
        gcc(src.resolve("nfq-accept.c"), bin.resolve("nfq-accept"), "-lnetfilter_queue", "-lmnl");
        gcc(src.resolve("udpflood.c"), bin.resolve("udpflood"));

        try (BenchSupport.Environment env = BenchSupport.environment(QUEUE, PORT)) {
            List<Sample> c = new ArrayList<>();
            List<Sample> java = new ArrayList<>();
            System.out.println("warm-up (Java JIT), not counted: " + format(run(env, bin, false, seconds)));
            for (int r = 1; r <= rounds; r++) {
                Sample sc = run(env, bin, true, seconds);
                c.add(sc);
                System.out.println("round " + r + " C    " + format(sc));
                Sample sj = run(env, bin, false, seconds);
                java.add(sj);
                System.out.println("round " + r + " Java " + format(sj));
            }
            Sample mc = median(c);
            Sample mj = median(java);
            System.out.println();
            System.out.println("median C    " + format(mc));
            System.out.println("median Java " + format(mj));
            System.out.printf(Locale.ROOT, "Java/C decisions per second: %.2f; CPU per decision Java/C: %.2f%n",
                    mj.decided() / mc.decided(), mj.cpuMicros() / mc.cpuMicros());
        }
    }

    private static Sample run(BenchSupport.Environment env, Path bin, boolean c, int seconds) throws Exception {
        try (Consumer consumer = c ? startC(env, bin) : startJava(env)) {
            awaitBound(env);
            Process sender = new ProcessBuilder("ip", "netns", "exec", env.client, "taskset", "-c", "0",
                    bin.resolve("udpflood").toAbsolutePath().toString(), env.serverV4, Integer.toString(PORT),
                    Integer.toString(seconds + 2)).redirectErrorStream(true).start();
            try {
                Thread.sleep(1_000); // warm-up, not synchronisation: the sender and the queue reach a steady state
                long[] k0 = kernel(env);
                double cpu0 = consumer.cpuSeconds();
                long t0 = System.nanoTime();
                Thread.sleep(seconds * 1_000L); // the measured window, not synchronisation
                long[] k1 = kernel(env);
                double cpu1 = consumer.cpuSeconds();
                double dt = (System.nanoTime() - t0) / 1e9;
                double decided = (k1[0] - k0[0]) / dt;
                return new Sample(decided, (k1[1] - k0[1]) / dt, (k1[2] - k0[2]) / dt,
                        decided > 0 ? (cpu1 - cpu0) / dt / decided * 1e6 : 0);
            } finally {
                sender.waitFor();
            }
        }
    }

    private static Consumer startC(BenchSupport.Environment env, Path bin) throws IOException {
        Process p = new ProcessBuilder("ip", "netns", "exec", env.server, "taskset", "-c", "1",
                bin.resolve("nfq-accept").toAbsolutePath().toString(), Integer.toString(QUEUE),
                Integer.toString(RCVBUF)).inheritIO().start();
        return new Consumer() {
            @Override
            public double cpuSeconds() throws IOException {
                String[] f = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat")).split("\\) ")[1]
                        .split(" ");
                return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / CLOCK_TICKS; // utime + stime
            }

            @Override
            public void close() throws InterruptedException {
                p.destroy();
                p.waitFor();
            }
        };
    }

    private static Consumer startJava(BenchSupport.Environment env) throws Exception {
        BenchSupport.JavaConsumer j = BenchSupport.startJava(env, QUEUE, PORT, RCVBUF, BATCH);
        return new Consumer() {
            @Override
            public double cpuSeconds() {
                return j.cpuNanos() / 1e9;
            }

            @Override
            public void close() throws InterruptedException {
                j.close();
            }
        };
    }

    /** Waits until the queue has a consumer in the server namespace. */
    private static void awaitBound(BenchSupport.Environment env) throws Exception {
        Await.until("a consumer bound queue " + QUEUE, () -> queueLine(env) != null);
    }

    private static String[] queueLine(BenchSupport.Environment env) throws Exception {
        for (String line : env.in(env.server, "cat", "/proc/net/netfilter/nfnetlink_queue").split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 8 && f[0].equals(Integer.toString(QUEUE))) {
                return f;
            }
        }
        return null;
    }

    /** Accepted (nft counter), lost (queue full + socket full), sent (client veth tx packets). */
    private static long[] kernel(BenchSupport.Environment env) throws Exception {
        String counter = env.in(env.server, "nft", "list", "counter", "inet", "fwq_bench", "accepted");
        long accepted = Long.parseLong(counter.replaceAll("(?s).*packets (\\d+).*", "$1"));
        String[] q = queueLine(env);
        long lost = q == null ? 0 : Long.parseLong(q[5]) + Long.parseLong(q[6]);
        long sent = Long.parseLong(env.in(env.client, "cat", "/sys/class/net/fwq0/statistics/tx_packets").trim());
        return new long[] { accepted, lost, sent };
    }

    private static void gcc(Path source, Path out, String... libs) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("gcc", "-O2", "-o", out.toString(), source.toString()));
        cmd.addAll(Arrays.asList(libs));
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("gcc failed for " + source + "; the C baseline needs gcc, "
                    + "libnetfilter-queue-dev and libmnl-dev (apt-get install libnetfilter-queue-dev libmnl-dev)");
        }
    }

    private static Sample median(List<Sample> s) {
        return new Sample(med(s.stream().mapToDouble(Sample::decided).toArray()),
                med(s.stream().mapToDouble(Sample::lost).toArray()), med(s.stream().mapToDouble(Sample::sent).toArray()),
                med(s.stream().mapToDouble(Sample::cpuMicros).toArray()));
    }

    private static double med(double[] v) {
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static String format(Sample s) {
        return String.format(Locale.ROOT, "decided %,9.0f/s  lost in kernel %,9.0f/s  sent %,9.0f/s  "
                + "consumer CPU %.2f µs/decision", s.decided(), s.lost(), s.sent(), s.cpuMicros());
    }
}
