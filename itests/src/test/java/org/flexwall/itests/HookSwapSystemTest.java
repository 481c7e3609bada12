package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import jakarta.json.Json;
import jakarta.json.JsonObject;

import org.flexwall.testing.Await;
import org.flexwall.testing.Commands;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code flexwall hook use} (issue 16, swapping hooks at runtime) on the built appliance in a namespace of its own,
 * with the outside namespace across a veth pair: hping3 floods and a capture on the wire, a session from outside to
 * the trusted echo server, and a session the appliance opened to a server outside. The stateful ICF runs without
 * loose pickup here, so the outbound session's replies pass in userspace mode only if the ICF took the flow over from
 * the kernel's conntrack at the swap.
 */
class HookSwapSystemTest {
    private static final int OUTSIDE_ECHO = 9100;
    @TempDir
    Path work;
    private ApplianceLab lab;

    @BeforeEach
    void startLab() throws Exception {
        OutsideNetwork.require();
        lab = ApplianceLab.start(work, Json.createObjectBuilder()
                .add("org.flexwall.stateful.icf", Json.createObjectBuilder().add("loosePickup", false)).build());
    }

    @AfterEach
    void stopLab() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void swappingBetweenKernelAndJavaDecidingHooksKeepsBothSessionsNewConnectionsWorkAndNothingUnsolicitedIsAnswered()
            throws Exception {
        Path capture = work.resolve("swaps.pcap");
        lab.outside.startOutside("socat", "TCP-LISTEN:" + OUTSIDE_ECHO + ",reuseaddr,fork", "EXEC:/bin/cat");
        ApplianceLab.awaitListening(lab.outside.namespace, "tcp", OUTSIDE_ECHO);
        Process inbound;
        Process outbound;
        long started = System.nanoTime();
        try (Capture c = Capture.start(capture)) {
            List<Process> flood = new java.util.ArrayList<>(UntrustedTargets.flood(lab.outside));
            // unsolicited ACKs too: a kernel or ICF that knew no flow would answer them with a RST
            flood.add(lab.outside.startOutside("hping3", "-q", "-A", "-p", String.valueOf(UntrustedTargets.TCP),
                    "-i", "u5000", ApplianceLab.APPLIANCE));
            inbound = lab.startSession();
            outbound = outboundSession();
            awaitOutboundFlows("before the first swap");

            String[] order = { "userspace", "netfilter" };
            for (int swap = 0; swap < 20; swap++) {
                String to = order[swap % 2];
                JsonObject answer = lab.flexwall("hook", "use", to);
                assertTrue(answer.getBoolean("ok"), "swap " + swap + " to " + to + ": " + answer);
                assertEquals(to, answer.getString("running"), "swap " + swap + ": " + answer); // listed after it
                String nfqueue = lab.hookStatus("nfqueue");
                assertTrue(nfqueue.startsWith("active: " + (to.equals("userspace") ? "userspace" : "firstPacket")
                        + ","), nfqueue);
                lab.awaitSessionFlows("after swap " + swap + " to " + to);
                awaitOutboundFlows("after swap " + swap + " to " + to);
                String probed = lab.probe(0.3);
                assertTrue(probed.endsWith(" failed 0") && !probed.contains("ok 0 "), "new connections after swap "
                        + swap + " to " + to + ": " + probed);
            }
            for (Process p : flood) {
                p.destroy();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }
        System.out.printf("20 swaps netfilter <-> userspace with flexwall hook use in %.1f s%n",
                (System.nanoTime() - started) / 1e9);
        System.out.println("session from outside across the swaps: " + lab.endSession(inbound));
        System.out.println("session to outside across the swaps: " + ApplianceLab.endSession(outbound, outbound()));
        long adopted = lab.flexwall("status").getJsonObject("engine").getJsonObject("stateful ICF")
                .getJsonNumber("replies accepted").longValue();
        assertTrue(adopted > 0, "the Java ICF accepted no reply: userspace mode never decided");
        lab.untrusted.assertNothingGotIn(capture, 2000);
    }

    @Test
    void theChosenHooksAreAppliedAgainAfterARestart() throws Exception {
        JsonObject answer = lab.flexwall("hook", "use", "nftables");
        assertTrue(answer.getBoolean("ok"), answer.toString());
        assertTrue(answer.getJsonArray("stopped").getValuesAs(jakarta.json.JsonString.class).stream()
                .map(jakarta.json.JsonString::getString).toList().contains("nfqueue"), answer.toString());

        lab.killAppliance();
        lab.startAppliance("second"); // the launcher starts every bundle; the kept choice stops nfqueue again
        lab.awaitTrustedPortPermitted();
        JsonObject hooks = awaitRunning("nftables");
        assertEquals("nftables", hooks.getString("choice"), hooks.toString());
        JsonObject nfqueue = hooks.getJsonArray("hooks").stream().map(h -> h.asJsonObject())
                .filter(h -> h.getString("name").equals("nfqueue")).findFirst().orElseThrow();
        assertEquals("resolved", nfqueue.getString("bundleState"), hooks.toString());
        assertFalse(nfqueue.getBoolean("active"), hooks.toString());
        String probed = lab.probe(1);
        assertTrue(probed.endsWith(" failed 0"), "the trusted port with the kernel alone: " + probed);
        JsonObject status = lab.flexwall("status");
        assertTrue(status.getBoolean("healthy"), "a hook swapped out is not missed: " + status);
    }

    @Test
    void aHookThatCannotComeUpLeavesTheRunningOnesAndTheCommandFailsNamingWhy() throws Exception {
        Commands.Result r = ApplianceImage.flexwall(lab.data, "hook", "use", "pcap");
        assertNotEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("not swapped to pcap: the pcap hook") && r.output().contains("still run"),
                r.output()); // without its interfaces configured, the pcap bridge cannot come up
        JsonObject hooks = lab.flexwall("hook");
        assertEquals("netfilter", hooks.getString("running"), hooks.toString());
        assertTrue(lab.hookStatus("nfqueue").startsWith("active: firstPacket,"), lab.hookStatus("nfqueue"));
        assertTrue(lab.probe(1).endsWith(" failed 0"));

        Commands.Result unknown = ApplianceImage.flexwall(lab.data, "hook", "use", "ndis");
        assertNotEquals(0, unknown.exitCode(), unknown.output());
        assertTrue(unknown.output().contains("no hook or set of hooks called 'ndis'"), unknown.output());
    }

