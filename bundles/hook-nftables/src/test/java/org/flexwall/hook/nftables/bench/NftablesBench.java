package org.flexwall.hook.nftables.bench;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;

import org.flexwall.hook.nftables.BenchSupport;

/**
 * What flexwall's kernel baseline costs established and small-packet traffic, against no firewall in the same run,
 * with permitted ports untracked (the default) and tracked ({@code untrackPermitted=false}).
 * iperf3 in the outside namespace sends to an iperf3 server in the appliance namespace over veth; the modes
 * alternate round by round so drift on a shared machine hits both. Run with {@code bench.sh} (root).
 *
 * <ul>
 * <li>TCP: one stream, {@code seconds} s per run, bits/s the server received.</li>
 * <li>UDP: 18-byte payloads (60-byte Ethernet frames), unlimited rate ({@code -b 0}), packets/s that arrived, and
 * packets per CPU-second of CPU 0: the sender's CPU time (its softirqs carry each packet over veth and through the
 * appliance's receive path, netfilter included, up to the socket) plus ksoftirqd/0's. Neighbours on a shared machine
 * lower the rate (they take the CPUs) but hardly this cost per packet.</li>
 * <li>Flood: hping3, 60-byte UDP frames from random sources to a permitted port, datagrams/s the stack took in.</li>
 * </ul>
 * The client runs on CPU 0 and the server on CPU 1.
 */
