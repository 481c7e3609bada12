package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
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
 * Who decides a packet's fate (FIG. 8), read from the engine counters of {@code flexwall status --json} while real
 * traffic comes from the outside namespace: Python clients ({@code prober.py}) and hping3 there, socat and bash's
 * {@code /dev/tcp} here. In {@code firstPacket} mode packet bypass answers each first packet the kernel could not
 * accept (and the Java ICF is idle: conntrack stands in for it); in {@code userspace} mode packet bypass passes the
 * permitted port's packets and the stateful ICF decides everything else.
 */
class PacketDecisionSystemTest {
    private static final String BYPASS = "packet bypass";
    private static final String ICF = "stateful ICF";
    private static final String QUEUE = "nfqueue hook";
    /** A trusted program's port opened while the kernel's set is frozen. */
    private static final int FRESH = 7100;
    /** The appliance's side of an outbound flow: an echo server in the outside namespace. */
    private static final int OUTSIDE_ECHO = 7200;
    private static final int UNSOLICITED = 5;

    @TempDir
    Path work;
    private ApplianceLab lab;

    @BeforeEach
    void needsTheNetwork() {
        OutsideNetwork.require();
    }

    @AfterEach
    void stopLab() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void inFirstPacketModePacketBypassAnswersEveryFirstPacketTheKernelCouldNotAccept() throws Exception {
        lab = ApplianceLab.start(work, JsonObject.EMPTY_JSON_OBJECT);
        // the kernel's permitted set stays as it is: every new flow to a port opened from now on is queued to Java
        WebConsole console = lab.console();
        console.bundleAction("org.flexwall.hook-nftables", "stop");
        assertEquals("Resolved", console.bundle("org.flexwall.hook-nftables").getString("state"));
        JsonObject before = engine();
        lab.outside.startHere(lab.work.resolve("bin/server").toString(),
                "TCP6-LISTEN:" + FRESH + ",ipv6only=0,reuseaddr,fork", "EXEC:/bin/cat");
        awaitCounter(BYPASS, "ports in the table", count(before, BYPASS, "ports in the table") + 2); // IPv4 and IPv6

        int connected = probe(FRESH);
        unsolicitedSyns(UntrustedTargets.CLOSED);

        JsonObject after = countersAfter("firstPacket mode, " + connected + " connections in");
        String counters = after.toString();
        assertTrue(delta(before, after, BYPASS, "first packets asked: port in the table") >= connected, counters);
        assertTrue(delta(before, after, BYPASS, "first packets admitted: socket verified") >= connected, counters);
        assertTrue(delta(before, after, BYPASS, "first packets asked: port not in the table") >= UNSOLICITED, counters);
        assertTrue(delta(before, after, BYPASS, "first packets refused") >= UNSOLICITED, counters);
        assertTrue(delta(before, after, QUEUE, "accepted") >= connected, counters);
        // conntrack stands in for the ICF in this mode: nothing goes to the Java one
        assertEquals(0, delta(before, after, BYPASS, "sent to the ICF"), counters);
        assertEquals(0, delta(before, after, ICF, "new flows") + delta(before, after, ICF, "dropped unsolicited"),
                counters);
    }

