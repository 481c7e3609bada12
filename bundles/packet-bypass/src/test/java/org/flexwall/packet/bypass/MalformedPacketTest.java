package org.flexwall.packet.bypass;

import static org.flexwall.api.packet.Direction.INBOUND;
import static org.flexwall.packet.testing.PacketBuilder.ACK;
import static org.flexwall.packet.testing.PacketBuilder.FIN;
import static org.flexwall.packet.testing.PacketBuilder.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.flexwall.api.packet.Verdict;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.flexwall.icf.StatefulIcf;
import org.flexwall.packet.parse.ByteView;
import org.flexwall.packet.testing.PacketBuilder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Packets to a permitted port that are malformed in one way each: every one is dropped, for the right reason. */
class MalformedPacketTest {
    static final String US = "192.0.2.1", THEM = "198.51.100.7", US6 = "2001:db8::1", THEM6 = "2001:db8:ffff::7";

    static PacketBuilder v4() {
        return PacketBuilder.v4(THEM, US).tcp(50000, 22, SYN).seq(1);
    }

    static PacketBuilder v6() {
        return PacketBuilder.v6(THEM6, US6).tcp(50000, 22, SYN).seq(1);
    }

    /** Changes a byte of an IPv4 packet and repairs its header checksum, so only the change is wrong. */
    static byte[] v4With(int index, int value) {
        byte[] p = v4().build();
        p[index] = (byte) value;
        return rechecksum(p);
    }

