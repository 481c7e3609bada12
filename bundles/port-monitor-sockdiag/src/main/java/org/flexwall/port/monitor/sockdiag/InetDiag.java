package org.flexwall.port.monitor.sockdiag;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.function.Consumer;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.Protocol;

/**
 * Encodes sock_diag requests (struct inet_diag_req_v2, kernel uapi linux/inet_diag.h) and decodes the kernel's
 * answers into sockets. Pure byte work, no I/O: netlink headers are in host order, ports and addresses in network
 * order. Every length read from the kernel is checked before it is used.
 */
final class InetDiag {
    static final ByteOrder HOST = ByteOrder.nativeOrder();

    // linux/netlink.h
    static final int NLMSG_HDRLEN = 16;
    static final int NLMSG_NOOP = 1;
    static final int NLMSG_ERROR = 2;
    static final int NLMSG_DONE = 3;
    static final int NLMSG_OVERRUN = 4;
    static final int NLM_F_REQUEST = 0x1;
    static final int NLM_F_DUMP_INTR = 0x10;
    static final int NLM_F_DUMP = 0x300;
    // linux/sock_diag.h, linux/inet_diag.h
    static final int SOCK_DIAG_BY_FAMILY = 20;
    static final int REQ_V2_LEN = 56;
    static final int TCPDIAG_GETSOCK = 18;
    static final int REQ_V1_LEN = 60;
    static final int MSG_LEN = 72;
    static final int INET_DIAG_REQ_BYTECODE = 1;
    static final int INET_DIAG_BC_S_GE = 2;
    static final int INET_DIAG_BC_S_LE = 3;
    /** Response-only attribute: the kernel adds it to every IPv6 socket in LISTEN or CLOSE state, unasked. */
    static final int INET_DIAG_SKV6ONLY = 11;
    // include/net/tcp_states.h
    static final int TCP_ESTABLISHED = 1;
    static final int TCP_CLOSE = 7;
    static final int TCP_LISTEN = 10;
    /** Listening TCP sockets only. */
    static final int TCP_STATES = 1 << TCP_LISTEN;
    /** Every UDP socket in the hash table, i.e. every one with a local port: unconnected (CLOSE) and connected. */
    static final int UDP_STATES = 0xFFFFFFFF;

    private InetDiag() {}

    /** The dump request for every socket of one protocol and family, optionally only those on one local port. */
    static byte[] request(int seq, Protocol protocol, int family, int port) {
        return request(seq, SOCK_DIAG_BY_FAMILY, REQ_V2_LEN, protocol, family, port);
    }

    /**
     * The dump request for the TCP listeners of both families on one port, in one walk of the kernel's listener
     * table: the older TCPDIAG_GETSOCK request (struct inet_diag_req), which the kernel serves with the family left
     * open, where SOCK_DIAG_BY_FAMILY needs one dump, one walk, per family. Answered with the same messages.
     */
    static byte[] tcpListenersOnPort(int seq, int port) {
        if (port < 1) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        return request(seq, TCPDIAG_GETSOCK, REQ_V1_LEN, Protocol.TCP, 0, port);
    }

    /** As {@link #tcpListenersOnPort}, for every port: all TCP listeners of both families in one walk. */
    static byte[] tcpListeners(int seq) {
        return request(seq, TCPDIAG_GETSOCK, REQ_V1_LEN, Protocol.TCP, 0, 0);
    }

    private static byte[] request(int seq, int type, int reqLen, Protocol protocol, int family, int port) {
        boolean filtered = port > 0;
        int bytecodeLen = filtered ? 16 : 0;
        int len = NLMSG_HDRLEN + reqLen + (filtered ? 4 + bytecodeLen : 0);
        ByteBuffer b = ByteBuffer.allocate(len).order(HOST);
        b.putInt(len).putShort((short) type).putShort((short) (NLM_F_REQUEST | NLM_F_DUMP)).putInt(seq).putInt(0);
        if (type == SOCK_DIAG_BY_FAMILY) {
            // struct inet_diag_req_v2 {u8 family; u8 protocol; u8 ext; u8 pad; u32 states; struct inet_diag_sockid}
            b.put((byte) family).put((byte) protocol.number).put((byte) 0).put((byte) 0);
            b.putInt(protocol == Protocol.TCP ? TCP_STATES : UDP_STATES);
        } else {
            // struct inet_diag_req {u8 family; u8 src_len; u8 dst_len; u8 ext; struct inet_diag_sockid; u32 states;
            // u32 dbs}: the kernel ignores the family of this one and dumps both
            b.put((byte) family).put((byte) 0).put((byte) 0).put((byte) 0);
        }
        // struct inet_diag_sockid: all zero for a dump, but for the source port, which lets the TCP listener walk
        // skip other ports before running the bytecode (UDP ignores it: the bytecode filters there).
        b.put((byte) (port >> 8)).put((byte) port);
        b.position(b.position() + 46);
        if (type != SOCK_DIAG_BY_FAMILY) {
            b.putInt(TCP_STATES).putInt(0);
        }
        if (filtered) {
            // sport >= port && sport <= port, as ss builds it; S_EQ would need Linux 4.16+.
            b.putShort((short) (4 + bytecodeLen)).putShort((short) INET_DIAG_REQ_BYTECODE);
            // struct inet_diag_bc_op {u8 code; u8 yes; u16 no}; a jump past the end (len + 4) rejects.
            b.put((byte) INET_DIAG_BC_S_GE).put((byte) 8).putShort((short) 20);
            b.put((byte) 0).put((byte) 0).putShort((short) port);
            b.put((byte) INET_DIAG_BC_S_LE).put((byte) 8).putShort((short) 12);
            b.put((byte) 0).put((byte) 0).putShort((short) port);
        }
        return b.array();
    }

