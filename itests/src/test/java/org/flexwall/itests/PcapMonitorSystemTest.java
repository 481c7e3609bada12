package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.json.Json;
import jakarta.json.JsonObject;

import org.flexwall.testing.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pcap hook's monitor mode and its bad input, on the three namespaces of {@link PcapNetwork}: the Linux bridge br0
 * forwards, the monitor watches the bridge port facing outside, and the appliance runs inside.
 */
class PcapMonitorSystemTest {
    @TempDir
    Path work;
    private PcapNetwork network;
    private ApplianceLab lab;

    @BeforeEach
    void needsTheNetwork() throws Exception {
        OutsideNetwork.require();
        network = PcapNetwork.create();
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
    void theMonitorCountsWhatItWouldDropAndChangesNothing() throws Exception {
        lab = ApplianceLab.start(work, network.pcapSettings("monitor"));
        PcapLab.leaveOnlyThePcapHook(lab);
        PcapLab.awaitActive(lab);

        // an untrusted listener and a closed port answer as if nothing watched: the monitor drops nothing
        String scan = network.outside("nmap", "-n", "-Pn", "-sS", "--max-retries", "1", "-p", "7000-7003", "-oG",
                "-", PcapNetwork.INSIDE_V4).check().output();
        Map<Integer, String> states = new TreeMap<>();
        Matcher m = Pattern.compile("(\\d+)/([a-z|]+)/tcp").matcher(scan);
        while (m.find()) {
            states.put(Integer.parseInt(m.group(1)), m.group(2));
        }
        assertEquals(Map.of(ApplianceLab.TRUSTED, "open", UntrustedTargets.TCP, "open", UntrustedTargets.UDP,
                "closed", UntrustedTargets.CLOSED, "closed"), states, scan);

        // what it would have done: the SYNs to 7001-7003 dropped by the engine, the trusted port's let through
        String counters = PcapLab.counters(lab).toString();
        assertTrue(PcapLab.counter(lab, "inbound: would drop: the engine") >= 3, counters);
        assertTrue(PcapLab.counter(lab, "inbound: IP would pass") >= 1, counters);
        assertTrue(PcapLab.counter(lab, "outbound: IP would pass") >= 1, counters);
        String status = lab.hookStatus("pcap");
        assertTrue(status.startsWith("active: monitor of " + PcapNetwork.OUTSIDE_PORT) && status.contains("would drop"),
                status);
    }

    @Test
    void unconfiguredThePcapHookIsNotThereAndTheApplianceIsHealthyWithItsNetfilterHooks() throws Exception {
        lab = ApplianceLab.start(work, Json.createObjectBuilder().build());
        JsonObject status = lab.flexwall("status");
        List<String> hooks = status.getJsonArray("packetHooks").stream()
                .map(h -> h.asJsonObject().getString("name")).sorted().toList();
        assertEquals(List.of("nfqueue", "nftables"), hooks, status.toString());
        assertTrue(status.getBoolean("healthy"), status.toString());
        assertTrue(!status.getJsonObject("engine").containsKey(PcapLab.PART), status.toString());
    }

    @Test
    void anInterfaceThatDoesNotExistEndsInOneClearMessageAndTheFirewallKeepsWorking() throws Exception {
        lab = ApplianceLab.start(work, Json.createObjectBuilder().add("org.flexwall.hook.pcap",
                Json.createObjectBuilder().add("mode", "bridge").add("outsideInterface", "nosuch0")
                        .add("insideInterface", PcapNetwork.INSIDE_PORT).add("namespace", network.bridge)).build());
        String problem = awaitProblem();
        assertTrue(problem.contains("cannot capture on interface nosuch0 in namespace " + network.bridge)
                && problem.contains("(the interface does not exist)"), problem);
        assertTrue(lab.hookStatus("pcap").startsWith("not active"), lab.hookStatus("pcap"));

        // the rest of the firewall: the netfilter hooks protect, the trusted port is reachable from the outside
        assertTrue(lab.hookStatus("nftables").startsWith("baseline active"), lab.hookStatus("nftables"));
        assertTrue(lab.probe(1).contains(" failed 0"), "connections to the trusted port failed");

        // an observation window, not synchronisation: the hook retries every 5 s, and a retry that fails the same way
        // leaves no trace to wait for (that is the point); over two retries the message must not come again
        Thread.sleep(Duration.ofSeconds(11).toMillis());
        long logged = lab.appliance().output().lines().filter(l -> l.contains("nosuch0")).count();
        assertEquals(1, logged, lab.appliance().output());
        assertEquals(problem, awaitProblem(), "the retries failed in another way");
        assertTrue(lab.hookStatus("pcap").startsWith("not active"), lab.hookStatus("pcap"));
    }

    /** The pcap hook's problem once it has tried to open its interfaces. */
    private String awaitProblem() throws Exception {
        return Await.value("the pcap hook reporting a problem", Duration.ofSeconds(30), () -> lab.flexwall("status")
                .getJsonArray("packetHooks").stream().map(h -> h.asJsonObject())
                .filter(h -> h.getString("name").equals("pcap") && h.containsKey("problem"))
                .map(h -> h.getString("problem"))
                .filter(p -> !p.endsWith("not started")).findFirst().orElse(null), () -> PcapLab.status(lab));
    }
}
