package org.flexwall.packet.parse;

import org.flexwall.api.packet.PacketView;

/**
 * Parses the IP and transport headers of a {@link PacketView} without trusting a single field and without
 * allocating: the result is one {@code long} (a descriptor), or a negative reason when the packet is malformed.
 * Never reads past {@link PacketView#length()}.
 *
 * <p>Descriptor bits: 0–15 offset of the transport header, 16–23 protocol (the last next-header of an IPv6 chain),
 * 24 IPv6, 25 non-first fragment (no transport header), 26 first fragment, 27–34 TCP flags, 35–50 offset of the IPv6
 * fragment header (0 for IPv4).
 *
 * <p>The one packet parser of flexwall (module libs/packet-parse): each bundle that reads packets (packet-bypass,
 * stateful-icf, hook-nfqueue) embeds a private copy of this package, so a fix ships with a bundle update and no
 * refresh of the api.
 */
public final class Ip {
    public static final int ICMP = 1, TCP = 6, UDP = 17, ICMPV6 = 58;
    public static final int FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16, URG = 32;

    /** Longest IPv6 extension-header chain walked; longer chains are dropped (RFC 7045 allows limits). */
    public static final int MAX_EXTENSION_HEADERS = 8;

    // Malformed reasons: parse returns -reason. REASONS[reason] names each for the counters.
    public static final int BAD_VERSION = 1, TRUNCATED = 2, BAD_HEADER_LENGTH = 3, BAD_TOTAL_LENGTH = 4,
            BAD_CHECKSUM = 5, BAD_FRAGMENT = 6, TINY_FRAGMENT = 7, BAD_EXTENSION_CHAIN = 8,
            TOO_MANY_EXTENSION_HEADERS = 9, ROUTING_TYPE_0 = 10, TRUNCATED_TRANSPORT = 11, BAD_TRANSPORT_LENGTH = 12,
            BAD_TCP_FLAGS = 13, PORT_ZERO = 14, JUMBOGRAM = 15;
    public static final String[] REASONS = { "", "bad IP version", "truncated IP header", "bad header length",
            "total length beyond buffer", "bad IPv4 header checksum", "bad fragment", "tiny/overlapping fragment",
            "bad extension header chain", "too many extension headers", "routing header type 0",
            "truncated transport header", "bad transport length", "invalid TCP flags", "port 0",
            "jumbogram (unsupported)" };

    /** What {@link #destination} returns for a packet that cannot open a flow to a TCP or UDP port. */
    public static final int NO_DESTINATION = -1;

    private static final long V6 = 1L << 24, NON_FIRST = 1L << 25, FIRST = 1L << 26;

    // How much of the datagram the view holds: all of it; the part an ICMP error quotes; a copy cut after the headers.
    private static final int WHOLE = 0, INNER = 1, HEAD = 2;

    /** TCP flag combinations a real stack sends (PSH, ECE, CWR ignored); NULL, XMAS, SYN+FIN... are not. */
    private static final boolean[] VALID_FLAGS = new boolean[64];

    static {
        for (int f : new int[] { SYN, SYN | URG, SYN | ACK, RST, RST | ACK, FIN | ACK, FIN | ACK | URG, ACK,
                ACK | URG }) {
            VALID_FLAGS[f] = true;
        }
    }

    private Ip() {
    }

    /**
     * Parses a whole packet as a hook received it: every length must fit. The IPv4 header checksum is left to
     * {@link #headerChecksumValid}: it guards against corruption on the wire, not against an attacker (who computes
     * it), and the kernel has checked it before any netfilter hook.
     */
    public static long parse(PacketView p) {
        return parse(p, 0, p.length(), WHOLE);
    }

    /** Whether the IPv4 header checksum of a parsed whole packet holds (IPv6 has none). */
    public static boolean headerChecksumValid(PacketView p, long d) {
        return isV6(d) || checksum(p, 0, (p.byteAt(0) & 0x0f) * 4) == 0xffff;
    }

