package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
 * namespace connects (1 s limit), and the program is killed. IPv4 and IPv6 run at the same time, and two more
 * drivers start and kill trusted listeners on other ports all along, so the kernel's sets change under every
 * connect. Every first connect must get through: the kernel's set or the first-packet path must answer the first SYN,
 * whatever order the port store, the hooks' rule updates and the SYN come in. {@code churn.c} drives each family from
 * one process, so nothing slow stands between listen() and connect().
 */
class TrustedListenerChurnSystemTest {
    private static final int CYCLES = 1000;

    @TempDir
    Path work;

    @Test
    void everyFirstConnectToAFreshTrustedListenerSucceedsOverBothFamiliesWhileOtherListenersComeAndGo()
            throws Exception {
        assumeTrue(OutsideNetwork.available(), "needs root inside the test network namespace (run through Maven)");
        Path bin = Files.createDirectory(work.resolve("bin"));
        Path listener = Programs.compile(work, "churn/listener.c", bin.resolve("listener"));
        Path churn = Programs.compile(work, "churn/churn.c", bin.resolve("churn"));
        Path data = ApplianceImage.dataDirectory(work.resolve("data"));
        List<Process> drivers = new ArrayList<>();
        try (ApplianceProcess appliance = ApplianceProcess.startManagedOnLoopback(work, data);
                OutsideNetwork outside = OutsideNetwork.create()) {
            JsonObject answer = ApplianceImage.flexwallJson(data, "trust", listener.toString(), "listener");
            assertTrue(answer.getBoolean("ok"), answer.toString());
            String netns = "/var/run/netns/" + outside.namespace;

            // the churners first, so the sets already change when the first connect goes out
            for (String family : List.of("4", "6")) {
                drivers.add(outside.track(new ProcessBuilder(churn.toString(), listener.toString(), family, netns, "",
                        family.equals("4") ? "40000" : "45000", "5000", "1000000", "7" + family)
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()));
            }
            Map<String, Process> connecting = new TreeMap<>();
            connecting.put("ipv4", start(churn, listener, "4", netns, OutsideNetwork.APPLIANCE_V4, 20000));
            connecting.put("ipv6", start(churn, listener, "6", netns, OutsideNetwork.APPLIANCE_V6, 30000));
            drivers.addAll(connecting.values());

            Map<String, List<String>> failed = new TreeMap<>();
            Map<String, Integer> ok = new TreeMap<>();
            for (var e : connecting.entrySet()) {
                assertTrue(e.getValue().waitFor(10, TimeUnit.MINUTES), e.getKey() + " driver did not finish");
                List<String> lines = Files.readAllLines(work.resolve(e.getKey() + ".out"));
                assertEquals(0, e.getValue().exitValue(), e.getKey() + " driver failed: " + lines);
                assertEquals(CYCLES, lines.stream().filter(l -> l.startsWith("cycle ")).count(),
                        e.getKey() + " driver ran short: " + lines);
                ok.put(e.getKey(), (int) lines.stream().filter(l -> l.split(" ")[3].equals("ok")).count());
                failed.put(e.getKey(), lines.stream().filter(l -> !l.split(" ")[3].equals("ok")).toList());
            }
            for (Process churner : drivers.subList(0, 2)) {
                assertTrue(churner.isAlive(), "a churner stopped before the connects did: the race ran alone");
            }
            System.out.println("churn race: first connects ok " + ok + " of " + CYCLES + " each");
            assertEquals(Map.of("ipv4", CYCLES, "ipv6", CYCLES), ok, "first connects lost (cycle port result): "
                    + failed + "\nflexwall status: " + ApplianceImage.flexwall(data, "status").output()
                    + "\nappliance warnings: " + warnings(appliance));
        } finally {
            for (Process p : drivers) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            ApplianceImage.flexwall(data, "disable");
        }
    }

    /** A driver connecting to every listener it starts, on ports from {@code first} on; output in FAMILY.out. */
    private Process start(Path churn, Path listener, String family, String netns, String target, int first)
            throws IOException {
        String name = family.equals("4") ? "ipv4" : "ipv6";
        return new ProcessBuilder(churn.toString(), listener.toString(), family, netns, target,
                String.valueOf(first), "10000", String.valueOf(CYCLES), String.valueOf(first))
                .redirectErrorStream(true).redirectOutput(work.resolve(name + ".out").toFile()).start();
    }

    private static List<String> warnings(ApplianceProcess appliance) throws IOException {
        return appliance.output().lines().filter(l -> l.contains("WARN") || l.contains("ERROR")).toList();
    }
}