public final class NftablesBench {
    private static final int PORT = 5201;
    private static final int FLOOD_PORT = 5300;
    private static final String NONE = "no firewall";
    private static final String TRACKED = "nft baseline, untrackPermitted=false";
    private static final String UNTRACKED = "nft baseline (default: permitted ports untracked)";
    private static final double TICKS_PER_SECOND = 100; // USER_HZ of /proc/[pid]/stat

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 9;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        Map<String, List<Double>> tcp = new LinkedHashMap<>();
        Map<String, List<Double>> udp = new LinkedHashMap<>();
        Map<String, List<Double>> udpLoss = new LinkedHashMap<>();
        Map<String, List<Double>> udpCpu = new LinkedHashMap<>();
        Map<String, List<Double>> flooded = new LinkedHashMap<>();
        try (BenchSupport lab = new BenchSupport()) {
            lab.start(lab.appliance(), "taskset", "-c", "1", "iperf3", "-s", "-p", Integer.toString(PORT));
            lab.start(lab.appliance(), "taskset", "-c", "1", "socat", "-u", "UDP4-RECV:" + FLOOD_PORT, "/dev/null");
            lab.awaitTcpListener(lab.appliance(), PORT);
            lab.awaitUdpSocket(lab.appliance(), FLOOD_PORT);
            for (int round = 1; round <= rounds; round++) {
                for (String mode : List.of(NONE, TRACKED, UNTRACKED)) {
                    lab.firewallOff();
                    if (!mode.equals(NONE)) {
                        lab.firewallOn(mode.equals(UNTRACKED), PORT, FLOOD_PORT);
                    }
                    JsonObject t = iperf(lab, seconds, false);
                    double gbit = t.getJsonObject("end").getJsonObject("sum_received")
                            .getJsonNumber("bits_per_second").doubleValue() / 1e9;
                    tcp.computeIfAbsent(mode, k -> new ArrayList<>()).add(gbit);

                    double softirqBefore = ksoftirqd0Seconds();
                    Udp run = udp(lab, seconds);
                    JsonObject u = run.result();
                    double cpu0 = run.senderCpuSeconds() + ksoftirqd0Seconds() - softirqBefore;
                    long entries = lab.conntrackEntries(); // shows whether the flows were tracked
                    double flood = flood(lab, seconds);
                    flooded.computeIfAbsent(mode, k -> new ArrayList<>()).add(flood);
                    JsonObject sum = u.getJsonObject("end").getJsonObject("sum_received");
                    double received = sum.getJsonNumber("packets").longValue()
                            - sum.getJsonNumber("lost_packets").longValue();
                    double secs = sum.getJsonNumber("seconds").doubleValue();
                    udp.computeIfAbsent(mode, k -> new ArrayList<>()).add(received / secs);
                    udpLoss.computeIfAbsent(mode, k -> new ArrayList<>())
                            .add(sum.getJsonNumber("lost_percent").doubleValue());
                    // every packet sent went through CPU 0's receive path, also those the socket then had no room for
                    double perCpu = sum.getJsonNumber("packets").longValue() / cpu0;
                    udpCpu.computeIfAbsent(mode, k -> new ArrayList<>()).add(perCpu);
                    System.out.printf("round %d %-50s TCP %.2f Gbit/s  UDP %.0f received packets/s (%.1f %% lost, "
                            + "%.0f packets per CPU-0 second), %d conntrack entries; random-source flood %.0f "
                            + "delivered/s, %d conntrack entries%n", round, mode, gbit, received / secs,
                            sum.getJsonNumber("lost_percent").doubleValue(), perCpu, entries, flood,
                            lab.conntrackEntries());
                }
            }
        }
        System.out.printf("%nmedians of %d rounds x %d s (kernel %s, %d CPUs)%n", rounds, seconds,
                System.getProperty("os.version"), Runtime.getRuntime().availableProcessors());
        System.out.println("| path | TCP Gbit/s | UDP 60-byte frames received/s | UDP lost % "
                + "| UDP packets per CPU-0 second | random-source UDP flood delivered/s |");
        System.out.println("|---|---|---|---|---|---|");
        double tcpBase = median(tcp.get(NONE));
        double udpBase = median(udp.get(NONE));
        double cpuBase = median(udpCpu.get(NONE));
        double floodBase = median(flooded.get(NONE));
        for (String mode : tcp.keySet()) {
            double t = median(tcp.get(mode));
            double u = median(udp.get(mode));
            double c = median(udpCpu.get(mode));
            double f = median(flooded.get(mode));
            System.out.printf("| %s | %.1f (%.0f %%) | %.0f k (%.0f %%) | %.1f | %.0f k (%.1f %%) | %.0f k (%.0f %%) |%n",
                    mode, t, 100 * t / tcpBase, u / 1000, 100 * u / udpBase, median(udpLoss.get(mode)), c / 1000,
                    100 * c / cpuBase, f / 1000, 100 * f / floodBase);
        }
    }

    private static JsonObject iperf(BenchSupport lab, int seconds, boolean udp) throws Exception {
        String out = BenchSupport.run(lab.outside(), iperfArgs(lab, seconds, udp).toArray(String[]::new));
        try (JsonReader r = Json.createReader(new StringReader(out))) {
            return r.readObject();
        }
    }

    private static List<String> iperfArgs(BenchSupport lab, int seconds, boolean udp) {
        List<String> argv = new ArrayList<>(List.of("taskset", "-c", "0", "iperf3", "-c", lab.applianceV4(), "-p",
                Integer.toString(PORT), "-t", Integer.toString(seconds), "-J"));
        if (udp) {
            argv.addAll(List.of("-u", "-l", "18", "-b", "0"));
        }
        return argv;
    }

    /** An iperf3 UDP result and the CPU seconds (user + system) its client used. */
    record Udp(JsonObject result, double senderCpuSeconds) {
    }

    /** The UDP run, under a shell whose {@code times} prints its children's CPU time after iperf3's JSON. */
    private static Udp udp(BenchSupport lab, int seconds) throws Exception {
        List<String> argv = new ArrayList<>(List.of("sh", "-c", "\"$@\"; s=$?; times; exit $s", "sh"));
        argv.addAll(iperfArgs(lab, seconds, true));
        String out = BenchSupport.run(lab.outside(), argv.toArray(String[]::new));
        int end = out.lastIndexOf('}') + 1;
        String[] children = out.substring(end).trim().lines().reduce((a, b) -> b).orElseThrow().trim().split("\\s+");
        try (JsonReader r = Json.createReader(new StringReader(out.substring(0, end)))) {
            return new Udp(r.readObject(), seconds(children[0]) + seconds(children[1]));
        }
    }

    /** "1m2.340000s" (the shell's times) in seconds. */
    private static double seconds(String minutesSeconds) {
        String[] f = minutesSeconds.replace("s", "").split("m");
        return Integer.parseInt(f[0]) * 60 + Double.parseDouble(f[1]);
    }

    /**
     * hping3 floods 60-byte UDP frames from random sources at {@link #FLOOD_PORT} (a new flow per packet, what a
     * DNS server under load or an attack looks like); returns datagrams per second the appliance's UDP stack took in.
     */
    private static double flood(BenchSupport lab, int seconds) throws Exception {
        long before = lab.udpInDatagrams();
        BenchSupport.attempt(lab.outside(), "timeout", Integer.toString(seconds), "taskset", "-c", "0", "hping3", "-q",
                "--udp", "--flood", "--rand-source", "-p", Integer.toString(FLOOD_PORT), "-d", "18",
                lab.applianceV4());
        return (lab.udpInDatagrams() - before) / (double) seconds;
    }

    /** CPU seconds ksoftirqd/0 has used: receive work CPU 0 deferred from the sender's context. */
    private static double ksoftirqd0Seconds() throws java.io.IOException {
        try (var procs = java.nio.file.Files.list(java.nio.file.Path.of("/proc"))) {
            for (java.nio.file.Path pid : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    if (java.nio.file.Files.readString(pid.resolve("comm")).trim().equals("ksoftirqd/0")) {
                        String stat = java.nio.file.Files.readString(pid.resolve("stat"));
                        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND; // utime, stime
                    }
                } catch (java.io.IOException gone) {
                    // a process that ended while we looked
                }
            }
        }
        throw new IllegalStateException("no ksoftirqd/0");
    }

    private static double median(List<Double> values) {
        List<Double> v = new ArrayList<>(values);
        Collections.sort(v);
        int n = v.size();
        return n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
    }
}