    /**
     * Parses the IP packet that starts at {@code base}, within {@code limit}. An {@code inner} packet is the one an
     * ICMP error quotes: it may be cut short after its first 8 transport bytes, which is all that is needed.
     */
    public static long parse(PacketView p, int base, int limit, boolean inner) {
        return parse(p, base, limit, inner ? INNER : WHOLE);
    }

    /**
     * The destination of a packet a hook queued to learn whether it may open a flow, as
     * {@code ipv6 << 24 | protocol << 16 | port}, or {@link #NO_DESTINATION} when it does not parse, is a fragment
     * (conntrack reassembles before the hooks: a fragment there is an attack or a bug) or is neither TCP nor UDP.
     * The view may end anywhere after the transport header (a hook may ask the kernel for the first bytes only):
     * lengths are checked as far as the view goes.
     *
     * @param newFlowOnly a TCP segment must be a bare SYN (no ACK, RST, FIN), as the kernel rule queues it
     */
    public static int destination(PacketView p, boolean newFlowOnly) {
        long d = parse(p, 0, p.length(), HEAD);
        if (d < 0 || !hasPorts(d) || firstFragment(d) || fragmentHeader(d) != 0) {
            return NO_DESTINATION;
        }
        int protocol = protocol(d);
        if (newFlowOnly && protocol == TCP && (tcpFlags(d) & (FIN | SYN | RST | ACK)) != SYN) {
            return NO_DESTINATION;
        }
        return (isV6(d) ? 1 << 24 : 0) | protocol << 16 | destinationPort(p, d);
    }

    /** The protocol number (TCP or UDP) of a {@link #destination}. */
    public static int protocolOf(int destination) {
        return destination >>> 16 & 0xff;
    }

    /** Whether a {@link #destination} is an IPv6 one. */
    public static boolean isV6Destination(int destination) {
        return destination >>> 24 == 1;
    }

    /** The port of a {@link #destination}. */
    public static int portOf(int destination) {
        return destination & 0xffff;
    }

    private static long parse(PacketView p, int base, int limit, int mode) {
        if (limit - base < 1) {
            return -TRUNCATED;
        }
        int version = p.byteAt(base) >>> 4;
        return version == 4 ? v4(p, base, limit, mode) : version == 6 ? v6(p, base, limit, mode) : -BAD_VERSION;
    }

    private static long v4(PacketView p, int base, int limit, int mode) {
        if (limit - base < 20) {
            return -TRUNCATED;
        }
        int ihl = (p.byteAt(base) & 0x0f) * 4;
        int total = u16(p, base + 2);
        if (ihl < 20 || ihl > limit - base) {
            return -BAD_HEADER_LENGTH;
        }
        if (total < ihl || (mode == WHOLE && total > limit - base)) {
            return -BAD_TOTAL_LENGTH;
        }
        int fragment = u16(p, base + 6);
        if ((fragment & 0x8000) != 0) {
            return -BAD_FRAGMENT; // the reserved bit
        }
        int offset = (fragment & 0x1fff) * 8;
        int protocol = p.byteAt(base + 9);
        int end = Math.min(base + total, limit);
        if (offset != 0) {
            // RFC 1858: a fragment that could overwrite the TCP header (ports, flags) is an attack
            return protocol == TCP && offset < 20 ? -TINY_FRAGMENT : pack(base + ihl, protocol, NON_FIRST, 0, 0);
        }
        return transport(p, base + ihl, end, protocol, (fragment & 0x2000) != 0 ? FIRST : 0, 0, mode);
    }