    /** Thrown when the kernel answers a request with an error (errno in {@link #errno}). */
    static final class KernelError extends IOException {
        final int errno;

        KernelError(int errno, String message) {
            super(message);
            this.errno = errno;
        }
    }

    /** What one netlink datagram said about the dump. */
    enum Progress { MORE, DONE, INTERRUPTED_MORE, INTERRUPTED_DONE }

    /**
     * Decodes one datagram of a dump answer (the buffer's position to its limit), passing each socket on.
     * Messages of another sequence number (left over from an abandoned request) are skipped.
     */
    static Progress parse(ByteBuffer datagram, int seq, Protocol protocol, Consumer<ListeningSocket> out)
            throws IOException {
        ByteBuffer b = datagram.slice().order(HOST);
        int end = b.limit();
        int at = 0;
        boolean interrupted = false;
        while (end - at >= NLMSG_HDRLEN) {
            int len = b.getInt(at);
            int type = b.getShort(at + 4) & 0xFFFF;
            int flags = b.getShort(at + 6) & 0xFFFF;
            int msgSeq = b.getInt(at + 8);
            if (len < NLMSG_HDRLEN || len > end - at) {
                throw new IOException("malformed netlink message from the kernel: length " + len + " at offset "
                        + at + " of a " + end + "-byte datagram");
            }
            if (msgSeq == seq) {
                interrupted |= (flags & NLM_F_DUMP_INTR) != 0;
                switch (type) {
                    case NLMSG_DONE:
                        // Some dumps put a negative errno into DONE's payload.
                        if (len >= NLMSG_HDRLEN + 4 && b.getInt(at + NLMSG_HDRLEN) < 0) {
                            throw error(-b.getInt(at + NLMSG_HDRLEN), protocol);
                        }
                        return interrupted ? Progress.INTERRUPTED_DONE : Progress.DONE;
                    case NLMSG_ERROR:
                        if (len < NLMSG_HDRLEN + 4) {
                            throw new IOException("truncated netlink error message from the kernel");
                        }
                        int error = b.getInt(at + NLMSG_HDRLEN);
                        if (error != 0) {
                            throw error(-error, protocol);
                        }
                        break; // an acknowledgement
                    case NLMSG_OVERRUN:
                        throw new IOException("the kernel reported a netlink overrun during the socket dump");
                    case SOCK_DIAG_BY_FAMILY:
                    case TCPDIAG_GETSOCK:
                        out.accept(socket(b, at + NLMSG_HDRLEN, at + len, protocol));
                        break;
                    default: // NLMSG_NOOP and anything newer: nothing for us
                }
            }
            at += align4(len);
        }
        return interrupted ? Progress.INTERRUPTED_MORE : Progress.MORE;
    }

    /** One struct inet_diag_msg and its attributes, from {@code at} (inclusive) to {@code end} (exclusive). */
    static ListeningSocket socket(ByteBuffer b, int at, int end, Protocol protocol) throws IOException {
        if (end - at < MSG_LEN) {
            throw new IOException("truncated inet_diag message from the kernel: " + (end - at) + " bytes");
        }
        int family = b.get(at) & 0xFF;
        int port = ((b.get(at + 4) & 0xFF) << 8) | (b.get(at + 5) & 0xFF);
        byte[] src = new byte[family == Libc.AF_INET6 ? 16 : 4];
        if (family != Libc.AF_INET && family != Libc.AF_INET6) {
            throw new IOException("the kernel answered with a socket of address family " + family);
        }
        b.get(at + 8, src);
        long inode = b.getInt(at + 68) & 0xFFFFFFFFL;
        Boolean v6Only = null;
        int a = at + MSG_LEN;
        while (end - a >= 4) {
            int rtaLen = b.getShort(a) & 0xFFFF;
            int rtaType = b.getShort(a + 2) & 0x3FFF; // without NLA_F_NESTED / NLA_F_NET_BYTEORDER
            if (rtaLen < 4 || rtaLen > end - a) {
                throw new IOException("malformed inet_diag attribute from the kernel: length " + rtaLen);
            }
            if (rtaType == INET_DIAG_SKV6ONLY && rtaLen >= 5) {
                v6Only = b.get(a + 4) != 0;
            }
            a += align4(rtaLen);
        }
        boolean v6 = family == Libc.AF_INET6;
        if (v6 && v6Only == null) {
            // Only connected sockets lack the attribute; a v4-mapped local address is the one sign of IPv4 use.
            v6Only = !isV4Mapped(src);
        }
        return new ListeningSocket(protocol, v6 ? AddressFamily.IPV6 : AddressFamily.IPV4,
                InetAddress.getByAddress(src), port, inode, v6 && v6Only, List.of()); // 4 or 16 bytes: no lookup
    }

    private static boolean isV4Mapped(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xFF && a[11] == (byte) 0xFF;
    }

    private static KernelError error(int errno, Protocol protocol) {
        String hint = errno == 2 // ENOENT: no sock_diag handler for this protocol
                ? "; the kernel lacks sock_diag for " + protocol + " (CONFIG_INET_" + protocol
                        + "_DIAG / module " + protocol.name().toLowerCase() + "_diag): load it with `modprobe "
                        + protocol.name().toLowerCase() + "_diag`"
                : "";
        return new KernelError(errno, "sock_diag dump of " + protocol + " sockets failed: errno " + errno + hint);
    }

    static int align4(int n) {
        return (n + 3) & ~3;
    }
}