    /** The hooks once {@code choice} runs and no hook bundle is still starting or stopping. */
    private JsonObject awaitRunning(String choice) throws Exception {
        return Await.value("running " + choice, Duration.ofSeconds(90), () -> {
            JsonObject hooks = lab.flexwall("hook");
            if (!hooks.getBoolean("ok", false) || !choice.equals(hooks.getString("running", ""))) {
                return null;
            }
            boolean settled = hooks.getJsonArray("hooks").stream().map(h -> h.asJsonObject().getString("bundleState"))
                    .noneMatch(state -> state.equals("starting") || state.equals("stopping"));
            return settled ? hooks : null;
        }, () -> lab.flexwall("hook") + "\n" + lab.appliance().output());
    }

    /** A session this namespace opens to the echo server outside: the stateful ICF's business, not a port's. */
    private Process outboundSession() throws Exception {
        return lab.outside.track(new ProcessBuilder("python3", lab.traffic("session.py"), OutsideNetwork.OUTSIDE_V4,
                String.valueOf(OUTSIDE_ECHO), "3600").redirectErrorStream(true)
                .redirectOutput(outbound().toFile()).start());
    }

    private void awaitOutboundFlows(String when) throws Exception {
        long before = ApplianceLab.sessionExchanged(outbound());
        Await.until("the session to outside flowing " + when, Duration.ofSeconds(20),
                () -> ApplianceLab.sessionExchanged(outbound()) >= before + 10,
                () -> ApplianceLab.sessionReport(outbound()) + "\n" + lab.appliance().output());
    }

    private Path outbound() {
        return work.resolve("outbound.out");
    }
}