    static byte[] rechecksum(byte[] p) {
        int ihl = Math.min((p[0] & 0x0f) * 4, p.length);
        p[10] = 0;
        p[11] = 0;
        int sum = 0;
        for (int i = 0; i + 1 < ihl; i += 2) {
            sum += (p[i] & 0xff) << 8 | p[i + 1] & 0xff;
        }
        while (sum >>> 16 != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        PacketBuilder.put16(p, 10, ~sum & 0xffff);
        return p;
    }

    static byte[] v6With(int index, int value) {
        byte[] p = v6().build();
        p[index] = (byte) value;
        return p;
    }

    static Arguments bad(String what, String reason, Supplier<byte[]> packet) {
        return Arguments.of(what, reason, packet);
    }

    static Stream<Arguments> packets() {
        return Stream.of(
                bad("empty", "truncated IP header", () -> new byte[0]),
                bad("version 5", "bad IP version", () -> v4With(0, 0x55)),
                bad("version 0", "bad IP version", () -> new byte[40]),
                bad("IPv4 shorter than 20 bytes", "truncated IP header", () -> Arrays.copyOf(v4().build(), 19)),
                bad("IHL 4", "bad header length", () -> v4With(0, 0x44)),
                bad("IHL beyond the buffer", "bad header length", () -> rechecksum(Arrays.copyOf(v4With(0, 0x4f),
                        50))),
                bad("total length beyond buffer", "total length beyond buffer", () -> v4With(3, 41)),
                bad("total length below IHL", "total length beyond buffer", () -> v4With(3, 19)),
                bad("bad header checksum", "bad IPv4 header checksum", () -> v4().noHeaderChecksum().build()),
                bad("reserved fragment bit", "bad fragment", () -> v4With(6, 0x80)),
                bad("tiny TCP fragment (RFC 1858)", "tiny/overlapping fragment", () -> PacketBuilder.v4(THEM, US)
                        .raw(6, new byte[16]).fragment(8, false, 1).build()),
                bad("truncated TCP header", "truncated transport header", () -> PacketBuilder.v4(THEM, US)
                        .raw(6, new byte[] { (byte) 0xc3, 0x50, 0, 22, 0, 0, 0, 1, 0, 0 }).build()),
                bad("first fragment without the TCP header", "truncated transport header",
                        () -> PacketBuilder.v4(THEM, US).raw(6, new byte[12]).fragment(0, true, 9).build()),
                bad("TCP data offset 4", "bad transport length", () -> tcpByte(12, 0x40)),
                bad("TCP data offset beyond the packet", "bad transport length", () -> tcpByte(12, 0xf0)),
                bad("SYN+FIN", "invalid TCP flags", () -> tcpByte(13, SYN | FIN)),
                bad("NULL scan", "invalid TCP flags", () -> tcpByte(13, 0)),
                bad("FIN without ACK", "invalid TCP flags", () -> tcpByte(13, FIN)),
                bad("source port 0", "port 0", () -> tcpByte(0, 0, 1, 0)),
                bad("destination port 0", "port 0", () -> PacketBuilder.v4(THEM, US).tcp(1, 0, ACK).build()),
                bad("UDP length beyond the packet", "bad transport length", () -> udpLength(100)),
                bad("UDP length below 8", "bad transport length", () -> udpLength(7)),
                bad("IPv6 shorter than 40 bytes", "truncated IP header", () -> Arrays.copyOf(v6().build(), 39)),
                bad("IPv6 payload beyond buffer", "total length beyond buffer", () -> v6With(5, 21)),
                bad("IPv6 jumbogram", "jumbogram (unsupported)", () -> { byte[] p = v6With(4, 0); p[5] = 0;
                        return p; }),
                bad("hop-by-hop not first", "bad extension header chain", () -> PacketBuilder.v6(THEM6, US6)
                        .destinationOptions(8).hopByHop().tcp(50000, 22, SYN).build()),
                bad("routing header type 0", "routing header type 0", () -> PacketBuilder.v6(THEM6, US6)
                        .routing(0).tcp(50000, 22, SYN).build()),
                bad("two fragment headers", "bad extension header chain", () -> PacketBuilder.v6(THEM6, US6)
                        .fragment(0, true, 1).fragment(0, true, 1).tcp(50000, 22, SYN).build()),
                bad("nine extension headers", "too many extension headers", MalformedPacketTest::nineOptions),
                bad("extension header beyond the payload", "bad extension header chain",
                        () -> { byte[] p = PacketBuilder.v6(THEM6, US6).destinationOptions(8).tcp(50000, 22, SYN)
                                .build(); p[41] = 100; return p; }),
                bad("IPv6 tiny TCP fragment", "tiny/overlapping fragment", () -> PacketBuilder.v6(THEM6, US6)
                        .fragment(8, false, 1).raw(6, new byte[16]).build()),
                bad("truncated IPv6 TCP header", "truncated transport header", () -> Arrays.copyOf(v6With(5, 12),
                        52)));
    }

    static byte[] tcpByte(int index, int value) {
        byte[] p = v4().build();
        p[20 + index] = (byte) value;
        return p;
    }

    static byte[] tcpByte(int index, int value, int index2, int value2) {
        byte[] p = tcpByte(index, value);
        p[20 + index2] = (byte) value2;
        return p;
    }

    static byte[] udpLength(int length) {
        byte[] p = PacketBuilder.v4(THEM, US).udp(9, 5632).payload(20).build();
        PacketBuilder.put16(p, 24, length);
        return p;
    }

    static byte[] nineOptions() {
        PacketBuilder b = PacketBuilder.v6(THEM6, US6);
        for (int i = 0; i < 9; i++) {
            b.destinationOptions(8);
        }
        return b.tcp(50000, 22, SYN).build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("packets")
    void malformedPacketToAPermittedPortIsDroppedAndCounted(String what, String reason, Supplier<byte[]> packet) {
        PortBitmap bitmap = new PortBitmap();
        for (Protocol protocol : Protocol.values()) {
            for (AddressFamily family : AddressFamily.values()) {
                for (int port : new int[] { 0, 22, 5632 }) {
                    bitmap.set(protocol, family, port, true);
                }
            }
        }
        StatefulIcf icf = new StatefulIcf(StatefulIcf.Settings.defaults());
        Bypass bypass = new Bypass(bitmap, () -> p -> icf.decide(p, 0), () -> 0);
        byte[] bytes = packet.get();
        assertEquals(Verdict.DROP, bypass.decide(ByteView.of(bytes, INBOUND)), what);
        assertEquals(1, bypass.count("malformed: " + reason), what + ": " + bypass.counters());
    }
}
