package org.flexwall.icf;

import static org.flexwall.api.packet.Direction.FORWARD_FROM_LAN;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.Verdict;
import org.flexwall.packet.parse.ByteView;
import org.flexwall.packet.testing.PacketBuilder;
import org.junit.jupiter.api.Test;

class StatefulIcfTest {
    static final long S = 1_000_000_000L;
    static final String US = "192.0.2.1", THEM = "198.51.100.7", US6 = "2001:db8::1", THEM6 = "2001:db8:ffff::7";

    StatefulIcf icf = new StatefulIcf(StatefulIcf.Settings.defaults());
    long now = 1_000 * S;

    Verdict send(Direction direction, PacketBuilder b) {
        return icf.decide(ByteView.of(b.build(), direction), now);
    }

    static PacketBuilder out(int sport, int dport, int flags) {
        return PacketBuilder.v4(US, THEM).tcp(sport, dport, flags);
    }

    static PacketBuilder in(int sport, int dport, int flags) {
        return PacketBuilder.v4(THEM, US).tcp(sport, dport, flags);
    }

    /** Opens 40000 -> 443 with ISN 1000 (ours) and 5000 (theirs). */
    void connect() {
        assertEquals(ACCEPT, send(OUTBOUND, out(40000, 443, SYN).seq(1000).windowScale(7)));
        assertEquals(ACCEPT, send(INBOUND, in(443, 40000, SYN | ACK).seq(5000).ack(1001).windowScale(7)));
        assertEquals(ACCEPT, send(OUTBOUND, out(40000, 443, ACK).seq(1001).ack(5001).window(512)));
    }

    @Test
    void repliesToAnOutboundTcpConnectionPassUntilItCloses() {
        connect();
        assertEquals(ACCEPT, send(INBOUND, in(443, 40000, ACK | PSH).seq(5001).ack(1001).payload(1400)));
        assertEquals(ACCEPT, send(OUTBOUND, out(40000, 443, FIN | ACK).seq(1001).ack(6401)));
        assertEquals(ACCEPT, send(INBOUND, in(443, 40000, FIN | ACK).seq(6401).ack(1002)));
        now += 121 * S; // closing timeout over
        assertEquals(DROP, send(INBOUND, in(443, 40000, ACK).seq(6402).ack(1002)));
    }

    @Test
    void unsolicitedTcpToAClosedPortIsDroppedWhateverItsFlags() {
        for (int flags : new int[] { SYN, SYN | ACK, ACK, RST, RST | ACK, FIN | ACK, 0, FIN | PSH | URG, SYN | FIN,
                SYN | RST, FIN }) {
            assertEquals(DROP, send(INBOUND, in(443, 40000, flags).seq(77).ack(1001)), "flags " + flags);
        }
        assertEquals(0, icf.count("replies accepted"));
    }

    @Test
    void nullAndXmasScansAreDroppedEvenOnAKnownFlow() {
        connect();
        assertEquals(DROP, send(INBOUND, in(443, 40000, 0).seq(5001).ack(1001)));
        assertEquals(DROP, send(INBOUND, in(443, 40000, FIN | PSH | URG).seq(5001).ack(1001)));
        assertEquals(2, icf.count("malformed: invalid TCP flags"));
    }

    @Test
    void synAckThatDoesNotAcknowledgeOurSynIsDropped() {
        assertEquals(ACCEPT, send(OUTBOUND, out(40000, 443, SYN).seq(1000)));
        assertEquals(DROP, send(INBOUND, in(443, 40000, SYN | ACK).seq(5000).ack(4242)));
        assertEquals(DROP, send(INBOUND, in(443, 40000, ACK).seq(5000).ack(1001))); // no SYN-ACK yet
        assertEquals(DROP, send(INBOUND, in(443, 40001, SYN | ACK).seq(5000).ack(1001))); // other port
        assertEquals(ACCEPT, send(INBOUND, in(443, 40000, SYN | ACK).seq(5000).ack(1001)));
    }

    @Test
    void refusedConnectionLetsItsResetThrough() {
        assertEquals(ACCEPT, send(OUTBOUND, out(40000, 443, SYN).seq(1000)));
        assertEquals(DROP, send(INBOUND, in(443, 40000, RST | ACK).ack(99)));
        assertEquals(ACCEPT, send(INBOUND, in(443, 40000, RST | ACK).ack(1001)));
        assertEquals(DROP, send(INBOUND, in(443, 40000, SYN | ACK).seq(5000).ack(1001)));
    }

