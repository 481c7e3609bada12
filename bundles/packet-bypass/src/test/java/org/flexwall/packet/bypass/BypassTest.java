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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.PacketDecider;
import org.flexwall.api.packet.Verdict;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.PortStore;
import org.flexwall.api.port.Protocol;
import org.flexwall.icf.StatefulIcf;
import org.flexwall.packet.parse.ByteView;
import org.flexwall.packet.testing.PacketBuilder;
import org.junit.jupiter.api.Test;

/** The bypass in front of the real stateful ICF, fed real packet bytes. */
class BypassTest {
    static final long S = 1_000_000_000L;
    static final String US = "192.0.2.1", THEM = "198.51.100.7", US6 = "2001:db8::1", THEM6 = "2001:db8:ffff::7";

    long now = 5_000 * S;
    final StatefulIcf icf = new StatefulIcf(StatefulIcf.Settings.defaults());
    PacketDecider stage = p -> icf.decide(p, now);
    final PortBitmap bitmap = new PortBitmap();
    final Bypass bypass = new Bypass(bitmap, () -> stage, () -> now);

    BypassTest() {
        bitmap.set(Protocol.TCP, AddressFamily.IPV4, 22, true);
        bitmap.set(Protocol.TCP, AddressFamily.IPV6, 22, true);
        bitmap.set(Protocol.UDP, AddressFamily.IPV4, 5632, true);
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
    void aClosedPortClosesForItsFamilyAlone() {
        bitmap.set(Protocol.TCP, AddressFamily.IPV4, 22, false);
        assertEquals(DROP, send(INBOUND, in(50000, 22, SYN)));
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v6(THEM6, US6).tcp(50000, 22, SYN)));
    }

    @Test
    void aReplacedTableHoldsExactlyTheSnapshot() {
        bitmap.replace(Set.of(new PortKey(Protocol.TCP, AddressFamily.IPV4, 8080)));
        assertEquals(ACCEPT, send(INBOUND, in(50000, 8080, SYN)));
        assertEquals(DROP, send(INBOUND, in(50000, 22, SYN)));
        assertEquals(1, bitmap.size());
    }

    @Test
    void aFirstPacketHasItsSocketVerifiedByTheStoreWhetherOrNotItsPortIsInTheTable() {
        List<String> asked = new ArrayList<>();
        PortStore store = new StoreAnswering((protocol, family, port) -> {
            asked.add(protocol + "/" + family + "/" + port);
            return port == 22;
        });
        assertTrue(bypass.firstPacket(Protocol.TCP, AddressFamily.IPV4, 22, store), "in the table, socket verified");
        assertFalse(bypass.firstPacket(Protocol.TCP, AddressFamily.IPV4, 8080, store), "not in the table, refused");
        assertFalse(bypass.firstPacket(Protocol.TCP, AddressFamily.IPV4, 22, null), "no store: nothing is verified");

        assertEquals(List.of("TCP/IPV4/22", "TCP/IPV4/8080"), asked);
        assertEquals(2, bypass.count("first packets asked: port in the table"));
        assertEquals(1, bypass.count("first packets asked: port not in the table"));
        assertEquals(1, bypass.count("first packets admitted: socket verified"));
        assertEquals(1, bypass.count("first packets refused"));
        assertEquals(1, bypass.count("first packets dropped: no port store"));
    }

    interface PermitNow {
        boolean permitNow(Protocol protocol, AddressFamily family, int port);
    }

    /** A port store that answers permitNow as told and permits nothing else. */
    record StoreAnswering(PermitNow answer) implements PortStore {
        @Override
        public List<PermittedPort> permitted() {
            return List.of();
        }

        @Override
        public boolean permitNow(Protocol protocol, AddressFamily family, int port) {
            return answer.permitNow(protocol, family, port);
        }

        @Override
        public List<ListeningSocket> refused() {
            return List.of();
        }
    }
}
