package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import jakarta.json.JsonObject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 19's churn race, from the outside: a trusted program binds a fresh random port (0.0.0.0 or ::,
 * SO_REUSEADDR), listens, prints a line and never accepts; the moment the line is read, a client in the outside
 * namespace connects, and the program is killed. IPv4 and IPv6 run at the same time, and two more drivers start and
 * kill trusted listeners on other ports all along, so the kernel's sets change under every connect. Every connect
 * must get through and, proven by a capture, every first SYN must be answered: whatever order the port store, the
 * hooks' kernel updates and the SYN come in, the set or the first-packet path takes it. {@code churn.c} drives each
 * family from one process, so nothing slow stands between listen() and connect().
 */
class TrustedListenerChurnSystemTest {
    private static final int CYCLES = 1000;
    private static final Map<String, Integer> FIRST_PORT = Map.of("ipv4", 20000, "ipv6", 30000);

    @TempDir
    Path work;

    @Test
    void everyFirstSynToAFreshTrustedListenerIsAnsweredOverBothFamiliesWhileOtherListenersComeAndGo()
            throws Exception {
        OutsideNetwork.require();
        Path bin = Files.createDirectory(work.resolve("bin"));
        Path listener = Programs.compile(work, "churn/listener.c", bin.resolve("listener"));
        Path churn = Programs.compile(work, "churn/churn.c", bin.resolve("churn"));
        Path data = ApplianceImage.dataDirectory(work.resolve("data"));
        Path capture = work.resolve("churn.pcap");
        List<Process> drivers = new ArrayList<>();
        try (ApplianceProcess appliance = ApplianceProcess.startManagedOnLoopback(work, data);
                OutsideNetwork outside = OutsideNetwork.create()) {
            JsonObject answer = ApplianceImage.flexwallJson(data, "trust", listener.toString(), "listener");
            assertTrue(answer.getBoolean("ok"), answer.toString());
            String netns = "/var/run/netns/" + outside.namespace;
            // the wire first: each side learns the other's link address (ARP, neighbour discovery), so a first
            // connect waits for nothing but flexwall
            OutsideNetwork.here("ping", "-c", "1", "-W", "5", OutsideNetwork.OUTSIDE_V4).check();
            OutsideNetwork.here("ping", "-6", "-c", "1", "-W", "5", OutsideNetwork.OUTSIDE_V6).check();

            Map<String, List<String>> cycles = new TreeMap<>();
            try (Capture c = Capture.start(capture, "tcp", "portrange", "20000-39999")) {
                // the churners first, so the sets already change when the first connect goes out
                drivers.add(driver(churn, listener, "4", netns, "", 40000, 5000, 1_000_000, null));
                drivers.add(driver(churn, listener, "6", netns, "", 45000, 5000, 1_000_000, null));
                Map<String, Process> connecting = Map.of(
                        "ipv4", driver(churn, listener, "4", netns, OutsideNetwork.APPLIANCE_V4, FIRST_PORT.get("ipv4"),
                                10_000, CYCLES, work.resolve("ipv4.out")),
                        "ipv6", driver(churn, listener, "6", netns, OutsideNetwork.APPLIANCE_V6, FIRST_PORT.get("ipv6"),
                                10_000, CYCLES, work.resolve("ipv6.out")));
                drivers.addAll(connecting.values());
                for (var e : connecting.entrySet()) {
                    assertTrue(e.getValue().waitFor(10, TimeUnit.MINUTES), e.getKey() + " driver did not finish");
                    List<String> lines = Files.readAllLines(work.resolve(e.getKey() + ".out"));
                    assertEquals(0, e.getValue().exitValue(), e.getKey() + " driver failed: " + lines);
                    cycles.put(e.getKey(), lines.stream().filter(l -> l.startsWith("cycle ")).toList());
                }
                for (Process churner : drivers.subList(0, 2)) {
                    assertTrue(churner.isAlive(), "a churner stopped before the connects did: the race ran alone");
                }
            }

            Map<String, Map<String, Long>> results = new TreeMap<>();
            cycles.forEach((family, lines) -> lines.forEach(l -> results.computeIfAbsent(family, k -> new TreeMap<>())
                    .merge(l.split(" ")[3], 1L, Long::sum)));
            Map<Integer, Integer> syns = new TreeMap<>();
            List<Integer> firstSynLost = Capture.firstSynUnanswered(capture, syns);
            System.out.println("churn race: " + results + " (ok: within 1 s; late: within 5 s), "
                    + syns.values().stream().filter(n -> n > 1).count() + " SYNs sent again, " + firstSynLost.size()
                    + " first SYNs unanswered");
            String context = "\nflexwall status: " + ApplianceImage.flexwall(data, "status").output()
                    + "\nappliance warnings: " + warnings(appliance);
            for (var e : cycles.entrySet()) {
                assertEquals(CYCLES, e.getValue().size(), e.getKey() + " driver ran short: " + e.getValue());
                assertEquals(List.of(), e.getValue().stream().filter(l -> !l.matches("cycle \\d+ \\d+ (ok|late) .*"))
                        .toList(), e.getKey() + ": connects that never got through" + context);
            }
            assertEquals(2 * CYCLES, syns.size(), "the capture missed connects, so it proves nothing");
            // the proof that no first SYN was dropped, whatever the load: the SYN-ACK echoes that SYN's timestamp
            assertEquals(List.of(), firstSynLost, "ports whose first SYN got no answer (the client had to send it "
                    + "again; cycles: " + cycles.values().stream().flatMap(List::stream)
                            .filter(l -> firstSynLost.contains(Integer.parseInt(l.split(" ")[2]))).toList() + ")"
                    + context);
        } finally {
            for (Process p : drivers) {
                p.descendants().forEach(ProcessHandle::destroyForcibly); // the listener it runs now, else orphaned
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            ApplianceImage.flexwall(data, "disable");
        }
    }

    /** {@code churn.c} for one family; {@code output} null: a churner, whose lines nobody reads. */
    private static Process driver(Path churn, Path listener, String family, String netns, String target, int first,
            int span, int cycles, Path output) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(churn.toString(), listener.toString(), family, netns, target,
                String.valueOf(first), String.valueOf(span), String.valueOf(cycles), String.valueOf(first))
                .redirectErrorStream(true);
        return pb.redirectOutput(output == null ? ProcessBuilder.Redirect.DISCARD
                : ProcessBuilder.Redirect.to(output.toFile())).start();
    }

    private static List<String> warnings(ApplianceProcess appliance) throws IOException {
        return appliance.output().lines().filter(l -> l.contains("WARN") || l.contains("ERROR")).toList();
    }
}