    @Test
    void segmentsOutsideTheWindowAreDropped() {
        connect();
        // blind injection: right ports, sequence numbers far from the connection's
        assertEquals(DROP, send(INBOUND, in(443, 40000, RST).seq(5001 + (1 << 30))));
        assertEquals(DROP, send(INBOUND, in(443, 40000, ACK).seq(5001 - (1 << 28)).ack(1001)));
        assertEquals(DROP, send(INBOUND, in(443, 40000, ACK).seq(5001).ack(1001 + 100_000))); // acks unsent data
        assertEquals(DROP, send(INBOUND, in(443, 40000, ACK).seq(5001).ack(1001 - (1 << 24)))); // ancient ack
        assertEquals(4, icf.count("dropped out of window"));
        // still open: an in-window RST closes it, after which nothing comes in
        assertEquals(ACCEPT, send(INBOUND, in(443, 40000, RST).seq(5001)));
        assertEquals(DROP, send(INBOUND, in(443, 40000, ACK).seq(5001).ack(1001)));
    }

    @Test
    void windowScaleWidensWhatIsInWindow() {
        connect(); // our window 512 << 7 = 65536
        assertEquals(ACCEPT, send(INBOUND, in(443, 40000, ACK).seq(5001 + 60_000).ack(1001).payload(1000)));
        assertEquals(DROP, send(INBOUND, in(443, 40000, ACK).seq(5001 + 60_000 + 200_000).ack(1001)));
    }

    @Test
    void retransmittedSynAckIsAcceptedOnlyIfIdentical() {
        connect();
        assertEquals(ACCEPT, send(INBOUND, in(443, 40000, SYN | ACK).seq(5000).ack(1001)));
        assertEquals(DROP, send(INBOUND, in(443, 40000, SYN | ACK).seq(9999).ack(1001)));
        assertEquals(DROP, send(INBOUND, in(443, 40000, SYN).seq(5000)));
    }

    @Test
    void outboundSynExpiresWithoutAnswer() {
        assertEquals(ACCEPT, send(OUTBOUND, out(40000, 443, SYN).seq(1000)));
        now += 61 * S;
        assertEquals(DROP, send(INBOUND, in(443, 40000, SYN | ACK).seq(5000).ack(1001)));
    }

    @Test
    void forwardedFlowFromTheLanAdmitsItsReplies() {
        PacketBuilder lanOut = PacketBuilder.v4("10.1.1.5", THEM).tcp(50000, 80, SYN).seq(7);
        assertEquals(ACCEPT, icf.decide(ByteView.of(lanOut.build(), FORWARD_FROM_LAN), now));
        byte[] reply = PacketBuilder.v4(THEM, "10.1.1.5").tcp(80, 50000, SYN | ACK).seq(100).ack(8).build();
        assertEquals(ACCEPT, icf.decide(ByteView.of(reply, FORWARD_FROM_WAN), now));
        byte[] toOtherHost = PacketBuilder.v4(THEM, "10.1.1.6").tcp(80, 50000, SYN | ACK).seq(100).ack(8).build();
        assertEquals(DROP, icf.decide(ByteView.of(toOtherHost, FORWARD_FROM_WAN), now));
    }

