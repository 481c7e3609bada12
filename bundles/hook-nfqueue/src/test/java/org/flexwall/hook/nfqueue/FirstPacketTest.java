package org.flexwall.hook.nfqueue;

import static org.flexwall.hook.nfqueue.Packets.ipv4;
import static org.flexwall.hook.nfqueue.Packets.ipv6;
import static org.flexwall.hook.nfqueue.Packets.view;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.junit.jupiter.api.Test;

class FirstPacketTest {
    private static final int SYN = 0x02;

    @Test
    void ipv4TcpSynYieldsItsDestination() {
        int d = FirstPacket.destination(view(ipv4(6, 8080, SYN)), true);
        assertEquals(Protocol.TCP, FirstPacket.protocol(d));
        assertEquals(AddressFamily.IPV4, FirstPacket.family(d));
        assertEquals(8080, FirstPacket.port(d));
    }

    @Test
    void ipv4UdpYieldsItsDestination() {
        int d = FirstPacket.destination(view(ipv4(17, 53, 0)), true);
        assertEquals(Protocol.UDP, FirstPacket.protocol(d));
        assertEquals(53, FirstPacket.port(d));
    }

    @Test
    void ipv6SkipsHopByHopRoutingAndDestinationOptions() {
        int d = FirstPacket.destination(view(ipv6(6, 443, SYN, 0, 43, 60)), true);
        assertEquals(Protocol.TCP, FirstPacket.protocol(d));
        assertEquals(AddressFamily.IPV6, FirstPacket.family(d));
        assertEquals(443, FirstPacket.port(d));
    }

    @Test
    void aSegmentThatIsNotABareSynDoesNotOpenAFlow() {
        for (int flags : new int[] { 0x12 /* SYN+ACK */, 0x03 /* SYN+FIN */, 0x06 /* SYN+RST */, 0x10, 0x00 }) {
            assertEquals(FirstPacket.MALFORMED, FirstPacket.destination(view(ipv4(6, 22, flags)), true),
                    "flags " + flags);
        }
        assertEquals(22, FirstPacket.port(FirstPacket.destination(view(ipv4(6, 22, 0x12)), false)));
    }

    @Test
    void fragmentsTruncatedHeadersAndOtherProtocolsAreMalformed() {
        byte[] fragment = ipv4(17, 53, 0);
        fragment[6] = 0x20; // more fragments
        byte[] later = ipv4(17, 53, 0);
        later[7] = 0x10; // offset 16
        byte[] badIhl = ipv4(6, 80, SYN);
        badIhl[0] = 0x44;
        byte[] longIhl = ipv4(6, 80, SYN);
        longIhl[0] = 0x4f; // 60-byte header in a 40-byte packet
        byte[] icmp = ipv4(1, 0, 0);
        byte[] portZero = ipv4(17, 0, 0);
        byte[] version5 = ipv4(6, 80, SYN);
        version5[0] = 0x55;
        byte[] v6Fragment = ipv6(17, 53, 0, 44);
        for (byte[] p : new byte[][] { fragment, later, badIhl, longIhl, icmp, portZero, version5, v6Fragment,
                Arrays.copyOf(ipv4(6, 80, SYN), 33), Arrays.copyOf(ipv6(17, 53, 0), 45), new byte[0],
                new byte[] { 0x45 } }) {
            assertEquals(FirstPacket.MALFORMED, FirstPacket.destination(view(p), true), Arrays.toString(p));
        }
    }

    @Test
    void randomBytesNeverThrow() {
        Random r = new Random(42);
        for (int i = 0; i < 200_000; i++) {
            byte[] b = new byte[r.nextInt(80)];
            r.nextBytes(b);
            if (b.length > 0 && r.nextBoolean()) {
                b[0] = (byte) (r.nextBoolean() ? 0x45 : 0x60); // reach deeper into the parser
            }
            FirstPacket.destination(view(b), r.nextBoolean()); // must return, whatever the bytes
        }
    }
}
