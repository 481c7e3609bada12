package org.flexwall.hook.nfqueue;

import org.flexwall.api.packet.PacketView;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;

/**
 * The minimal parse of a queued packet: IP version, transport protocol and destination port. Nothing in the packet is
 * trusted; anything that does not parse cleanly is {@link #MALFORMED} and gets dropped.
 */
final class FirstPacket {
    /** Returned for every packet that does not parse, and for protocols other than TCP and UDP. */
    static final int MALFORMED = -1;

    private static final int TCP = 6;
    private static final int UDP = 17;
    private static final int MAX_EXTENSION_HEADERS = 8;

    private FirstPacket() {
    }

    /**
     * The destination of a packet as {@code ipv6 << 24 | protocol << 16 | port}, or {@link #MALFORMED}.
     *
     * @param newFlowOnly require what the kernel rule queues: a TCP segment must be a bare SYN (no ACK, RST, FIN)
     */
    static int destination(PacketView p, boolean newFlowOnly) {
        int len = p.length();
        if (len < 1) {
            return MALFORMED;
        }
        int version = p.byteAt(0) >>> 4;
        int protocol;
        int l4;
        int ipv6;
        if (version == 4) {
            l4 = (p.byteAt(0) & 0x0f) * 4;
            if (len < 20 || l4 < 20) {
                return MALFORMED;
            }
            int fragment = ((p.byteAt(6) & 0x3f) << 8) | p.byteAt(7); // more-fragments bit and offset
            if (fragment != 0) {
                return MALFORMED; // conntrack reassembles before us: a fragment here is an attack or a bug
            }
            protocol = p.byteAt(9);
            ipv6 = 0;
        } else if (version == 6) {
            if (len < 40) {
                return MALFORMED;
            }
            protocol = p.byteAt(6);
            l4 = 40;
            ipv6 = 1;
            for (int i = 0; i < MAX_EXTENSION_HEADERS && isSkippableExtension(protocol); i++) {
                if (l4 + 2 > len) {
                    return MALFORMED;
                }
                protocol = p.byteAt(l4);
                l4 += (p.byteAt(l4 + 1) + 1) * 8;
            }
        } else {
            return MALFORMED;
        }
        if (protocol != TCP && protocol != UDP) {
            return MALFORMED; // also a fragment header (44) or a chain longer than we follow
        }
        if (l4 + (protocol == TCP ? 14 : 8) > len) {
            return MALFORMED;
        }
        int port = (p.byteAt(l4 + 2) << 8) | p.byteAt(l4 + 3);
        if (port == 0) {
            return MALFORMED;
        }
        if (newFlowOnly && protocol == TCP && (p.byteAt(l4 + 13) & 0x17) != 0x02) {
            return MALFORMED; // FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10: only a bare SYN opens a flow
        }
        return ipv6 << 24 | protocol << 16 | port;
    }

    private static boolean isSkippableExtension(int header) {
        return header == 0 || header == 43 || header == 60; // hop-by-hop, routing, destination options
    }

    static Protocol protocol(int destination) {
        return ((destination >>> 16) & 0xff) == TCP ? Protocol.TCP : Protocol.UDP;
    }

    static AddressFamily family(int destination) {
        return (destination >>> 24) == 1 ? AddressFamily.IPV6 : AddressFamily.IPV4;
    }

    static int protocolNumber(int destination) {
        return (destination >>> 16) & 0xff;
    }

    static int port(int destination) {
        return destination & 0xffff;
    }
}
