package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import org.flexwall.testing.Commands;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 100 swaps with {@code flexwall hook use} between the netfilter hooks and the pcap bridge (issue 16, "Done when")
 * across three namespaces ({@link PcapNetwork}: outside, bridge with a Linux bridge for the kernel path, inside = the
 * appliance). All along: a session from outside to the trusted echo server inside, a session the inside opened to a
 * server outside (the stateful ICF runs without loose pickup, so in the pcap bridge its replies pass only because the
 * ICF took the flow over from conntrack), hping3 floods of SYNs, ACKs and datagrams to untrusted and closed ports, a
 * SYN prober every 10 ms at the untrusted listener, and tcpdump on the outside's wire.
 */
class PcapHookSwapSystemTest {
    private static final int OUTSIDE_ECHO = 9100;
    private static final int SWAPS = 100;
    @TempDir
    Path work;
    private PcapNetwork network;
    private ApplianceLab lab;

    @BeforeEach
    void start() throws Exception {
        OutsideNetwork.require();
        network = PcapNetwork.create();
        lab = ApplianceLab.start(work, Json.createObjectBuilder(network.pcapSettings("bridge"))
                .add("org.flexwall.stateful.icf", Json.createObjectBuilder().add("loosePickup", false)).build());
        JsonObject first = lab.flexwall("hook", "use", "netfilter"); // the launcher started every hook
        assertTrue(first.getBoolean("ok"), first.toString());
    }

    @AfterEach
    void stop() throws Exception {
        if (lab != null) {
            lab.close();
        }
        if (network != null) {
            network.close();
        }
    }

    @Test
    void aHundredSwapsBetweenNetfilterAndThePcapBridgeKeepSessionsNewConnectionsWorkAndNothingUnsolicitedIsAnswered()
            throws Exception {
        Path capture = work.resolve("outside.pcap");
        Traffic traffic;
        long started = System.nanoTime();
        int pcapSwaps = 0;
        try (Capture c = PcapLab.capture(network, capture)) {
            traffic = startTraffic();

            for (int swap = 0; swap < SWAPS; swap++) {
                String to = swap % 2 == 0 ? "pcap" : "netfilter";
                JsonObject answer = lab.flexwall("hook", "use", to);
                assertTrue(answer.getBoolean("ok"), "swap " + swap + " to " + to + ": " + answer);
                assertEquals(to, answer.getString("running"), "swap " + swap + ": " + answer);
                pcapSwaps += to.equals("pcap") ? 1 : 0;
                awaitFlows("after swap " + swap + " to " + to);
                assertNewConnectionWorks("after swap " + swap + " to " + to);
                if (swap < 2) { // the hooks swapped out are not missed: flexwall status stays healthy in both
                    assertHealthy("after swap " + swap + " to " + to);
                }
            }
            traffic.stopFloodAndProber();
        }
        System.out.printf("%d swaps netfilter <-> pcap bridge with flexwall hook use in %.1f s%n", SWAPS,
                (System.nanoTime() - started) / 1e9);
        System.out.println("session from outside: " + end(traffic.inbound(), "inbound.out"));
        System.out.println("session from inside: " + end(traffic.outbound(), "outbound.out"));
        assertEquals(SWAPS / 2, pcapSwaps);

        assertNothingAnswered(capture, 10_000);
    }

