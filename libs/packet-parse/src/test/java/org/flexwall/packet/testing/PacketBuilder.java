package org.flexwall.packet.testing;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Assembles real IPv4/IPv6 packets with TCP, UDP, ICMP or ICMPv6 and correct checksums (IPv4 header, transport
 * with its pseudo-header), optionally with IPv6 extension headers or as fragments. For tests and benchmarks.
 *
 * <pre>PacketBuilder.v4("198.51.100.7", "192.0.2.1").tcp(40000, 443, SYN).seq(1000).build()</pre>
 */
public final class PacketBuilder {
    public static final int FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16, URG = 32;

    private final boolean v6;
    private final byte[] source, destination;
    private int hopLimit = 64, identification = 0x1234, fragmentOffset, protocol;
    private boolean moreFragments, computeChecksum = true;
    private final List<byte[]> extensions = new ArrayList<>();
    private final List<Integer> extensionTypes = new ArrayList<>();
    // transport
    private int sourcePort, destinationPort, flags, seq, ack, window = 65535, icmpType, icmpCode, icmpRest;
    private byte[] options = new byte[0], payload = new byte[0], raw;

    private PacketBuilder(boolean v6, String source, String destination) {
        this.v6 = v6;
        this.source = address(source, v6 ? 16 : 4);
        this.destination = address(destination, v6 ? 16 : 4);
    }

    public static PacketBuilder v4(String source, String destination) {
        return new PacketBuilder(false, source, destination);
    }

    public static PacketBuilder v6(String source, String destination) {
        return new PacketBuilder(true, source, destination);
    }

    public PacketBuilder tcp(int sourcePort, int destinationPort, int flags) {
        this.protocol = 6;
        this.sourcePort = sourcePort;
        this.destinationPort = destinationPort;
        this.flags = flags;
        return this;
    }

    public PacketBuilder udp(int sourcePort, int destinationPort) {
        this.protocol = 17;
        this.sourcePort = sourcePort;
        this.destinationPort = destinationPort;
        return this;
    }

    /** ICMP (IPv4) or ICMPv6 (IPv6); {@code rest} is the 4 bytes after the checksum (id and sequence for echo). */
    public PacketBuilder icmp(int type, int code, int rest) {
        this.protocol = v6 ? 58 : 1;
        this.icmpType = type;
        this.icmpCode = code;
        this.icmpRest = rest;
        return this;
    }

    public PacketBuilder echoRequest(int id, int sequence) {
        return icmp(v6 ? 128 : 8, 0, id << 16 | sequence);
    }

    public PacketBuilder echoReply(int id, int sequence) {
        return icmp(v6 ? 129 : 0, 0, id << 16 | sequence);
    }

    /** An ICMP error quoting {@code quoted} (cut to what a router sends: IPv4 header + 8, IPv6 up to 1232 bytes). */
    public PacketBuilder icmpError(int type, int code, byte[] quoted) {
        icmp(type, code, 0);
        int ihl = (quoted[0] & 0x0f) * 4;
        this.payload = Arrays.copyOf(quoted, Math.min(quoted.length, v6 ? 1232 : ihl + 8));
        return this;
    }

    /** Any transport bytes, taken as they are (for fragments after the first and unknown protocols). */
    public PacketBuilder raw(int protocol, byte[] bytes) {
        this.protocol = protocol;
        this.raw = bytes;
        return this;
    }

    public PacketBuilder seq(int seq) {
        this.seq = seq;
        return this;
    }

    public PacketBuilder ack(int ack) {
        this.ack = ack;
        return this;
    }

    public PacketBuilder window(int window) {
        this.window = window;
        return this;
    }

    /** Adds a TCP window scale option (padded with a NOP). */
    public PacketBuilder windowScale(int shift) {
        this.options = new byte[] { 1, 3, 3, (byte) shift };
        return this;
    }

    public PacketBuilder payload(byte[] payload) {
        this.payload = payload;
        return this;
    }

    public PacketBuilder payload(int length) {
        return payload(new byte[length]);
    }

    public PacketBuilder hopLimit(int hopLimit) {
        this.hopLimit = hopLimit;
        return this;
    }

    /** IPv4: sets the fragment fields. IPv6: adds a fragment header at this point of the chain. */
    public PacketBuilder fragment(int offsetBytes, boolean more, int identification) {
        if (v6) {
            byte[] h = new byte[8];
            int field = offsetBytes | (more ? 1 : 0);
            h[2] = (byte) (field >>> 8);
            h[3] = (byte) field;
            h[4] = (byte) (identification >>> 24);
            h[5] = (byte) (identification >>> 16);
            h[6] = (byte) (identification >>> 8);
            h[7] = (byte) identification;
            return extension(44, h);
        }
        this.fragmentOffset = offsetBytes;
        this.moreFragments = more;
        this.identification = identification;
        return this;
    }

    public PacketBuilder hopByHop() {
        return extension(0, padN(8));
    }

    public PacketBuilder destinationOptions(int lengthBytes) {
        byte[] h = padN(lengthBytes);
        h[1] = (byte) (lengthBytes / 8 - 1);
        return extension(60, h);
    }

    /** A routing header of {@code type} (type 2 for mobile IPv6, type 0 is deprecated) with one address. */
    public PacketBuilder routing(int type) {
        byte[] h = new byte[24];
        h[1] = 2;
        h[2] = (byte) type;
        h[3] = 0; // segments left: already at its destination
        return extension(43, h);
    }

