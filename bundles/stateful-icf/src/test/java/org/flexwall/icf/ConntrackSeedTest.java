package org.flexwall.icf;

import static org.flexwall.api.packet.Direction.INBOUND;
import static org.flexwall.api.packet.Direction.OUTBOUND;
import static org.flexwall.api.packet.Verdict.ACCEPT;
import static org.flexwall.api.packet.Verdict.DROP;
import static org.flexwall.packet.testing.PacketBuilder.ACK;
import static org.flexwall.packet.testing.PacketBuilder.PSH;
import static org.flexwall.packet.testing.PacketBuilder.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.Verdict;
import org.flexwall.packet.parse.ByteView;
import org.flexwall.packet.parse.Ip;
import org.flexwall.packet.testing.PacketBuilder;
import org.junit.jupiter.api.Test;

class ConntrackSeedTest {
    static final long S = 1_000_000_000L;
    static final String US = "192.0.2.1", THEM = "198.51.100.7", US6 = "2001:db8::1", THEM6 = "2001:db8:ffff::7";
    static final String TABLE = """
            ipv4     2 tcp      6 431999 ESTABLISHED src=192.0.2.1 dst=198.51.100.7 sport=40000 dport=443 src=198.51.100.7 dst=192.0.2.1 sport=443 dport=40000 [ASSURED] mark=0 use=1
            ipv4     2 tcp      6 431990 ESTABLISHED src=198.51.100.7 dst=192.0.2.1 sport=51000 dport=7000 src=192.0.2.1 dst=198.51.100.7 sport=7000 dport=51000 [ASSURED] mark=0 use=1
            ipv4     2 tcp      6 110 SYN_SENT src=192.0.2.1 dst=198.51.100.7 sport=40001 dport=443 [UNREPLIED] src=198.51.100.7 dst=192.0.2.1 sport=443 dport=40001 mark=0 use=1
            ipv4     2 tcp      6 100 TIME_WAIT src=192.0.2.1 dst=198.51.100.7 sport=40002 dport=443 src=198.51.100.7 dst=192.0.2.1 sport=443 dport=40002 [ASSURED] mark=0 use=1
            ipv4     2 udp      17 170 src=192.0.2.1 dst=198.51.100.7 sport=5353 dport=53 src=198.51.100.7 dst=192.0.2.1 sport=53 dport=5353 [ASSURED] mark=0 use=1
            ipv4     2 udp      17 20 src=192.0.2.1 dst=198.51.100.7 sport=5354 dport=53 [UNREPLIED] src=198.51.100.7 dst=192.0.2.1 sport=53 dport=5354 mark=0 use=1
            ipv4     2 icmp     1 29 src=192.0.2.1 dst=198.51.100.7 type=8 code=0 id=7 src=198.51.100.7 dst=192.0.2.1 type=0 code=0 id=7 mark=0 use=1
            ipv6     10 tcp      6 431999 ESTABLISHED src=2001:db8::1 dst=2001:db8:ffff::7 sport=40000 dport=443 src=2001:db8:ffff::7 dst=2001:db8::1 sport=443 dport=40000 [ASSURED] mark=0 use=1
            conntrack v1.4.7 (conntrack-tools): 8 flow entries have been shown.
            """;

    StatefulIcf icf = new StatefulIcf(new StatefulIcf.Settings(1024, 16, 60 * S, 86400 * S, 120 * S, 10 * S, 30 * S,
            180 * S, 30 * S, false, 64, 30 * S)); // no loose pickup: only what was adopted passes
    long now = 1_000 * S;

    Verdict send(Direction direction, PacketBuilder b) {
        return icf.decide(ByteView.of(b.build(), direction), now);
    }

    int adopt() throws Exception {
        return ConntrackSeed.adopt(icf, ConntrackSeed.parse(TABLE),
                Set.of(InetAddress.getByName(US), InetAddress.getByName(US6)), now);
    }

    @Test
    void conntracksSummaryOnStandardErrorNeverLandsInTheTableItReads() throws Exception {
        // conntrack writes its table to stdout in blocks and its summary to stderr: a shell stands in for it
        String out = ConntrackSeed.run("sh", "-c", "printf 'ipv4 2 tcp 6 431999 ESTABLISHED src=10.0.0.1 "
                + "dst=10.0.0.2 sport=40000 dport=58'; echo 'conntrack v1.4.7 (conntrack-tools): 1 flow entries "
                + "have been shown.' >&2; echo '30 src=10.0.0.2 dst=10.0.0.1 sport=5830 dport=40000 [ASSURED]'");
        assertEquals(List.of(new ConntrackSeed.Flow(false, Ip.TCP, InetAddress.getByName("10.0.0.1"),
                InetAddress.getByName("10.0.0.2"), 40000, 5830)), ConntrackSeed.parse(out));
    }

