package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import jakarta.json.JsonObject;

import org.flexwall.testing.Await;
import org.flexwall.testing.Commands.Result;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * "What would break?" answered from a real capture: tcpdump on the appliance's wan0 records real traffic while the
 * appliance (nftables hook) filters it — socat to the trusted echo service and to an untrusted listener from the
 * outside namespace, ping from outside, socat and ping from the appliance to servers outside — and then
 * {@code flexwall replay} (bin/flexwall, through the control socket) runs the capture through the engine's private
 * copy. Each flow's replayed verdict must be what the live firewall did with the same packets: what the client saw
 * answered, and what the appliance answered in the capture itself. The live firewall must not notice the replay.
 */
class CaptureReplaySystemTest {
    private static final int OUTSIDE_TCP = 8080, OUTSIDE_UDP = 5353;
    @TempDir
    static Path work;
    private static ApplianceLab lab;
    private static Path capture;
    private static String trustedAnswer, untrustedAnswer, outboundTcpAnswer, outboundUdpAnswer;
    private static Result inboundPing, outboundPing;

    @BeforeAll
    static void captureTrafficTheLiveFirewallDecided() throws Exception {
        OutsideNetwork.require();
        lab = ApplianceLab.start(work, JsonObject.EMPTY_JSON_OBJECT);
        OutsideNetwork outside = lab.outside;
        outside.startOutside("socat", "TCP-LISTEN:" + OUTSIDE_TCP + ",reuseaddr,fork", "EXEC:/bin/cat");
        outside.startOutside("socat", "UDP-RECVFROM:" + OUTSIDE_UDP + ",fork", "EXEC:/bin/cat");
        ApplianceLab.awaitListening(outside.namespace, "tcp", OUTSIDE_TCP);
        ApplianceLab.awaitListening(outside.namespace, "udp", OUTSIDE_UDP);
        capture = work.resolve("traffic.pcap");
        try (Capture c = Capture.start(capture)) {
            trustedAnswer = outside.outside("sh", "-c", "echo trusted | timeout 10 socat -T3 - TCP:"
                    + ApplianceLab.APPLIANCE + ":" + ApplianceLab.TRUSTED).output();
            untrustedAnswer = outside.outside("sh", "-c", "echo untrusted | timeout 10 socat -T3 - TCP:"
                    + ApplianceLab.APPLIANCE + ":" + UntrustedTargets.TCP + ",connect-timeout=3").output();
            outside.outside("sh", "-c", "echo untrusted | timeout 10 socat -T1 - UDP:" + ApplianceLab.APPLIANCE + ":"
                    + UntrustedTargets.UDP);
            inboundPing = outside.outside("ping", "-c", "2", "-W", "1", ApplianceLab.APPLIANCE);
            outboundTcpAnswer = OutsideNetwork.here("sh", "-c", "echo outbound | timeout 10 socat -T3 - TCP:"
                    + OutsideNetwork.OUTSIDE_V4 + ":" + OUTSIDE_TCP).output();
            outboundUdpAnswer = OutsideNetwork.here("sh", "-c", "echo datagram | timeout 10 socat -T3 - UDP:"
                    + OutsideNetwork.OUTSIDE_V4 + ":" + OUTSIDE_UDP).output();
            outboundPing = OutsideNetwork.here("ping", "-c", "2", "-W", "2", OutsideNetwork.OUTSIDE_V4);
        }
    }

    @AfterAll
    static void stopLab() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void liveFirewallAnsweredTheTrustedServiceAndOutboundFlowsAndDroppedTheProbes() {
        assertTrue(trustedAnswer.contains("trusted"), trustedAnswer);
        assertFalse(untrustedAnswer.contains("untrusted"), untrustedAnswer);
        assertEquals(0, lab.untrusted.delivered(), "probes delivered to the untrusted listeners");
        assertNotEquals(0, inboundPing.exitCode(), "the appliance answered ping: " + inboundPing.output());
        assertTrue(outboundTcpAnswer.contains("outbound"), outboundTcpAnswer);
        assertTrue(outboundUdpAnswer.contains("datagram"), outboundUdpAnswer);
        assertEquals(0, outboundPing.exitCode(), outboundPing.output());
    }

