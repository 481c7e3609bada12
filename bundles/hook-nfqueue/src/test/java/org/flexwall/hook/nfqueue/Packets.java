package org.flexwall.hook.nfqueue;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.PacketView;

/** Hand-built IP packets for parser tests. */
final class Packets {
    private Packets() {
    }

    /** A view over a byte array. */
    static PacketView view(byte[] b, Direction d) {
        return new PacketView() {
            @Override
            public Direction direction() {
                return d;
            }

            @Override
            public int length() {
                return b.length;
            }

            @Override
            public int byteAt(int index) {
                return b[index] & 0xff;
            }
        };
    }

    static PacketView view(byte[] b) {
        return view(b, Direction.INBOUND);
    }

    /** IPv4 from 192.0.2.1 to 192.0.2.2 with a TCP header (flags given) or a UDP header to {@code port}. */
    static byte[] ipv4(int protocol, int port, int tcpFlags) {
        int l4 = protocol == 6 ? 20 : 8;
        byte[] b = new byte[20 + l4];
        b[0] = 0x45;
        b[2] = 0;
        b[3] = (byte) b.length;
        b[8] = 64;
        b[9] = (byte) protocol;
        b[12] = (byte) 192; b[14] = 2; b[15] = 1;
        b[16] = (byte) 192; b[18] = 2; b[19] = 2;
        b[20] = (byte) 0xc3; b[21] = 0x50; // source port 50000
        b[22] = (byte) (port >> 8);
        b[23] = (byte) port;
        if (protocol == 6) {
            b[32] = 0x50; // data offset 5
            b[33] = (byte) tcpFlags;
        } else {
            b[25] = (byte) l4; // UDP length
        }
        return b;
    }

    /** IPv6 from 2001:db8::1 to 2001:db8::2, with the given extension headers (8 bytes each) before TCP or UDP. */
    static byte[] ipv6(int protocol, int port, int tcpFlags, int... extensions) {
        int l4 = protocol == 6 ? 20 : 8;
        byte[] b = new byte[40 + 8 * extensions.length + l4];
        b[0] = 0x60;
        b[5] = (byte) (b.length - 40); // payload length
        b[6] = (byte) (extensions.length > 0 ? extensions[0] : protocol);
        b[7] = 64;
        b[8] = 0x20; b[9] = 0x01; b[10] = 0x0d; b[11] = (byte) 0xb8; b[23] = 1;
        b[24] = 0x20; b[25] = 0x01; b[26] = 0x0d; b[27] = (byte) 0xb8; b[39] = 2;
        int p = 40;
        for (int i = 0; i < extensions.length; i++) {
            b[p] = (byte) (i + 1 < extensions.length ? extensions[i + 1] : protocol);
            b[p + 1] = 0; // (0 + 1) * 8 bytes
            p += 8;
        }
        b[p] = (byte) 0xc3; b[p + 1] = 0x50; // source port 50000
        b[p + 2] = (byte) (port >> 8);
        b[p + 3] = (byte) port;
        if (protocol == 6) {
            b[p + 12] = 0x50;
            b[p + 13] = (byte) tcpFlags;
        } else {
            b[p + 5] = (byte) l4; // UDP length
        }
        return b;
    }
}
