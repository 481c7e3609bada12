package org.flexwall.packet.parse;

import static org.flexwall.packet.testing.PacketBuilder.ACK;
import static org.flexwall.packet.testing.PacketBuilder.FIN;
import static org.flexwall.packet.testing.PacketBuilder.RST;
import static org.flexwall.packet.testing.PacketBuilder.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HexFormat;

import org.flexwall.api.packet.Direction;
import org.flexwall.packet.testing.PacketBuilder;
import org.junit.jupiter.api.Test;

/** {@link Ip#destination}: what a first-packet hook asks the port store about, from a copy that may be cut short. */
class IpDestinationTest {
    static final String US = "192.0.2.1", THEM = "198.51.100.7", US6 = "2001:db8::1", THEM6 = "2001:db8:ffff::7";

    static int destination(byte[] p, boolean newFlowOnly) {
        return Ip.destination(ByteView.of(p, Direction.INBOUND), newFlowOnly);
    }

    @Test
    void ipv4TcpSynYieldsItsDestination() {
        int d = destination(PacketBuilder.v4(THEM, US).tcp(40000, 8080, SYN).windowScale(7).build(), true);
        assertEquals(Ip.TCP, Ip.protocolOf(d));
        assertFalse(Ip.isV6Destination(d));
        assertEquals(8080, Ip.portOf(d));
    }

    @Test
    void ipv4UdpYieldsItsDestination() {
        int d = destination(PacketBuilder.v4(THEM, US).udp(40000, 53).payload(12).build(), true);
        assertEquals(Ip.UDP, Ip.protocolOf(d));
        assertEquals(53, Ip.portOf(d));
    }

    @Test
    void ipv6WalksItsExtensionHeaders() {
        int d = destination(PacketBuilder.v6(THEM6, US6).hopByHop().routing(2).destinationOptions(16)
                .authentication().tcp(40000, 443, SYN).build(), true);
        assertEquals(Ip.TCP, Ip.protocolOf(d));
        assertTrue(Ip.isV6Destination(d));
        assertEquals(443, Ip.portOf(d));
    }

    @Test
    void aCopyCutAfterTheTcpFlagsOrTheUdpHeaderStillYieldsTheDestination() {
        byte[] syn = PacketBuilder.v6(THEM6, US6).hopByHop().tcp(40000, 22, SYN).windowScale(7).payload(400).build();
        assertEquals(22, Ip.portOf(destination(Arrays.copyOf(syn, 40 + 8 + 14), true)));
        assertEquals(Ip.NO_DESTINATION, destination(Arrays.copyOf(syn, 40 + 8 + 13), true));
        byte[] datagram = PacketBuilder.v4(THEM, US).udp(40000, 5353).payload(1200).build();
        assertEquals(5353, Ip.portOf(destination(Arrays.copyOf(datagram, 64), true)));
        assertEquals(Ip.NO_DESTINATION, destination(Arrays.copyOf(datagram, 27), true));
    }

    @Test
    void aSegmentThatIsNotABareSynDoesNotOpenAFlow() {
        for (int flags : new int[] { SYN | ACK, ACK, RST, RST | ACK, FIN | ACK, SYN | FIN, SYN | RST, 0 }) {
            byte[] p = PacketBuilder.v4(THEM, US).tcp(40000, 22, flags).build();
            assertEquals(Ip.NO_DESTINATION, destination(p, true), "flags " + flags);
        }
        byte[] synAck = PacketBuilder.v4(THEM, US).tcp(40000, 22, SYN | ACK).build();
        assertEquals(22, Ip.portOf(destination(synAck, false)));
    }

    @Test
    void fragmentsTruncatedHeadersAndOtherProtocolsHaveNoDestination() {
        byte[] ok = PacketBuilder.v4(THEM, US).tcp(40000, 80, SYN).build();
        byte[] badIhl = ok.clone();
        badIhl[0] = 0x44;
        byte[] longIhl = ok.clone();
        longIhl[0] = 0x4f; // a 60-byte header in a 40-byte packet
        byte[] version5 = ok.clone();
        version5[0] = 0x55;
        for (byte[] p : new byte[][] { badIhl, longIhl, version5,
                PacketBuilder.v4(THEM, US).udp(40000, 53).payload(64).fragment(0, true, 7).build(),
                PacketBuilder.v4(THEM, US).raw(17, new byte[64]).fragment(72, false, 7).build(),
                PacketBuilder.v6(THEM6, US6).fragment(0, true, 7).udp(40000, 53).build(),
                PacketBuilder.v6(THEM6, US6).fragment(0, false, 7).udp(40000, 53).build(), // atomic fragment
                PacketBuilder.v4(THEM, US).echoRequest(1, 1).build(),
                PacketBuilder.v4(THEM, US).udp(40000, 0).build(),
                Arrays.copyOf(ok, 33), new byte[0], new byte[] { 0x45 } }) {
            assertEquals(Ip.NO_DESTINATION, destination(p, true), HexFormat.of().formatHex(p));
        }
    }
}
