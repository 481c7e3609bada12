package org.flexwall.packet.bypass;

import static org.flexwall.api.packet.Direction.FORWARD_FROM_WAN;
import static org.flexwall.api.packet.Direction.INBOUND;
import static org.flexwall.api.packet.Direction.OUTBOUND;
import static org.flexwall.api.packet.Verdict.ACCEPT;
import static org.flexwall.api.packet.Verdict.DROP;
import static org.flexwall.packet.testing.PacketBuilder.ACK;
import static org.flexwall.packet.testing.PacketBuilder.FIN;
import static org.flexwall.packet.testing.PacketBuilder.PSH;
import static org.flexwall.packet.testing.PacketBuilder.RST;
import static org.flexwall.packet.testing.PacketBuilder.SYN;
import static org.flexwall.packet.testing.PacketBuilder.URG;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.PacketDecider;
import org.flexwall.api.packet.Verdict;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.program.TrustedProgram;
import org.flexwall.icf.StatefulIcf;
import org.flexwall.packet.testing.ByteView;
import org.flexwall.packet.testing.PacketBuilder;
import org.junit.jupiter.api.Test;

/** The bypass in front of the real stateful ICF, fed real packet bytes. */
class BypassTest {
    static final long S = 1_000_000_000L;
    static final String US = "192.0.2.1", THEM = "198.51.100.7", US6 = "2001:db8::1", THEM6 = "2001:db8:ffff::7";
    static final TrustedProgram SSHD = new TrustedProgram("sshd", Path.of("/usr/sbin/sshd"), "a".repeat(64),
            "b".repeat(32), Instant.EPOCH, false);

    long now = 5_000 * S;
    final StatefulIcf icf = new StatefulIcf(StatefulIcf.Settings.defaults());
    PacketDecider stage = p -> icf.decide(p, now);
    final PortBitmap bitmap = new PortBitmap();
    final PermittedPorts ports = new PermittedPorts(bitmap);
    final Bypass bypass = new Bypass(bitmap, () -> stage, () -> now);

    static PermittedPort port(Protocol protocol, AddressFamily family, int port, long inode) {
        return new PermittedPort(SSHD, protocol, family, port, inode, List.of(), Instant.EPOCH);
    }

    BypassTest() {
        ports.permit(port(Protocol.TCP, AddressFamily.IPV4, 22, 1));
        ports.permit(port(Protocol.TCP, AddressFamily.IPV6, 22, 1));
        ports.permit(port(Protocol.UDP, AddressFamily.IPV4, 5632, 2));
    }

    Verdict send(Direction direction, PacketBuilder b) {
        return bypass.decide(ByteView.of(b.build(), direction));
    }

    static PacketBuilder in(int sport, int dport, int flags) {
        return PacketBuilder.v4(THEM, US).tcp(sport, dport, flags);
    }

    static PacketBuilder out(int sport, int dport, int flags) {
        return PacketBuilder.v4(US, THEM).tcp(sport, dport, flags);
    }

