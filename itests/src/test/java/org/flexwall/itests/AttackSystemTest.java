package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.json.Json;
import jakarta.json.JsonObject;

import org.flexwall.testing.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The appliance under attack from the outside namespace (issue "Packet path"): a million malformed packets, and a
 * SYN flood from random sources, while a trusted echo server must stay reachable and nothing reaches an untrusted
 * listener ({@link UntrustedTargets}).
 */
class AttackSystemTest {
    private static final int MALFORMED_FRAMES = 800_000;
    private static final int HPING_PACKETS = 50_000;

    @TempDir
    Path work;
    private ApplianceLab lab;

    @BeforeEach
    void onlyInTheTestNamespace() {
        OutsideNetwork.require();
    }

    @AfterEach
    void stopLab() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @ParameterizedTest(name = "NFQUEUE hook in {0} mode")
    @ValueSource(strings = { "firstPacket", "userspace" })
    void aMillionMalformedPacketsCrashNothingAndReachNoUntrustedPort(String mode) throws Exception {
        start(mode);
        Path malformed = Programs.compile(work, "attack/malformed.c", work.resolve("malformed"));
        String wan0 = Files.readString(Path.of("/sys/class/net/wan0/address")).strip();
        String tcp = String.valueOf(UntrustedTargets.TCP);
        String udp = String.valueOf(UntrustedTargets.UDP);
        Path capture = work.resolve("malformed.pcap");
        // fragments that never complete expire after 1 s instead of 30 s and 60 s, so the capture below sees whether
        // the kernel's "reassembly time exceeded" for them would leave (this JVM's own namespace: nothing else sees it)
        OutsideNetwork.here("sysctl", "-qw", "net.ipv4.ipfrag_time=1", "net.ipv6.ip6frag_time=1",
                "net.netfilter.nf_conntrack_frag6_timeout=1").check();

        try (Capture c = Capture.start(capture, "-Q", "out")) { // what the appliance sends: a million frames stay out
            // the five senders at once: they take as long as the slowest (hping3's fragment trains), not their sum
            Process frames = lab.outside.startOutside(work.resolve("malformed.out"), malformed.toString(), "out0", wan0,
                    OutsideNetwork.OUTSIDE_V4, OutsideNetwork.APPLIANCE_V4, OutsideNetwork.OUTSIDE_V6,
                    OutsideNetwork.APPLIANCE_V6, tcp, udp, String.valueOf(MALFORMED_FRAMES));
            List<List<String>> kinds = List.of(
                    List.of("-S", "-f", "-m", "8", "-p", tcp),                    // SYNs in 8-byte fragments
                    List.of("-S", "-b", "-p", tcp),                               // bad TCP checksums
                    List.of("-S", "-F", "-R", "-P", "-U", "-X", "-Y", "-p", tcp), // every flag at once
                    List.of("-2", "-f", "-m", "8", "-d", "200", "-p", udp));      // UDP in 8-byte fragments
            List<Process> hpings = new ArrayList<>();
            for (int i = 0; i < kinds.size(); i++) {
                hpings.add(hping3(kinds.get(i), work.resolve("hping3-" + i + ".out")));
            }
            String sent = finished(frames, work.resolve("malformed.out"));
            assertTrue(frames.exitValue() == 0 && sent.contains("sent " + MALFORMED_FRAMES + " "), sent);
            for (int i = 0; i < kinds.size(); i++) { // hping3's exit code only says whether replies came
                String out = finished(hpings.get(i), work.resolve("hping3-" + i + ".out"));
                assertTrue(out.contains(HPING_PACKETS + " packets transmitted"), kinds.get(i) + ": " + out);
            }
            assertTrue(lab.appliance().process.isAlive(), "the appliance died:\n" + lab.appliance().output());
            JsonObject status = lab.flexwall("status");
            assertTrue(status.getBoolean("healthy"), status.toString());
            // the last incomplete fragments expire while the capture still runs (their timer is 1 s, see above)
            Await.until("no fragment queue left in this namespace", Duration.ofSeconds(10),
                    () -> Files.readString(Path.of("/proc/net/sockstat")).contains("FRAG: inuse 0 ")
                            && Files.readString(Path.of("/proc/net/sockstat6")).contains("FRAG6: inuse 0 "));
            String probe = lab.probe(2);
            assertTrue(probe.endsWith(" failed 0"), "the trusted port after the attack: " + probe);
        }

        String nfqueue = lab.hookStatus("nfqueue");
        System.out.println("after " + (MALFORMED_FRAMES + 4 * HPING_PACKETS) + " malformed packets, " + mode + ": "
                + nfqueue);
        if (mode.equals("userspace")) { // what the kernel let through (it drops bad IP headers itself) met the engine
            Matcher m = Pattern.compile("; (\\d+) decided").matcher(nfqueue);
            assertTrue(m.find() && Long.parseLong(m.group(1)) > 100_000, nfqueue);
        }
        assertTrue(lab.untrusted.delivered() == 0, lab.untrusted.delivered() + " malformed packets delivered");
        // all the appliance may send the attacker: the trusted server's answers to the probe and neighbour discovery
        List<String> answers = Capture.read(capture, "(ip", "or", "ip6)", "and", "(dst", "host", OutsideNetwork.OUTSIDE_V4, "or", "dst", "host",
                OutsideNetwork.OUTSIDE_V6 + ")", "and", "not", "src", "port",
                String.valueOf(ApplianceLab.TRUSTED), "and", "not", "(icmp6", "and", "ip6[40]", ">=", "133", "and",
                "ip6[40]", "<=", "137)");
        assertTrue(answers.isEmpty(), "the appliance answered malformed packets: " + answers);
    }