    @Test
    void replayPassesTheTrustedServiceAndRepliesToOutboundFlowsAndDropsTheProbesAsTheLiveFirewallDid()
            throws Exception {
        JsonObject report = lab.flexwall("replay", capture.toString());
        assertTrue(report.getBoolean("ok"), report.toString());
        List<JsonObject> flows = flows(report);

        JsonObject trusted = inbound(flows, "tcp", ApplianceLab.TRUSTED);
        assertEquals("pass", trusted.getString("verdict"), trusted.toString());
        assertEquals("bypass: permitted tcp/" + ApplianceLab.TRUSTED, trusted.getString("reason"));
        assertEquals(0, trusted.getInt("dropped"), trusted.toString());

        JsonObject untrustedTcp = inbound(flows, "tcp", UntrustedTargets.TCP);
        assertEquals("drop", untrustedTcp.getString("verdict"), untrustedTcp.toString());
        assertEquals("icf: unsolicited", untrustedTcp.getString("reason"));
        JsonObject untrustedUdp = inbound(flows, "udp", UntrustedTargets.UDP);
        assertEquals("drop", untrustedUdp.getString("verdict"), untrustedUdp.toString());
        JsonObject pingIn = flows.stream().filter(f -> f.getString("protocol").equals("icmp")
                && f.getString("direction").equals("inbound") && f.getInt("sourcePort") == 8).findFirst()
                .orElseThrow(() -> new AssertionError("no inbound echo request in " + flows));
        assertEquals("drop", pingIn.getString("verdict"), pingIn.toString());

        JsonObject tcpReply = flows.stream().filter(f -> f.getString("direction").equals("inbound")
                && f.getString("protocol").equals("tcp") && f.getInt("sourcePort") == OUTSIDE_TCP).findFirst()
                .orElseThrow(() -> new AssertionError("no reply from the outside TCP server in " + flows));
        assertEquals("pass", tcpReply.getString("verdict"), tcpReply.toString());
        assertEquals("icf: reply to an outbound flow", tcpReply.getString("reason"));
        JsonObject udpReply = flows.stream().filter(f -> f.getString("direction").equals("inbound")
                && f.getString("protocol").equals("udp") && f.getInt("sourcePort") == OUTSIDE_UDP).findFirst()
                .orElseThrow(() -> new AssertionError("no reply from the outside UDP server in " + flows));
        assertEquals("icf: reply to an outbound flow", udpReply.getString("reason"));
        JsonObject pingReply = flows.stream().filter(f -> f.getString("protocol").equals("icmp")
                && f.getString("direction").equals("inbound") && f.getInt("sourcePort") == 0).findFirst()
                .orElseThrow(() -> new AssertionError("no inbound echo reply in " + flows));
        assertEquals("icf: reply to an outbound flow", pingReply.getString("reason"));
    }

    @Test
    void everyInboundTcpFlowThatTheApplianceAnsweredInTheCaptureIsPassedByTheReplayAndNoOther() throws Exception {
        List<JsonObject> flows = flows(lab.flexwall("replay", capture.toString(), "--flows", "10000"));
        List<JsonObject> inboundTcp = flows.stream().filter(f -> f.getString("direction").equals("inbound")
                && f.getString("protocol").equals("tcp")).toList();
        assertTrue(inboundTcp.size() >= 3, inboundTcp.toString());
        for (JsonObject in : inboundTcp) {
            boolean answered = flows.stream().anyMatch(f -> f.getString("direction").equals("outbound")
                    && f.getString("source").equals(in.getString("destination"))
                    && f.getInt("sourcePort") == in.getInt("destinationPort")
                    && f.getString("destination").equals(in.getString("source"))
                    && f.getInt("destinationPort") == in.getInt("sourcePort"));
            assertEquals(answered ? "pass" : "drop", in.getString("verdict"), in.toString());
        }
    }

    @Test
    void tableNamesEachFlowWithItsVerdictAndReason() throws Exception {
        Result r = ApplianceImage.flexwall(lab.data, "replay", capture.toString());
        assertEquals(0, r.exitCode(), r.output());
        System.out.println(r.output());
        assertTrue(r.output().contains("VERDICT  DIR"), r.output());
        assertTrue(r.output().lines().anyMatch(l -> l.startsWith("drop") && l.contains(":" + UntrustedTargets.TCP + " ")
                && l.endsWith("icf: unsolicited")), r.output());
        assertTrue(r.output().lines().anyMatch(l -> l.startsWith("pass") && l.contains(":" + ApplianceLab.TRUSTED + " ")
                && l.endsWith("bypass: permitted tcp/" + ApplianceLab.TRUSTED)), r.output());
    }

    @Test
    void replayLeavesTheLiveFirewallsPortsAndCountersAsTheyWere() throws Exception {
        JsonObject portsBefore = lab.flexwall("ports");
        JsonObject engineBefore = lab.flexwall("status").getJsonObject("engine");

        assertTrue(lab.flexwall("replay", capture.toString(), "--ports", "tcp/7001,udp/7002").getBoolean("ok"));
        assertTrue(lab.flexwall("replay", capture.toString()).getBoolean("ok"));

        assertEquals(portsBefore, lab.flexwall("ports"));
        assertEquals(engineBefore, lab.flexwall("status").getJsonObject("engine"));
    }