    @Test
    void aGarbledLineCostsItsOwnFlowNotTheOthers() throws Exception {
        String table = "ipv4 2 tcp 6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=40000 "
                + "dport=5830conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.\n"
                + "ipv4 2 tcp 6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=40001 dport=22 src=10.0.0.2 "
                + "dst=10.0.0.1 sport=22 dport=40001 [ASSURED] mark=0 use=1\n";
        assertEquals(List.of(new ConntrackSeed.Flow(false, Ip.TCP, InetAddress.getByName("10.0.0.1"),
                InetAddress.getByName("10.0.0.2"), 40001, 22)), ConntrackSeed.parse(table));
    }

    @Test
    void onlyEstablishedTcpAndAnsweredUdpFlowsAreTakenOver() throws Exception {
        List<ConntrackSeed.Flow> flows = ConntrackSeed.parse(TABLE);
        assertEquals(4, flows.size(), flows.toString());
        assertEquals(List.of(40000, 51000, 5353, 40000), flows.stream().map(ConntrackSeed.Flow::sourcePort).toList());
        assertEquals(4, adopt());
        assertEquals(4, adopt(), "a second seed takes the same flows over again");
        assertEquals(4, IntStream.of(icf.table().census(now)).sum(), "in the slots they had");
    }

    @Test
    void aConnectionTheIcfSawBeforeTheKernelCarriedItIsTakenOverWithConntracksWordNotItsStaleWindows()
            throws Exception {
        // Java decided when it opened (a swap to userspace, back to the kernel, and now to Java again)
        assertEquals(ACCEPT, send(OUTBOUND, PacketBuilder.v4(US, THEM).tcp(40000, 443, SYN).seq(1000)));
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v4(THEM, US).tcp(443, 40000, SYN | ACK).seq(5000)
                .ack(1001)));
        assertEquals(ACCEPT, send(OUTBOUND, PacketBuilder.v4(US, THEM).tcp(40000, 443, ACK).seq(1001).ack(5001)));
        // the kernel carried 50 MB each way meanwhile: far beyond the windows the table saw
        PacketBuilder later = PacketBuilder.v4(THEM, US).tcp(443, 40000, ACK | PSH).seq(5001 + 50_000_000)
                .ack(1001 + 50_000_000).payload(100);
        assertEquals(DROP, send(INBOUND, later), "stale windows: the replies of a live session would stall");
        adopt();
        assertEquals(ACCEPT, send(INBOUND, later));
        // a connection Java saw only open (its SYN) and the kernel finished the handshake of
        assertEquals(ACCEPT, send(OUTBOUND, PacketBuilder.v6(US6, THEM6).tcp(40000, 443, SYN).seq(1000)));
        adopt();
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v6(THEM6, US6).tcp(443, 40000, ACK | PSH).seq(70_000)
                .ack(90_000).payload(100)));
    }

    @Test
    void aTakenOverConnectionsRepliesPassFromTheirFirstSegmentWhicheverSideSpeaksFirst() throws Exception {
        adopt();
        // the server speaks first after the swap: its segment starts the windows
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v4(THEM, US).tcp(443, 40000, ACK | PSH).seq(900_000)
                .ack(77_000).payload(100)));
        assertEquals(ACCEPT, send(OUTBOUND, PacketBuilder.v4(US, THEM).tcp(40000, 443, ACK).seq(77_000)
                .ack(900_100)));
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v4(THEM, US).tcp(443, 40000, ACK | PSH).seq(900_100)
                .ack(77_000).payload(100)));
        // a client of a local service: keyed with this side as the local one
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v4(THEM, US).tcp(51000, 7000, ACK | PSH).seq(5)
                .ack(6).payload(10)));
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v6(THEM6, US6).tcp(443, 40000, ACK).seq(1).ack(2)));
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v4(THEM, US).udp(53, 5353).payload(40)));
    }

    @Test
    void whatConntrackDidNotHoldAsEstablishedStaysUnsolicited() throws Exception {
        adopt();
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).tcp(443, 40001, ACK).seq(1).ack(2)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).tcp(443, 40002, ACK).seq(1).ack(2)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).udp(53, 5354).payload(40)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).tcp(443, 40003, ACK).seq(1).ack(2)));
        // once its window is learnt, a taken-over connection checks sequence numbers again
        assertEquals(ACCEPT, send(INBOUND, PacketBuilder.v4(THEM, US).tcp(443, 40000, ACK).seq(900_000)
                .ack(77_000)));
        assertEquals(DROP, send(INBOUND, PacketBuilder.v4(THEM, US).tcp(443, 40000, ACK).seq(900_000 + (1 << 30)
                + 5).ack(77_000)));
    }
}