    private static long v6(PacketView p, int base, int limit, int mode) {
        if (limit - base < 40) {
            return -TRUNCATED;
        }
        int payload = u16(p, base + 4);
        if (payload == 0) {
            return -JUMBOGRAM;
        }
        if (mode == WHOLE && payload > limit - base - 40) {
            return -BAD_TOTAL_LENGTH;
        }
        int end = Math.min(base + 40 + payload, limit);
        int next = p.byteAt(base + 6);
        return isExtensionHeader(next) ? extensionChain(p, base + 40, end, next, mode)
                : transport(p, base + 40, end, next, V6, 0, mode); // the common case, kept small to be inlined
    }

    private static boolean isExtensionHeader(int next) {
        return next == 0 || next == 60 || next == 43 || next == 51 || next == 44;
    }

    /** Walks the extension headers that start at {@code off} (the first one's type is {@code next}). */
    private static long extensionChain(PacketView p, int off, int end, int next, int mode) {
        int fragmentHeader = 0;
        long flags = V6;
        for (int n = 0;; n++) {
            int length;
            switch (next) {
            case 0: // hop-by-hop: only right after the IPv6 header (RFC 8200 4.1)
                if (n != 0) {
                    return -BAD_EXTENSION_CHAIN;
                }
                // fall through
            case 60: // destination options
                length = 8;
                break;
            case 43: // routing
                if (off + 4 > end) {
                    return -BAD_EXTENSION_CHAIN;
                }
                if (p.byteAt(off + 2) == 0) {
                    return -ROUTING_TYPE_0; // RFC 5095: deprecated, an amplification tool
                }
                length = 8;
                break;
            case 51: // authentication header: length in 4-byte units, minus 2
                length = 4;
                break;
            case 44: // fragment
                if (fragmentHeader != 0) {
                    return -BAD_EXTENSION_CHAIN; // two fragment headers
                }
                if (off + 8 > end) {
                    return -BAD_EXTENSION_CHAIN;
                }
                fragmentHeader = off;
                int field = u16(p, off + 2);
                if ((field & 0xfff8) != 0) {
                    int protocol = p.byteAt(off);
                    return protocol == TCP && (field & 0xfff8) < 20 ? -TINY_FRAGMENT
                            : pack(off + 8, protocol, flags | NON_FIRST, 0, fragmentHeader);
                }
                if ((field & 1) != 0) {
                    flags |= FIRST;
                }
                length = -8;
                break;
            default:
                return transport(p, off, end, next, flags, fragmentHeader, mode);
            }
            if (n >= MAX_EXTENSION_HEADERS) {
                return -TOO_MANY_EXTENSION_HEADERS;
            }
            if (off + 2 > end) {
                return -BAD_EXTENSION_CHAIN;
            }
            int size = length < 0 ? -length : length == 4 ? (p.byteAt(off + 1) + 2) * 4 : (p.byteAt(off + 1) + 1) * 8;
            if (off + size > end) {
                return -BAD_EXTENSION_CHAIN;
            }
            next = p.byteAt(off);
            off += size;
        }
    }

    private static long transport(PacketView p, int off, int end, int protocol, long flags, int fragmentHeader,
            int mode) {
        boolean v6 = (flags & V6) != 0, inner = mode == INNER, whole = mode == WHOLE;
        int available = end - off;
        int tcpFlags = 0;
        if (protocol == TCP || protocol == UDP || protocol == (v6 ? ICMPV6 : ICMP)) {
            // a first fragment must hold the whole header too (RFC 7112); a head only needs the TCP flags
            if (available < (protocol != TCP || inner ? 8 : whole ? 20 : 14)) {
                return -TRUNCATED_TRANSPORT;
            }
        }
        if (protocol == TCP || protocol == UDP) {
            if (u16(p, off) == 0 || u16(p, off + 2) == 0) {
                return -PORT_ZERO;
            }
        }
        if (!inner && protocol == TCP) {
            int dataOffset = (p.byteAt(off + 12) >>> 4) * 4;
            if (dataOffset < 20 || (whole && dataOffset > available)) {
                return -BAD_TRANSPORT_LENGTH;
            }
            tcpFlags = p.byteAt(off + 13);
            if (!VALID_FLAGS[tcpFlags & 0x3f & ~PSH]) {
                return -BAD_TCP_FLAGS;
            }
        } else if (!inner && protocol == UDP) {
            int length = u16(p, off + 4);
            // a first fragment carries only part of the datagram its length field describes
            if (length < 8 || (whole && (flags & FIRST) == 0 && length > available)) {
                return -BAD_TRANSPORT_LENGTH;
            }
        }
        return pack(off, protocol, flags, tcpFlags, fragmentHeader);
    }