    @Test
    void hooksStoppedAndStartedByHandInTheBundlesTabInTheWorstOrdersNeverAnswerUnsolicitedPacketsNorBreakSessions()
            throws Exception {
        WebConsole console = lab.console();
        Path capture = work.resolve("by-hand.pcap");
        Traffic traffic;
        try (Capture c = PcapLab.capture(network, capture)) {
            traffic = startTraffic();
            // old hooks stopped before the new one starts, then the new one stopped before the old ones come back
            String[][] steps = { { NFQUEUE, "stop" }, { NFTABLES, "stop" }, { PCAP, "start" }, { PCAP, "stop" },
                    { PCAP, "start" }, { NFTABLES, "start" }, { NFQUEUE, "start" }, { PCAP, "stop" } };
            for (int round = 0; round < 2; round++) {
                for (String[] step : steps) {
                    console.bundleAction(step[0], step[1]);
                    if (step[1].equals("start") && step[0].equals(PCAP)) {
                        PcapLab.awaitActive(lab);
                    }
                    String when = "after " + step[1] + " " + step[0] + " in round " + round;
                    awaitFlows(when);
                    assertNewConnectionWorks(when);
                }
            }
            traffic.stopFloodAndProber();
        }
        System.out.println("session from outside: " + end(traffic.inbound(), "inbound.out"));
        System.out.println("session from inside: " + end(traffic.outbound(), "outbound.out"));
        assertNothingAnswered(capture, 1000);
    }

    private static final String NFQUEUE = "org.flexwall.hook-nfqueue", NFTABLES = "org.flexwall.hook-nftables",
            PCAP = "org.flexwall.hook-pcap";

    /** The SYN prober got neither SYN-ACK nor RST, and the capture shows the floods and no answer to them. */
    private void assertNothingAnswered(Path capture, int atLeastSent) throws Exception {
        String counts = Files.readAllLines(work.resolve("syn-prober.out")).stream().filter(l -> l.startsWith("answered ")).findFirst()
                .orElseThrow(() -> new AssertionError("the SYN prober reported nothing"));
        Matcher m = Pattern.compile("answered (\\d+) refused (\\d+) silent (\\d+)").matcher(counts);
        assertTrue(m.find(), counts);
        assertEquals("0 0", m.group(1) + " " + m.group(2), "the untrusted listener answered the prober: " + counts);
        assertTrue(Long.parseLong(m.group(3)) >= atLeastSent / 10, "the prober hardly ran: " + counts);
        List<String> sent = Capture.read(capture, "dst", "host", PcapNetwork.INSIDE_V4, "and", "(dst", "port",
                String.valueOf(UntrustedTargets.TCP), "or", "dst", "port", String.valueOf(UntrustedTargets.UDP), "or",
                "dst", "port", String.valueOf(UntrustedTargets.CLOSED) + ")");
        assertTrue(sent.size() >= atLeastSent, "the floods did not run: " + sent.size() + " packets captured");
        List<String> answers = Capture.read(capture, "src", "host", PcapNetwork.INSIDE_V4, "and", "(icmp", "or",
                "src", "port", String.valueOf(UntrustedTargets.TCP), "or", "src", "port",
                String.valueOf(UntrustedTargets.CLOSED) + ")");
        assertEquals(List.of(), answers, "the inside answered unsolicited packets");
        assertEquals(0, lab.untrusted.delivered(), "unsolicited packets reached the untrusted listeners");
        System.out.println(sent.size() + " unsolicited packets sent from outside, 0 answered, 0 delivered; " + counts);
    }

    private void assertHealthy(String when) throws Exception {
        JsonObject status = lab.flexwall("status");
        assertTrue(status.getBoolean("healthy"), "flexwall status " + when + ": " + status);
    }

    /** What runs across the swaps; the sessions end with {@link #end}. */
    private record Traffic(List<Process> flood, Process prober, Process inbound, Process outbound) {
        void stopFloodAndProber() throws InterruptedException {
            for (Process p : flood) {
                p.destroy();
                p.waitFor(10, TimeUnit.SECONDS);
            }
            prober.destroy(); // SIGTERM: it prints its counts
            assertTrue(prober.waitFor(10, TimeUnit.SECONDS), "the SYN prober did not end");
        }
    }

