package org.flexwall.administration.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.Verdict;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.replay.ReplayException;
import org.flexwall.api.replay.ReplayFlow;
import org.flexwall.api.replay.ReplayReport;
import org.junit.jupiter.api.Test;

import jakarta.json.JsonObject;

/** {@code flexwall replay}'s request, its options as the appliance reads them, and the report as a table. */
class ReplayCommandTest {

    @Test
    void requestCarriesTheFileAsAnAbsolutePathAndTheOptions() {
        JsonObject r = ReplayCommand.request(List.of("x.pcap", "--ports", "tcp/22,udp6/53", "--local", "10.0.0.1",
                "--flows", "5"));

        assertEquals("replay", r.getString("op"));
        assertEquals(Path.of("x.pcap").toAbsolutePath().normalize().toString(), r.getString("path"));
        assertEquals(List.of("tcp/22", "udp6/53"), r.getJsonArray("ports").getValuesAs(jakarta.json.JsonString.class)
                .stream().map(jakarta.json.JsonString::getString).toList());
        assertEquals(5, r.getInt("flows"));
    }

    @Test
    void requestWithoutAFileOrWithAFlowLimitThatIsNoNumberIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> ReplayCommand.request(List.of("--flows", "3")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ReplayCommand.request(List.of("x.pcap", "--flows", "many")));
        assertEquals("--flows takes a number of flows (1 or more), not many", e.getMessage());
    }

    @Test
    void portsNameTheirFamilyOnlyWhenAskedAndOtherProtocolsAreRefused() {
        JsonObject r = ReplayCommand.request(List.of("x.pcap", "--ports", "tcp/22,udp6/53"));

        assertEquals(Set.of(new PortKey(Protocol.TCP, AddressFamily.IPV4, 22),
                new PortKey(Protocol.TCP, AddressFamily.IPV6, 22), new PortKey(Protocol.UDP, AddressFamily.IPV6, 53)),
                ReplayOperation.ports(r.getJsonArray("ports")).orElseThrow());
        JsonObject sctp = ReplayOperation.execute((capture, options) -> {
            throw new AssertionError("replayed with bad ports");
        }, ReplayCommand.request(List.of("x.pcap", "--ports", "sctp/9")));
        assertFalse(sctp.getBoolean("ok"));
        assertTrue(sctp.getString("error").startsWith("a permitted port reads tcp/PORT"), sctp.toString());
    }

    @Test
    void whyAReplayFailedComesBackAsTheAnswersOneError() {
        JsonObject answer = ReplayOperation.execute((capture, options) -> {
            throw new ReplayException("no such file: " + capture);
        }, ReplayCommand.request(List.of("/tmp/none.pcap")));

        assertFalse(answer.getBoolean("ok"));
        assertEquals("no such file: /tmp/none.pcap", Render.text(answer));
        assertTrue(ReplayOperation.execute(null, ReplayCommand.request(List.of("/tmp/x.pcap"))).getString("error")
                .startsWith("capture replay is not running"));
    }

    @Test
    void tableListsEachFlowWithItsVerdictAndReasonAndSaysHowManyMore() {
        ReplayFlow dropped = new ReplayFlow("tcp", "198.51.100.7", 40001, "192.0.2.1", 6000, Direction.INBOUND, 2, 120,
                0, 2, Verdict.DROP, null, "icf: unsolicited");
        ReplayFlow passed = new ReplayFlow("tcp", "2001:db8::7", 40000, "2001:db8::1", 5400, Direction.INBOUND, 10,
                900, 9, 1, Verdict.ACCEPT, "bypass: permitted tcp/5400", "bypass: malformed");
        ReplayReport report = new ReplayReport("/tmp/a.pcap", "EN10MB", List.of("tcp/5400"), "the port store now",
                List.of("192.0.2.1"), "the appliance's interfaces", 13, 1100, 9, 3, 1, 0, 0, 3, List.of(dropped, passed),
                0, 2_000_000);

        String text = Render.text(ReplayOperation.json(report));

        List<String> lines = text.lines().toList();
        assertTrue(lines.get(0).startsWith("Replayed /tmp/a.pcap (EN10MB): 13 packets, 1100 bytes in 0.00 s"), text);
        assertTrue(text.contains("VERDICT  DIR  PROTO  SOURCE"), text);
        assertTrue(lines.stream().anyMatch(l -> l.matches("drop +in +tcp +198\\.51\\.100\\.7:40001 +192\\.0\\.2\\.1:6000"
                + " +2 +120 +icf: unsolicited")), text);
        assertTrue(lines.stream().anyMatch(l -> l.matches("pass +in +tcp +\\[2001:db8::7\\]:40000 +\\[2001:db8::1\\]:5400"
                + " +10 +900 +bypass: permitted tcp/5400 \\(1 dropped: bypass: malformed\\)")), text);
        assertTrue(text.endsWith("and 1 more flows (--flows N lists more)"), text);
    }
}