    @Test
    void inUserspaceModePacketBypassPassesThePermittedPortAndTheStatefulIcfDecidesTheRest() throws Exception {
        lab = ApplianceLab.start(work, Json.createObjectBuilder()
                .add("org.flexwall.hook.nfqueue", Json.createObjectBuilder().add("mode", "userspace")).build());
        lab.outside.startOutside("socat", "TCP-LISTEN:" + OUTSIDE_ECHO + ",reuseaddr,fork", "EXEC:/bin/cat");
        awaitOutboundEcho(); // the echo server is up, and the queue with its rules
        JsonObject before = engine();

        int connected = probe(ApplianceLab.TRUSTED);
        assertTrue(outboundEcho(), "the appliance's own connection to the outside got no answer");
        unsolicitedSyns(UntrustedTargets.CLOSED);

        JsonObject after = countersAfter("userspace mode, " + connected + " connections in, one out");
        String counters = after.toString();
        // each connection's SYN, handshake ACK and data reach the permitted port; its answers leave from it
        assertTrue(delta(before, after, BYPASS, "bypassed to permitted ports") >= 3L * connected, counters);
        assertTrue(delta(before, after, BYPASS, "outbound from permitted ports") >= 2L * connected, counters);
        // the appliance's own connection: its SYN makes a flow, the answer's SYN-ACK is that flow's reply
        assertTrue(delta(before, after, ICF, "new flows") >= 1, counters);
        assertTrue(delta(before, after, ICF, "replies accepted") >= 1, counters);
        assertTrue(delta(before, after, ICF, "dropped unsolicited") >= UNSOLICITED, counters);
        assertTrue(delta(before, after, BYPASS, "sent to the ICF") >= UNSOLICITED + 2, counters);
        assertTrue(delta(before, after, QUEUE, "dropped") >= UNSOLICITED, counters);
        assertTrue(count(after, ICF, "connection table: slots") > 0, counters);
    }

    /** The engine counters of {@code flexwall status --json}, by part. */
    private JsonObject engine() throws Exception {
        JsonObject status = lab.flexwall("status");
        assertTrue(status.containsKey("engine"), status.toString());
        return status.getJsonObject("engine");
    }

    /** The engine counters after the traffic, printed for the report. */
    private JsonObject countersAfter(String traffic) throws Exception {
        JsonObject engine = engine();
        System.out.println(traffic + " and " + UNSOLICITED + " unsolicited SYNs: " + engine);
        return engine;
    }

    private static long count(JsonObject engine, String part, String counter) {
        assertTrue(engine.containsKey(part), "no counters of " + part + ": " + engine);
        JsonObject counters = engine.getJsonObject(part);
        assertTrue(counters.containsKey(counter), part + " has no counter '" + counter + "': " + counters);
        return counters.getJsonNumber(counter).longValue();
    }

    private static long delta(JsonObject before, JsonObject after, String part, String counter) {
        return count(after, part, counter) - count(before, part, counter);
    }

    private void awaitCounter(String part, String counter, long atLeast) throws Exception {
        Await.until(part + " '" + counter + "' at " + atLeast, Duration.ofSeconds(20),
                () -> count(engine(), part, counter) >= atLeast, () -> String.valueOf(engine()));
    }

    /** New connections from the outside to {@code port} for a second, each echoing a line; how many worked. */
    private int probe(int port) throws Exception {
        String out = lab.outside.outside("python3", lab.traffic("prober.py"), ApplianceLab.APPLIANCE,
                String.valueOf(port), "1").output();
        Matcher m = Pattern.compile("ok (\\d+) failed (\\d+)").matcher(out);
        assertTrue(m.find(), out);
        assertEquals("0", m.group(2), "connections to a trusted port failed: " + out);
        assertTrue(Integer.parseInt(m.group(1)) > 0, "no connection to the trusted port: " + out);
        return Integer.parseInt(m.group(1));
    }

    /** SYNs from the outside to a port nobody may reach. */
    private void unsolicitedSyns(int port) throws Exception {
        lab.outside.outside("hping3", "-q", "-S", "-p", String.valueOf(port), "-c", String.valueOf(UNSOLICITED),
                "-i", "u20000", ApplianceLab.APPLIANCE);
    }

    /** One connection from the appliance to the outside echo server; whether its line came back. */
    private boolean outboundEcho() throws Exception {
        String out = OutsideNetwork.here("timeout", "5", "bash", "-c", "exec 3<>/dev/tcp/" + OutsideNetwork.OUTSIDE_V4
                + "/" + OUTSIDE_ECHO + " && echo outbound >&3 && read -r -t 3 line <&3 && echo \"$line\"").output();
        return out.contains("outbound");
    }

    private void awaitOutboundEcho() throws Exception {
        Await.until("an echo from the outside", Duration.ofSeconds(20),
                () -> outboundEcho() && lab.hookStatus("nfqueue").startsWith("active: userspace"),
                () -> "nfqueue: " + lab.hookStatus("nfqueue"));
    }
}