    @Test
    void aSynFloodFromRandomSourcesLeavesTheSessionAndNewConnectionsToTheTrustedPortWorking() throws Exception {
        start("firstPacket");
        Process session = lab.startSession();
        Path probed = work.resolve("prober.out");
        long jvm = lab.appliance().process.pid();
        long before = cpuTicks(jvm);
        long started = System.nanoTime();

        Process flood = lab.outside.startOutside("hping3", "-q", "-S", "--flood", "--rand-source", "-p", "++1024",
                OutsideNetwork.APPLIANCE_V4);
        Process prober = lab.outside.startOutside(probed, "python3", lab.traffic("prober.py"), ApplianceLab.APPLIANCE,
                String.valueOf(ApplianceLab.TRUSTED), "10");
        assertTrue(prober.waitFor(60, TimeUnit.SECONDS), "the prober did not finish");
        long cpu = cpuTicks(jvm) - before;
        double seconds = (System.nanoTime() - started) / 1e9;
        flood.destroy();
        flood.waitFor(10, TimeUnit.SECONDS);

        String nfqueue = lab.hookStatus("nfqueue");
        String report = Files.readString(probed).strip();
        String last = report.lines().reduce((a, b) -> b).orElse("");
        System.out.printf("SYN flood %.1f s: appliance JVM CPU %.0f %% of one core; new connections %s; %s%n",
                seconds, 100.0 * cpu / 100 / seconds, last, nfqueue);
        System.out.println("session through the flood: " + lab.endSession(session));
        Matcher m = Pattern.compile("ok (\\d+) failed (\\d+)").matcher(last);
        assertTrue(m.matches(), report);
        int ok = Integer.parseInt(m.group(1));
        int failed = Integer.parseInt(m.group(2));
        assertTrue(ok >= 20 && ok >= 0.95 * (ok + failed), "new connections during the flood:\n" + report);
        assertTrue(lab.appliance().process.isAlive(), lab.appliance().output());
    }

    private void start(String mode) throws Exception {
        lab = ApplianceLab.start(work, Json.createObjectBuilder()
                .add("org.flexwall.hook.nfqueue", Json.createObjectBuilder().add("mode", mode)).build());
    }

    /** Starts sending HPING_PACKETS packets of one kind, 100 000 a second at most, output to {@code output}. */
    private Process hping3(List<String> kind, Path output) throws Exception {
        List<String> argv = new ArrayList<>(List.of("hping3", "-q"));
        argv.addAll(kind);
        argv.addAll(List.of("-c", String.valueOf(HPING_PACKETS), "-i", "u10", OutsideNetwork.APPLIANCE_V4));
        return lab.outside.startOutside(output, argv.toArray(String[]::new));
    }

    /** Waits for a sender (at most 5 minutes) and returns what it printed. */
    private static String finished(Process sender, Path output) throws Exception {
        assertTrue(sender.waitFor(5, TimeUnit.MINUTES), "a sender did not finish in 5 minutes: " + sender.info());
        return Files.readString(output);
    }

    /** utime + stime of a process, in clock ticks (1/100 s on Linux). */
    private static long cpuTicks(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }
}
