package org.flexwall.hook.pcap.replay;

import static org.flexwall.packet.testing.PacketBuilder.ACK;
import static org.flexwall.packet.testing.PacketBuilder.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.PrivateBypassFactory;
import org.flexwall.api.packet.PrivateIcfFactory;
import org.flexwall.api.packet.Verdict;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.replay.ReplayException;
import org.flexwall.api.replay.ReplayFlow;
import org.flexwall.api.replay.ReplayReport;
import org.flexwall.icf.PrivateStatefulIcf;
import org.flexwall.icf.StatefulIcf;
import org.flexwall.packet.bypass.BypassComponent;
import org.flexwall.packet.testing.PacketBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Capture files written here, read by the real libpcap through pcap4j, decided by the real engine's stages, made by the
 * factories packet-bypass and stateful-icf register as services.
 */
class ReplayerTest {
    static final String US = "192.0.2.1", PEER = "198.51.100.7";
    static final long T0 = 1_700_000_000_000_000L;
    static final PrivateBypassFactory BYPASSES = new BypassComponent();
    static final PrivateIcfFactory ICFS = () -> new PrivateStatefulIcf(StatefulIcf.Settings.defaults());

    @TempDir
    Path dir;

    final Replayer replayer = new Replayer(Set.of(new PortKey(Protocol.TCP, AddressFamily.IPV4, 5400)),
            List.of(address(US)), BYPASSES, ICFS, 1000);

    @Test
    void permittedPortPassesThroughBypassAndUnsolicitedIsDroppedByTheIcf() throws Exception {
        Path file = new CaptureFile(LinkLayer.EN10MB)
                .add(T0, PacketBuilder.v4(PEER, US).tcp(40000, 5400, SYN).build())
                .add(T0 + 1, PacketBuilder.v4(PEER, US).tcp(40001, 6000, SYN).build()).write(dir.resolve("a.pcap"));

        ReplayReport r = replay(file);

        assertEquals(2, r.packets());
        assertEquals(1, r.passed());
        assertEquals(1, r.dropped());
        assertEquals("bypass: permitted tcp/5400", flow(r, 5400).reason());
        assertEquals(Verdict.ACCEPT, flow(r, 5400).verdict());
        assertEquals("icf: unsolicited", flow(r, 6000).reason());
        assertEquals(Verdict.DROP, flow(r, 6000).verdict());
        assertEquals(Direction.INBOUND, flow(r, 6000).direction());
    }

    @Test
    void replyToAnOutboundFlowPassesAndItsFlowIsOutbound() throws Exception {
        Path file = new CaptureFile(LinkLayer.LINUX_SLL)
                .add(T0, PacketBuilder.v4(US, PEER).tcp(41000, 80, SYN).seq(1000).build())
                .add(T0 + 100, PacketBuilder.v4(PEER, US).tcp(80, 41000, SYN | ACK).seq(5000).ack(1001).build())
                .write(dir.resolve("b.pcap"));

        ReplayReport r = replay(file);

        assertEquals(2, r.passed());
        assertEquals("icf: sent by the appliance (its flow remembered)", flow(r, 80).reason());
        assertEquals(Direction.OUTBOUND, flow(r, 80).direction());
        assertEquals("icf: reply to an outbound flow", flow(r, 41000).reason());
        assertEquals("LINUX_SLL", r.linkType());
    }

    @Test
    void captureTimestampsDriveTheIcfClockSoAReplyAfterTheUdpTimeoutIsDropped() throws Exception {
        long udpTimeoutMicros = StatefulIcf.Settings.defaults().udp() / 1000;
        Path file = new CaptureFile(LinkLayer.LINUX_SLL2)
                .add(T0, PacketBuilder.v4(US, PEER).udp(50000, 53).build())
                .add(T0 + 1000, PacketBuilder.v4(PEER, US).udp(53, 50000).build())
                .add(T0 + 10, PacketBuilder.v4(US, PEER).udp(50001, 53).build())
                .add(T0 + 10 + udpTimeoutMicros + 1_000_000, PacketBuilder.v4(PEER, US).udp(53, 50001).build())
                .write(dir.resolve("c.pcap"));

        ReplayReport r = replay(file);

        assertEquals("icf: reply to an outbound flow", flow(r, 50000).reason());
        assertEquals("icf: unsolicited", flow(r, 50001).reason());
    }