    private static long pack(int l4, int protocol, long flags, int tcpFlags, int fragmentHeader) {
        if (l4 > 0xffff) {
            return -BAD_HEADER_LENGTH; // only an ICMP error quoting a packet at the very end of a jumbo-sized one
        }
        return l4 | (long) protocol << 16 | flags | (long) tcpFlags << 27 | (long) fragmentHeader << 35;
    }

    // --- reading a descriptor --------------------------------------------------------------------------------------

    public static int transportOffset(long d) {
        return (int) (d & 0xffff);
    }

    public static int protocol(long d) {
        return (int) (d >>> 16) & 0xff;
    }

    public static boolean isV6(long d) {
        return (d & V6) != 0;
    }

    /** A fragment after the first: it carries no transport header. */
    public static boolean nonFirstFragment(long d) {
        return (d & NON_FIRST) != 0;
    }

    /** The first fragment of a fragmented packet (its later fragments will follow). */
    public static boolean firstFragment(long d) {
        return (d & FIRST) != 0;
    }

    public static int tcpFlags(long d) {
        return (int) (d >>> 27) & 0xff;
    }

    /** Offset of the IPv6 fragment header, 0 if none (or IPv4). */
    public static int fragmentHeader(long d) {
        return (int) (d >>> 35) & 0xffff;
    }

    /** TCP or UDP with its ports present. */
    public static boolean hasPorts(long d) {
        int protocol = protocol(d);
        return (protocol == TCP || protocol == UDP) && !nonFirstFragment(d);
    }

    public static int sourcePort(PacketView p, long d) {
        return u16(p, transportOffset(d));
    }

    public static int destinationPort(PacketView p, long d) {
        return u16(p, transportOffset(d) + 2);
    }

    /** End of the IP datagram a whole-packet descriptor describes (the total or payload length). */
    public static int end(PacketView p, long d) {
        return isV6(d) ? 40 + u16(p, 4) : u16(p, 2);
    }

    // --- addresses: IPv4 as IPv4-mapped IPv6, so one key layout serves both families --------------------------------

    public static long sourceHigh(PacketView p, int base, boolean v6) {
        return v6 ? u64(p, base + 8) : 0;
    }

    public static long sourceLow(PacketView p, int base, boolean v6) {
        return v6 ? u64(p, base + 16) : 0xffff_0000_0000L | u32(p, base + 12);
    }

    public static long destinationHigh(PacketView p, int base, boolean v6) {
        return v6 ? u64(p, base + 24) : 0;
    }

    public static long destinationLow(PacketView p, int base, boolean v6) {
        return v6 ? u64(p, base + 32) : 0xffff_0000_0000L | u32(p, base + 16);
    }

    // --- bytes ----------------------------------------------------------------------------------------------------

    public static int u16(PacketView p, int i) {
        return p.byteAt(i) << 8 | p.byteAt(i + 1);
    }

    public static long u32(PacketView p, int i) {
        return (long) u16(p, i) << 16 | u16(p, i + 2);
    }

    public static long u64(PacketView p, int i) {
        return u32(p, i) << 32 | u32(p, i + 4);
    }

    private static int checksum(PacketView p, int base, int length) {
        int sum = 0;
        for (int i = 0; i < length; i += 2) {
            sum += u16(p, base + i);
        }
        sum = (sum & 0xffff) + (sum >>> 16);
        return (sum & 0xffff) + (sum >>> 16);
    }
}