    @Test
    void tcpOverIpv6WithExtensionHeadersIsTracked() {
        assertEquals(ACCEPT, send(OUTBOUND, PacketBuilder.v6(US6, THEM6).tcp(40000, 443, SYN).seq(1)));
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v6(THEM6, US6).destinationOptions(8)
                .tcp(443, 40000, SYN | ACK).seq(9).ack(2)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v6(THEM6, "2001:db8::2").tcp(443, 40000, ACK).seq(10).ack(2)));
    }

    @Test
    void connectionsAreRecognisedAgainAfterARestartFromTheirNextOutboundSegment() {
        assertEquals(ACCEPT, send(OUTBOUND, out(40000, 443, ACK).seq(1001).ack(5001)));
        assertEquals(ACCEPT, send(INBOUND, in(443, 40000, ACK).seq(5001).ack(1001).payload(100)));
        StatefulIcf.Settings d = StatefulIcf.Settings.defaults();
        icf = new StatefulIcf(new StatefulIcf.Settings(d.capacity(), d.maxProbe(), d.synSent(), d.established(),
                d.closing(), d.closed(), d.udp(), d.udpReplied(), d.icmp(), false, d.fragmentSlots(), d.fragments()));
        assertEquals(ACCEPT, send(OUTBOUND, out(40000, 443, ACK).seq(1001).ack(5001)));
        assertEquals(DROP, send(INBOUND, in(443, 40000, ACK).seq(5001).ack(1001).payload(100)));
    }

    // --- UDP -------------------------------------------------------------------------------------------------------

    @Test
    void udpReplyWithinTimeoutPassesAndAfterItIsDropped() {
        assertEquals(ACCEPT, send(OUTBOUND, PacketBuilder.v4(US, THEM).udp(53000, 53).payload(30)));
        now += 29 * S;
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v4(THEM, US).udp(53, 53000).payload(100)));
        now += 179 * S; // answered flows live 180 s after their last packet
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v4(THEM, US).udp(53, 53000).payload(100)));
        now += 181 * S;
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).udp(53, 53000).payload(100)));
    }

    @Test
    void unansweredUdpFlowExpiresAfterItsTimeout() {
        assertEquals(ACCEPT, send(OUTBOUND, PacketBuilder.v4(US, THEM).udp(53000, 53)));
        now += 31 * S;
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).udp(53, 53000)));
    }

    @Test
    void udpFromAnotherPortOrHostIsNoReply() {
        assertEquals(ACCEPT, send(OUTBOUND, PacketBuilder.v4(US, THEM).udp(53000, 53)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).udp(54, 53000)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4("198.51.100.8", US).udp(53, 53000)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).udp(53, 53001)));
    }

    @Test
    void fragmentsOfAnAcceptedReplyFollowIt() {
        send(OUTBOUND, PacketBuilder.v4(US, THEM).udp(53000, 53));
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v4(THEM, US).udp(53, 53000).payload(1472)
                .fragment(0, true, 777)));
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v4(THEM, US).raw(17, new byte[600]).fragment(1480, false,
                777)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).raw(17, new byte[600]).fragment(1480, false,
                778)));
        // IPv6: the same through the fragment header
        send(OUTBOUND, PacketBuilder.v6(US6, THEM6).udp(53000, 53));
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v6(THEM6, US6).fragment(0, true, 99).udp(53, 53000)
                .payload(1400)));
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v6(THEM6, US6).fragment(1408, false, 99).raw(17,
                new byte[100])));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v6(THEM6, US6).fragment(1408, false, 98).raw(17,
                new byte[100])));
    }

    // --- ICMP ------------------------------------------------------------------------------------------------------

    @Test
    void portUnreachableAboutAKnownFlowPassesAndAboutAnUnknownOneIsDropped() {
        byte[] ours = PacketBuilder.v4(US, THEM).udp(53000, 53).payload(20).build();
        assertEquals(ACCEPT, icf.decide(ByteView.of(ours, OUTBOUND), now));
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v4(THEM, US).icmpError(3, 3, ours)));
        byte[] notOurs = PacketBuilder.v4(US, THEM).udp(53001, 53).build();
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).icmpError(3, 3, notOurs)));
        // from a router on the path, about our TCP SYN
        byte[] syn = out(40000, 443, SYN).seq(1).build();
        icf.decide(ByteView.of(syn, OUTBOUND), now);
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v4("203.0.113.1", US).icmpError(11, 0, syn)));
        // quoting a packet that was not sent by the address the error comes to
        byte[] spoofed = PacketBuilder.v4("192.0.2.99", THEM).udp(53000, 53).build();
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).icmpError(3, 3, spoofed)));
    }

    @Test
    void icmpv6ErrorsAboutKnownFlowsPass() {
        byte[] ours = PacketBuilder.v6(US6, THEM6).udp(53000, 53).payload(1300).build();
        icf.decide(ByteView.of(ours, OUTBOUND), now);
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v6("2001:db8:1::1", US6).icmpError(2, 0, ours)));
        byte[] other = PacketBuilder.v6(US6, THEM6).udp(53001, 53).build();
        assertEquals(DROP, send(INBOUND, PacketBuilder.v6(THEM6, US6).icmpError(1, 4, other)));
    }

    @Test
    void echoReplyToOurRequestPassesAndUnsolicitedEchoIsDropped() {
        assertEquals(ACCEPT, send(OUTBOUND, PacketBuilder.v4(US, THEM).echoRequest(4242, 1)));
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v4(THEM, US).echoReply(4242, 1)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).echoReply(4243, 1)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4("198.51.100.9", US).echoReply(4242, 1)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).echoRequest(4242, 1)));
        now += 31 * S;
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).echoReply(4242, 2)));
        // IPv6
        assertEquals(ACCEPT, send(OUTBOUND, PacketBuilder.v6(US6, THEM6).echoRequest(7, 1)));
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v6(THEM6, US6).echoReply(7, 1)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v6(THEM6, US6).echoRequest(7, 1)));
    }

    @Test
    void neighbourDiscoveryPassesOnlyFromTheLink() {
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v6("fe80::2", US6).icmp(135, 0, 0).hopLimit(255)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v6("fe80::2", US6).icmp(135, 0, 0).hopLimit(64)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v6("fe80::2", US6).icmp(137, 0, 0).hopLimit(255)));
    }

    @Test
    void otherProtocolsPassOutboundAndNeverInbound() {
        assertEquals(ACCEPT, send(OUTBOUND, PacketBuilder.v4(US, THEM).raw(47, new byte[24])));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).raw(47, new byte[24])));
    }

    // --- the table's bound -----------------------------------------------------------------------------------------

    StatefulIcf small() {
        StatefulIcf.Settings d = StatefulIcf.Settings.defaults();
        return new StatefulIcf(new StatefulIcf.Settings(64, 16, d.synSent(), d.established(), d.closing(),
                d.closed(), d.udp(), d.udpReplied(), d.icmp(), true, 64, d.fragments()));
    }

    @Test
    void tableFullOfEstablishedFlowsRefusesNewFlowsAndForgetsNone() {
        icf = small();
        List<Integer> established = new ArrayList<>();
        for (int port = 10000; port < 10200; port++) {
            if (send(OUTBOUND, out(port, 443, SYN).seq(port)) == DROP) {
                continue; // its probe window is full of established flows
            }
            assertEquals(ACCEPT, send(INBOUND, in(443, port, SYN | ACK).seq(1).ack(port + 1)));
            established.add(port);
        }
        assertTrue(established.size() >= 48, "filled " + established.size() + " of 64 slots");
        assertTrue(icf.count("new flow refused: table full") > 0);
        // a flood of new outbound flows of every kind evicts none of them
        for (int port = 20000; port < 21000; port++) {
            send(OUTBOUND, out(port, 443, SYN).seq(port));
            send(OUTBOUND, PacketBuilder.v4(US, THEM).udp(port, 53));
            send(OUTBOUND, PacketBuilder.v4(US, THEM).echoRequest(port, 1));
        }
        for (int port : established) {
            assertEquals(ACCEPT, send(INBOUND, in(443, port, ACK).seq(2).ack(port + 1)), "flow " + port);
        }
        assertEquals(0, icf.count("embryonic flows evicted"));
    }

    @Test
    void embryonicFlowsMakeRoomForNewOnes() {
        icf = small();
        for (int port = 10000; port < 10500; port++) {
            assertEquals(ACCEPT, send(OUTBOUND, out(port, 443, SYN).seq(port)));
        }
        assertEquals(0, icf.count("new flow refused: table full"));
        assertTrue(icf.count("embryonic flows evicted") > 0);
        assertEquals(ACCEPT, send(INBOUND, in(443, 10499, SYN | ACK).seq(1).ack(10500)));
    }

    @Test
    void expiredEstablishedFlowsMakeRoomAgain() {
        icf = small();
        for (int port = 10000; port < 10200; port++) {
            if (send(OUTBOUND, out(port, 443, SYN).seq(port)) == ACCEPT) {
                send(INBOUND, in(443, port, SYN | ACK).seq(1).ack(port + 1));
            }
        }
        assertEquals(DROP, send(OUTBOUND, out(30000, 443, SYN).seq(1)));
        now += 86401 * S;
        assertEquals(ACCEPT, send(OUTBOUND, out(30000, 443, SYN).seq(1)));
    }
}