    @Test
    void bigEndianNanosecondPcapIsReadWithItsTimestamps() throws Exception {
        long udpTimeoutMicros = StatefulIcf.Settings.defaults().udp() / 1000;
        Path file = new CaptureFile(LinkLayer.EN10MB, java.nio.ByteOrder.BIG_ENDIAN, true)
                .add(T0, PacketBuilder.v4(US, PEER).udp(50000, 53).build())
                .add(T0 + 1000, PacketBuilder.v4(PEER, US).udp(53, 50000).build())
                .add(T0 + 10, PacketBuilder.v4(US, PEER).udp(50001, 53).build())
                .add(T0 + 10 + udpTimeoutMicros + 1_000_000, PacketBuilder.v4(PEER, US).udp(53, 50001).build())
                .write(dir.resolve("be-ns.pcap"));

        ReplayReport r = replay(file);

        assertEquals("icf: reply to an outbound flow", flow(r, 50000).reason());
        assertEquals("icf: unsolicited", flow(r, 50001).reason());
    }

    @Test
    void rawIpCaptureIsReadAndPacketsBetweenOtherHostsOrOurOwnAddressesAreOnlyCounted() throws Exception {
        Path file = new CaptureFile(LinkLayer.RAW)
                .add(T0, PacketBuilder.v4(PEER, US).tcp(40000, 5400, SYN).build())
                .add(T0 + 1, PacketBuilder.v4(PEER, "203.0.113.9").tcp(40000, 22, SYN).build())
                .add(T0 + 2, PacketBuilder.v4(US, US).tcp(40000, 22, SYN).build()).write(dir.resolve("d.pcap"));

        ReplayReport r = replay(file);

        assertEquals(3, r.packets());
        assertEquals(1, r.passed());
        assertEquals(1, r.transit());
        assertEquals(1, r.local2local());
        assertEquals(1, r.flows());
    }

    @Test
    void reportListsAtMostTheLimitDroppedFlowsFirstAndCountsTheRest() throws Exception {
        CaptureFile c = new CaptureFile(LinkLayer.EN10MB);
        for (int i = 0; i < 5; i++) {
            c.add(T0 + i, PacketBuilder.v4(PEER, US).tcp(40000 + i, 5400, SYN).build());
        }
        c.add(T0 + 10, PacketBuilder.v4(PEER, US).tcp(40100, 6000, SYN).build());
        ReplayReport r = replayer.replay(c.write(dir.resolve("e.pcap")), "test", List.of(US), "test", 2);

        assertEquals(6, r.flows());
        assertEquals(2, r.flowsShown().size());
        assertEquals(4, r.flowsNotShown());
        assertEquals(6000, r.flowsShown().get(0).destinationPort());
    }

    @Test
    void flowsBeyondTheMemoryBoundAreDecidedAndCountedInTheTotalsOnly() throws Exception {
        CaptureFile c = new CaptureFile(LinkLayer.EN10MB);
        for (int i = 0; i < 10; i++) {
            c.add(T0 + i, PacketBuilder.v4(PEER, US).tcp(40000 + i, 6000, SYN).build());
        }
        Replayer small = new Replayer(Set.of(), List.of(address(US)), BYPASSES, ICFS, 3);
        ReplayReport r = small.replay(c.write(dir.resolve("f.pcap")), "test", List.of(US), "test", 100);

        assertEquals(10, r.dropped());
        assertEquals(3, r.flows());
        assertEquals(7, r.flowsUntracked());
    }

    @Test
    void pcapngCaptureIsReadAsLibpcapReadsIt() throws Exception {
        Path file = Files.write(dir.resolve("a.pcapng"), CaptureFile.pcapng(T0,
                PacketBuilder.v4(PEER, US).tcp(40000, 5400, SYN).build(),
                PacketBuilder.v4(PEER, US).tcp(40001, 6000, SYN).build()));

        ReplayReport r = replay(file);

        assertEquals(2, r.packets());
        assertEquals("bypass: permitted tcp/5400", flow(r, 5400).reason());
        assertEquals("icf: unsolicited", flow(r, 6000).reason());
    }