    /**
     * An echo server outside, the floods, the SYN prober at the untrusted listener, a session from outside to the
     * trusted echo server and one from inside to the server outside; returns once both sessions flow.
     */
    private Traffic startTraffic() throws Exception {
        network.start(network.outside, "socat", "TCP-LISTEN:" + OUTSIDE_ECHO + ",reuseaddr,fork", "EXEC:/bin/cat");
        ApplianceLab.awaitListening(network.outside, "tcp", OUTSIDE_ECHO);
        List<Process> flood = flood();
        Process prober = started(new ProcessBuilder("ip", "netns", "exec", network.outside, "python3",
                lab.traffic("syn_prober.py"), PcapNetwork.INSIDE_V4, String.valueOf(UntrustedTargets.TCP)),
                work.resolve("syn-prober.out"));
        Process inbound = started(new ProcessBuilder("ip", "netns", "exec", network.outside, "python3",
                lab.traffic("session.py"), PcapNetwork.INSIDE_V4, String.valueOf(ApplianceLab.TRUSTED), "3600"),
                work.resolve("inbound.out"));
        Process outbound = started(new ProcessBuilder("python3", lab.traffic("session.py"), PcapNetwork.OUTSIDE_V4,
                String.valueOf(OUTSIDE_ECHO), "3600"), work.resolve("outbound.out"));
        awaitFlows("before the first swap");
        return new Traffic(flood, prober, inbound, outbound);
    }

    /** hping3 from outside: SYNs to the untrusted and the closed port, ACKs to the untrusted one, datagrams. */
    private List<Process> flood() throws Exception {
        String target = PcapNetwork.INSIDE_V4;
        List<Process> flood = new ArrayList<>();
        flood.add(network.start(network.outside, "hping3", "-q", "-S", "-p", String.valueOf(UntrustedTargets.CLOSED),
                "-i", "u5000", target));
        flood.add(network.start(network.outside, "hping3", "-q", "-A", "-p", String.valueOf(UntrustedTargets.TCP),
                "-i", "u5000", target));
        flood.add(network.start(network.outside, "hping3", "-q", "-2", "-p", String.valueOf(UntrustedTargets.UDP),
                "-d", "32", "-i", "u5000", target));
        flood.add(network.start(network.outside, "hping3", "-q", "-2", "-p", String.valueOf(UntrustedTargets.CLOSED),
                "-d", "32", "-i", "u5000", target));
        return flood;
    }

    private Process started(ProcessBuilder pb, Path output) throws Exception {
        Process p = pb.redirectErrorStream(true).redirectOutput(output.toFile()).start();
        network.track(p);
        return p;
    }

    /** A new connection from outside to the trusted echo server inside answers its line. */
    private void assertNewConnectionWorks(String when) throws Exception {
        String echoed = network.outside("sh", "-c", "echo new-connection | timeout 10 socat -t 3 - TCP:"
                + PcapNetwork.INSIDE_V4 + ":" + ApplianceLab.TRUSTED + ",connect-timeout=5").output();
        assertTrue(echoed.contains("new-connection"), "a new connection " + when + ": " + echoed + "\n"
                + lab.flexwall("hook"));
    }

    /** Both sessions exchanged 5 more messages: they flow, not merely live. */
    private void awaitFlows(String when) throws Exception {
        Path inbound = work.resolve("inbound.out"), outbound = work.resolve("outbound.out");
        long inBefore = ApplianceLab.sessionExchanged(inbound), outBefore = ApplianceLab.sessionExchanged(outbound);
        Await.until("both sessions flowing " + when, Duration.ofSeconds(20),
                () -> ApplianceLab.sessionExchanged(inbound) >= inBefore + 5
                        && ApplianceLab.sessionExchanged(outbound) >= outBefore + 5,
                () -> "from outside " + ApplianceLab.sessionReport(inbound) + "; from inside "
                        + ApplianceLab.sessionReport(outbound) + "\n" + lab.flexwall("hook") + "\n"
                        + lab.flexwall("status").get("engine") + "\nconntrack here:\n"
                        + Commands.run(null, null, "conntrack", "-L").output() + "\n" + lab.appliance().output());
    }

    private String end(Process session, String file) throws Exception {
        return ApplianceLab.endSession(session, work.resolve(file));
    }
}