    /** An authentication header with a 12-byte ICV. */
    public PacketBuilder authentication() {
        byte[] h = new byte[24];
        h[1] = (byte) (24 / 4 - 2);
        return extension(51, h);
    }

    /** An extension header given whole; its first byte (next header) is filled in by {@link #build()}. */
    public PacketBuilder extension(int type, byte[] header) {
        extensionTypes.add(type);
        extensions.add(header);
        return this;
    }

    /** Leaves the IPv4 header checksum zero (for malformed-packet tests). */
    public PacketBuilder noHeaderChecksum() {
        this.computeChecksum = false;
        return this;
    }

    public byte[] build() {
        byte[] l4 = raw != null ? raw.clone() : transport();
        if (raw == null && protocol != 1) {
            int sum = pseudoHeaderSum(l4.length) + sum(l4, 0, l4.length);
            int at = protocol == 6 ? 16 : protocol == 17 ? 6 : 2;
            int c = ~fold(sum) & 0xffff;
            if (protocol == 17 && c == 0) {
                c = 0xffff;
            }
            l4[at] = (byte) (c >>> 8);
            l4[at + 1] = (byte) c;
        } else if (raw == null) {
            int c = ~fold(sum(l4, 0, l4.length)) & 0xffff;
            l4[2] = (byte) (c >>> 8);
            l4[3] = (byte) c;
        }
        ByteArrayOutputStream chain = new ByteArrayOutputStream();
        int first = protocol;
        for (int i = extensions.size() - 1; i >= 0; i--) {
            byte[] h = extensions.get(i).clone();
            h[0] = (byte) first;
            first = extensionTypes.get(i);
            byte[] rest = chain.toByteArray();
            chain.reset();
            chain.writeBytes(h);
            chain.writeBytes(rest);
        }
        chain.writeBytes(l4);
        byte[] body = chain.toByteArray();
        return v6 ? ipv6(first, body) : ipv4(body);
    }

    private byte[] ipv4(byte[] body) {
        byte[] p = new byte[20 + body.length];
        p[0] = 0x45;
        put16(p, 2, p.length);
        put16(p, 4, identification);
        put16(p, 6, (moreFragments ? 0x2000 : 0) | fragmentOffset / 8);
        p[8] = (byte) hopLimit;
        p[9] = (byte) protocol;
        System.arraycopy(source, 0, p, 12, 4);
        System.arraycopy(destination, 0, p, 16, 4);
        if (computeChecksum) {
            put16(p, 10, ~fold(sum(p, 0, 20)) & 0xffff);
        }
        System.arraycopy(body, 0, p, 20, body.length);
        return p;
    }

    private byte[] ipv6(int next, byte[] body) {
        byte[] p = new byte[40 + body.length];
        p[0] = 0x60;
        put16(p, 4, body.length);
        p[6] = (byte) next;
        p[7] = (byte) hopLimit;
        System.arraycopy(source, 0, p, 8, 16);
        System.arraycopy(destination, 0, p, 24, 16);
        System.arraycopy(body, 0, p, 40, body.length);
        return p;
    }

    private byte[] transport() {
        if (protocol == 6) {
            byte[] t = new byte[20 + options.length + payload.length];
            put16(t, 0, sourcePort);
            put16(t, 2, destinationPort);
            put32(t, 4, seq);
            put32(t, 8, ack);
            t[12] = (byte) ((20 + options.length) / 4 << 4);
            t[13] = (byte) flags;
            put16(t, 14, window);
            System.arraycopy(options, 0, t, 20, options.length);
            System.arraycopy(payload, 0, t, 20 + options.length, payload.length);
            return t;
        }
        if (protocol == 17) {
            byte[] t = new byte[8 + payload.length];
            put16(t, 0, sourcePort);
            put16(t, 2, destinationPort);
            put16(t, 4, t.length);
            System.arraycopy(payload, 0, t, 8, payload.length);
            return t;
        }
        byte[] t = new byte[8 + payload.length];
        t[0] = (byte) icmpType;
        t[1] = (byte) icmpCode;
        put32(t, 4, icmpRest);
        System.arraycopy(payload, 0, t, 8, payload.length);
        return t;
    }

    private int pseudoHeaderSum(int length) {
        int sum = sum(source, 0, source.length) + sum(destination, 0, destination.length);
        return sum + protocol + (length >>> 16) + (length & 0xffff);
    }

    private static int sum(byte[] b, int from, int length) {
        int sum = 0;
        for (int i = 0; i < length; i += 2) {
            int hi = b[from + i] & 0xff, lo = i + 1 < length ? b[from + i + 1] & 0xff : 0;
            sum += hi << 8 | lo;
        }
        return sum;
    }

    private static int fold(int sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return sum;
    }

    private static byte[] padN(int length) {
        byte[] h = new byte[length];
        h[1] = (byte) (length / 8 - 1);
        h[2] = 1; // PadN option covering the rest
        h[3] = (byte) (length - 4);
        return h;
    }

    public static void put16(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    public static void put32(byte[] b, int at, int v) {
        put16(b, at, v >>> 16);
        put16(b, at + 2, v);
    }

    private static byte[] address(String text, int length) {
        try {
            byte[] a = InetAddress.getByName(text).getAddress(); // literals only: no name lookup happens
            if (a.length != length) {
                throw new IllegalArgumentException(text + " is not an IPv" + (length == 4 ? 4 : 6) + " address");
            }
            return a;
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(text, e);
        }
    }
}