    @Test
    void permittedPortPassesWithoutTheIcf() {
        assertEquals(ACCEPT, send(INBOUND, in(50000, 22, SYN).seq(1)));
        assertEquals(ACCEPT, send(INBOUND, in(50000, 22, ACK).seq(2).ack(99).payload(100)));
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v4(THEM, US).udp(9, 5632).payload(10)));
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v6(THEM6, US6).tcp(50000, 22, SYN).seq(1)));
        assertEquals(4, bypass.count("bypassed to permitted ports"));
        assertEquals(0, bypass.count("sent to the ICF"));
    }

    @Test
    void closedPortIsDropped() {
        assertEquals(DROP, send(INBOUND, in(50000, 23, SYN).seq(1)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).udp(9, 22))); // TCP 22 is not UDP 22
        assertEquals(DROP, send(INBOUND, PacketBuilder.v6(THEM6, US6).udp(9, 5632))); // UDP/IPv4 only
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).raw(47, new byte[30])));
        assertEquals(4, icf.count("dropped unsolicited"));
    }

    @Test
    void forwardedPacketsNeverUseTheBypassOfLocalPorts() {
        assertEquals(DROP, send(FORWARD_FROM_WAN, PacketBuilder.v4(THEM, "10.1.1.5").tcp(50000, 22, SYN)));
    }

    @Test
    void replyToAnOutboundTcpFlowPassesAndUnsolicitedSegmentsToAClosedPortDoNot() {
        assertEquals(ACCEPT, send(OUTBOUND, out(40000, 443, SYN).seq(1000)));
        assertEquals(ACCEPT, send(INBOUND, in(443, 40000, SYN | ACK).seq(5000).ack(1001)));
        assertEquals(ACCEPT, send(INBOUND, in(443, 40000, ACK | PSH).seq(5001).ack(1001).payload(200)));
        int[][] scans = { { SYN | ACK }, { ACK }, { RST }, { FIN | ACK }, { 0 }, { FIN | PSH | URG }, { FIN } };
        for (int[] flags : scans) {
            assertEquals(DROP, send(INBOUND, in(443, 40001, flags[0]).seq(5001).ack(1001)), "flags " + flags[0]);
            assertEquals(DROP, send(INBOUND, in(443, 81, flags[0]).seq(1).ack(1)), "flags " + flags[0]);
        }
    }

    @Test
    void udpReplyPassesWithinTheTimeoutAndNotAfter() {
        assertEquals(ACCEPT, send(OUTBOUND, PacketBuilder.v4(US, THEM).udp(53000, 53).payload(30)));
        now += 20 * S;
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v4(THEM, US).udp(53, 53000).payload(60)));
        assertEquals(ACCEPT, send(OUTBOUND, PacketBuilder.v4(US, THEM).udp(53001, 53).payload(30)));
        now += 31 * S;
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).udp(53, 53001).payload(60)));
    }

    @Test
    void portUnreachableAboutAKnownFlowPassesAndAboutAnUnknownOneIsDropped() {
        byte[] query = PacketBuilder.v4(US, THEM).udp(53000, 53).payload(30).build();
        assertEquals(ACCEPT, bypass.decide(ByteView.of(query, OUTBOUND)));
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v4(THEM, US).icmpError(3, 3, query)));
        byte[] other = PacketBuilder.v4(US, THEM).udp(53999, 53).build();
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).icmpError(3, 3, other)));
    }

    @Test
    void echoReplyToOurEchoRequestPassesAndUnsolicitedEchoRequestIsDropped() {
        assertEquals(ACCEPT, send(OUTBOUND, PacketBuilder.v4(US, THEM).echoRequest(77, 1)));
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v4(THEM, US).echoReply(77, 1)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).echoRequest(77, 1)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v6(THEM6, US6).echoRequest(1, 1)));
    }

    @Test
    void ipv6WithAnExtensionHeaderChainToAPermittedPortPasses() {
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v6(THEM6, US6).hopByHop().destinationOptions(16)
                .routing(2).authentication().fragment(0, false, 5).destinationOptions(8).tcp(50000, 22, SYN)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v6(THEM6, US6).hopByHop().destinationOptions(16)
                .routing(2).authentication().tcp(50000, 23, SYN)));
    }

    @Test
    void laterFragmentsFollowABypassedFirstFragmentOnly() {
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v4(THEM, US).udp(9, 5632).payload(1472).fragment(0, true,
                41)));
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v4(THEM, US).raw(17, new byte[500]).fragment(1480, false,
                41)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).raw(17, new byte[500]).fragment(1480, false,
                42)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).udp(9, 5633).payload(1472).fragment(0, true,
                43)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).raw(17, new byte[500]).fragment(1480, false,
                43)));
    }

    @Test
    void serverRepliesFromAPermittedPortLeaveNoFlowInTheTable() {
        assertEquals(ACCEPT, send(OUTBOUND, out(22, 50000, SYN | ACK).seq(1).ack(2)));
        assertEquals(0, bypass.count("sent to the ICF"));
        assertEquals(0, icf.table().census(now)[org.flexwall.icf.ConnectionTable.ESTABLISHED]);
    }

    @Test
    void withoutAnIcfOnlyPermittedPortsPass() {
        stage = null;
        assertEquals(ACCEPT, send(INBOUND, in(50000, 22, SYN)));
        assertEquals(DROP, send(OUTBOUND, out(40000, 443, SYN)));
        assertEquals(DROP, send(INBOUND, in(443, 40000, SYN | ACK)));
        assertEquals(2, bypass.count("dropped: no ICF bound"));
    }

    @Test
    void aRevokedPortClosesAndOneOfTwoSocketsKeepsItOpen() {
        ports.permit(port(Protocol.TCP, AddressFamily.IPV4, 8080, 10));
        ports.permit(port(Protocol.TCP, AddressFamily.IPV4, 8080, 11)); // SO_REUSEPORT sibling
        ports.permit(port(Protocol.TCP, AddressFamily.IPV4, 8080, 11)); // replayed: changes nothing
        ports.revoke(port(Protocol.TCP, AddressFamily.IPV4, 8080, 10));
        assertEquals(ACCEPT, send(INBOUND, in(50000, 8080, SYN)));
        ports.revoke(port(Protocol.TCP, AddressFamily.IPV4, 8080, 11));
        assertEquals(DROP, send(INBOUND, in(50000, 8080, SYN)));
        ports.revoke(port(Protocol.TCP, AddressFamily.IPV4, 22, 1));
        assertEquals(DROP, send(INBOUND, in(50000, 22, SYN)));
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v6(THEM6, US6).tcp(50000, 22, SYN)));
    }
}