    @Test
    void givenPortsReplaceTheLiveOnesSoTheUntrustedProbeWouldPass() throws Exception {
        JsonObject report = lab.flexwall("replay", capture.toString(), "--ports", "tcp/" + UntrustedTargets.TCP);
        assertEquals("the request", report.getString("portsFrom"));
        List<JsonObject> flows = flows(report);
        assertEquals("bypass: permitted tcp/" + UntrustedTargets.TCP,
                inbound(flows, "tcp", UntrustedTargets.TCP).getString("reason"));
        JsonObject trusted = inbound(flows, "tcp", ApplianceLab.TRUSTED);
        assertEquals("drop", trusted.getString("verdict"), trusted.toString()); // its SYN: the connection breaks
        assertEquals("icf: unsolicited", trusted.getString("reason"), trusted.toString());
    }

    @Test
    void truncatedNonCaptureAndMissingFilesEachEndInOneMessageAndAFailureAndTheFirewallGoesOn() throws Exception {
        JsonObject portsBefore = lab.flexwall("ports");
        JsonObject engineBefore = lab.flexwall("status").getJsonObject("engine");
        byte[] whole = Files.readAllBytes(capture);
        Path truncated = Files.write(work.resolve("truncated.pcap"), Arrays.copyOf(whole, whole.length - 30));
        Path text = Files.writeString(work.resolve("notes.pcap"), "not a capture\n".repeat(20));
        Path missing = work.resolve("missing.pcap");

        for (var c : List.of(List.of(truncated.toString(), " is damaged after "),
                List.of(text.toString(), " is not a capture libpcap can read"),
                List.of(missing.toString(), "no such file: "))) {
            Result r = ApplianceImage.flexwall(lab.data, "replay", c.get(0));
            assertNotEquals(0, r.exitCode(), r.output());
            List<String> lines = r.output().lines().toList();
            assertEquals(1, lines.size(), r.output());
            assertTrue(lines.get(0).startsWith("flexwall: ") && lines.get(0).contains(c.get(1)), r.output());
        }

        assertEquals(portsBefore, lab.flexwall("ports"));
        assertEquals(engineBefore, lab.flexwall("status").getJsonObject("engine"));
        assertTrue(lab.flexwall("status").getBoolean("ok"));
        assertTrue(lab.probe(1).startsWith("ok "), "the trusted service still answers");
    }

    @Test
    void withPacketBypassStoppedAReplayIsRefusedAndWhenItRunsAgainTheReplayDecidesWithIt() throws Exception {
        WebConsole console = lab.console();
        console.bundleAction("org.flexwall.packet-bypass", "stop");
        try {
            Result r = ApplianceImage.flexwall(lab.data, "replay", capture.toString());
            assertNotEquals(0, r.exitCode(), r.output());
            assertEquals("flexwall: replay needs packet bypass and the stateful ICF running; packet bypass is not "
                    + "(see flexwall status)", r.output().strip());
        } finally {
            console.bundleAction("org.flexwall.packet-bypass", "start");
        }
        JsonObject report = awaitReplay();
        assertEquals("bypass: permitted tcp/" + ApplianceLab.TRUSTED,
                inbound(flows(report), "tcp", ApplianceLab.TRUSTED).getString("reason"));
        assertTrue(lab.probe(1).startsWith("ok "), "the trusted service answers again");
    }

    /** The replay once the restarted bundle's factory service is bound (SCR registers it as the bundle starts). */
    private static JsonObject awaitReplay() throws Exception {
        return Await.value("a replay once packet bypass is back", Duration.ofSeconds(20), () -> {
            JsonObject report = lab.flexwall("replay", capture.toString());
            return report.getBoolean("ok") ? report : null;
        }, () -> lab.flexwall("replay", capture.toString()).toString());
    }

    private static List<JsonObject> flows(JsonObject report) {
        assertTrue(report.getBoolean("ok"), report.toString());
        return report.getJsonArray("flowList").getValuesAs(JsonObject.class);
    }

    private static JsonObject inbound(List<JsonObject> flows, String protocol, int port) {
        return flows.stream().filter(f -> f.getString("direction").equals("inbound")
                && f.getString("protocol").equals(protocol) && f.getInt("destinationPort") == port).findFirst()
                .orElseThrow(() -> new AssertionError("no inbound " + protocol + " flow to " + port + " in " + flows));
    }
}