    @Test
    void packetTheCaptureCutShortIsDecidedOnItsHeadersNotCalledMalformed() throws Exception {
        byte[] big = PacketBuilder.v4(PEER, US).tcp(40000, 5400, SYN).payload(1000).build();
        byte[] bigUnsolicited = PacketBuilder.v4(PEER, US).tcp(40001, 6000, SYN).payload(1000).build();
        Path file = new CaptureFile(LinkLayer.EN10MB).add(T0, big, 96).add(T0 + 1, bigUnsolicited, 96)
                .write(dir.resolve("snapped.pcap"));

        ReplayReport r = replay(file);

        assertEquals("bypass: permitted tcp/5400", flow(r, 5400).reason());
        assertEquals("icf: unsolicited", flow(r, 6000).reason());
        assertEquals(2 * (14 + 1000 + 40), r.bytes());
    }

    @Test
    void truncatedCaptureEndsInOneMessageNamingWhereItBroke() throws Exception {
        byte[] whole = new CaptureFile(LinkLayer.EN10MB).add(T0, PacketBuilder.v4(PEER, US).tcp(1, 5400, SYN).build())
                .add(T0 + 1, PacketBuilder.v4(PEER, US).tcp(2, 5400, SYN).payload(200).build()).bytes();
        Path file = Files.write(dir.resolve("cut.pcap"), Arrays.copyOf(whole, whole.length - 100));

        ReplayException e = assertThrows(ReplayException.class, () -> replay(file));

        assertTrue(e.getMessage().startsWith(file + " is damaged after 1 packets: "), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void fileThatIsNoCaptureIsRefusedWithOneMessage() throws Exception {
        Path file = Files.writeString(dir.resolve("notes.pcap"), "this is a text file, not a capture\n".repeat(10));

        ReplayException e = assertThrows(ReplayException.class, () -> replay(file));

        assertTrue(e.getMessage().startsWith(file + " is not a capture libpcap can read"), e.getMessage());
    }

    @Test
    void missingFileIsRefusedWithOneMessage() {
        Path file = dir.resolve("none.pcap");

        ReplayException e = assertThrows(ReplayException.class, () -> replay(file));

        assertEquals("no such file: " + file, e.getMessage());
    }

    @Test
    void captureOfALinkTypeWithoutIpIsRefused() throws Exception {
        Path file = new CaptureFile(147).add(T0, new byte[] { 1, 2, 3 }).write(dir.resolve("user0.pcap"));

        ReplayException e = assertThrows(ReplayException.class, () -> replay(file));

        assertTrue(e.getMessage().contains("is a capture of link type"), e.getMessage());
    }

    @Test
    void ipv6AddressesAreWrittenShortAsOperatorsWriteThem() throws Exception {
        assertEquals("fd00:77::2", Flows.text(address("fd00:77:0:0:0:0:0:2")));
        assertEquals("::1", Flows.text(address("::1")));
        assertEquals("2001:db8:0:1:1:1:1:1", Flows.text(address("2001:db8:0:1:1:1:1:1")));
        assertEquals("2001:0:0:1::1", Flows.text(address("2001:0:0:1:0:0:0:1")));
        assertEquals("fe80::e06c:beff:fea8:1343", Flows.text(address("fe80::e06c:beff:fea8:1343")));
    }

    private ReplayReport replay(Path file) throws ReplayException {
        return replayer.replay(file, "test", List.of(US), "test", 100);
    }

    private static ReplayFlow flow(ReplayReport r, int port) {
        return r.flowsShown().stream().filter(f -> f.destinationPort() == port || f.sourcePort() == port
                && f.direction() == Direction.INBOUND).findFirst().orElseThrow(() -> new AssertionError(
                        "no flow with port " + port + " in " + r.flowsShown()));
    }

    private static InetAddress address(String a) {
        try {
            return InetAddress.getByName(a);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
