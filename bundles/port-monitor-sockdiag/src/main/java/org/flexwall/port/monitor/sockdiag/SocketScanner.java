package org.flexwall.port.monitor.sockdiag;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.Protocol;

import com.sun.jna.LastErrorException;

/**
 * Lists the listening TCP and bound UDP sockets of the caller's network namespace through netlink sock_diag
 * (FIG. 7, S701, the "which ports" half). Sockets come back without owners: {@link OwnerResolver} adds them.
 *
 * <p>One netlink socket per scanner, used by one caller at a time (methods are synchronized). Reusable by any
 * monitor: the polling component and a future event-driven one call {@link #scan()} or {@link #scanPort}.
 */
public final class SocketScanner implements AutoCloseable {
    private static final int[] FAMILIES = { Libc.AF_INET, Libc.AF_INET6 };
    private static final int RECV_BUFFER = 64 * 1024; // the kernel sends dump datagrams of at most 32 KiB
    private static final int MAX_RETRIES = 3;

    private final ByteBuffer buffer = ByteBuffer.allocateDirect(RECV_BUFFER);
    private final byte[] kernelAddress = sockaddrNl();
    private int fd = -1;
    private int seq = (int) System.nanoTime();

    /** Every listening TCP socket and every bound UDP socket, IPv4 and IPv6. */
    public synchronized List<ListeningSocket> scan() throws IOException {
        List<ListeningSocket> out = scan(Protocol.TCP);
        out.addAll(scan(Protocol.UDP));
        return out;
    }

    /** Every listening TCP socket, or every bound UDP socket, IPv4 and IPv6. */
    public synchronized List<ListeningSocket> scan(Protocol protocol) throws IOException {
        List<ListeningSocket> out = new ArrayList<>();
        if (protocol == Protocol.TCP) {
            dump(Protocol.TCP, InetDiag::tcpListeners, out); // both families in one walk
        } else {
            for (int family : FAMILIES) {
                dump(Protocol.UDP, family, 0, out); // UDP has no request for both: one walk each
            }
        }
        return out;
    }

    /**
     * The sockets of {@code protocol} on local {@code port} only, filtered in the kernel (inet_diag bytecode), so
     * the cost does not grow with the number of other sockets.
     */
    public synchronized List<ListeningSocket> scanPort(Protocol protocol, int port, boolean ipv4, boolean ipv6)
            throws IOException {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        List<ListeningSocket> out = new ArrayList<>(2);
        if (protocol == Protocol.TCP && ipv4 && ipv6) {
            dump(protocol, seq -> InetDiag.tcpListenersOnPort(seq, port), out); // one walk for both families
            return out;
        }
        if (ipv4) {
            dump(protocol, Libc.AF_INET, port, out);
        }
        if (ipv6) {
            dump(protocol, Libc.AF_INET6, port, out);
        }
        return out;
    }

    @Override
    public synchronized void close() {
        if (fd >= 0) {
            Libc.close(fd);
            fd = -1;
        }
    }

    private void dump(Protocol protocol, int family, int port, List<ListeningSocket> out) throws IOException {
        dump(protocol, seq -> InetDiag.request(seq, protocol, family, port), out);
    }

    private void dump(Protocol protocol, IntFunction<byte[]> request, List<ListeningSocket> out) throws IOException {
        for (int attempt = 1; ; attempt++) {
            int mark = out.size();
            if (dumpOnce(protocol, request, out)) {
                return;
            }
            // The kernel's tables changed under the dump (NLM_F_DUMP_INTR): what we got may be inconsistent.
            out.subList(mark, out.size()).clear();
            if (attempt == MAX_RETRIES) {
                throw new IOException("sock_diag dump of " + protocol + " sockets was interrupted " + MAX_RETRIES
                        + " times in a row by concurrent changes");
            }
        }
    }

    /** Returns false when the kernel flagged the dump as interrupted. */
    private boolean dumpOnce(Protocol protocol, IntFunction<byte[]> requestOf, List<ListeningSocket> out)
            throws IOException {
        int s = ++seq;
        byte[] request = requestOf.apply(s);
        boolean ok = false;
        try {
            int socket = open();
            Libc.sendto(socket, request, request.length, 0, kernelAddress, kernelAddress.length);
            boolean interrupted = false;
            while (true) {
                long n = receive(socket);
                buffer.position(0).limit((int) n);
                InetDiag.Progress p = InetDiag.parse(buffer, s, protocol, out::add);
                interrupted |= p == InetDiag.Progress.INTERRUPTED_MORE || p == InetDiag.Progress.INTERRUPTED_DONE;
                if (p == InetDiag.Progress.DONE || p == InetDiag.Progress.INTERRUPTED_DONE) {
                    ok = true;
                    return !interrupted;
                }
            }
        } catch (LastErrorException e) {
            throw new IOException("netlink sock_diag failed: " + describe(e.getErrorCode())
                    + " (flexwall needs Linux with CONFIG_INET_DIAG; run it as root or with CAP_NET_ADMIN)", e);
        } finally {
            if (!ok) {
                close(); // unread parts of an abandoned dump must not mix into the next answer
            }
        }
    }

    private long receive(int socket) throws IOException {
        while (true) {
            try {
                long n = Libc.recv(socket, buffer, buffer.capacity(), 0);
                if (n <= 0) {
                    throw new IOException("the kernel closed the sock_diag netlink socket");
                }
                return n;
            } catch (LastErrorException e) {
                if (e.getErrorCode() == Libc.EAGAIN) {
                    throw new IOException("the kernel did not answer the sock_diag dump within 5 s", e);
                }
                if (e.getErrorCode() != Libc.EINTR) {
                    throw e;
                }
            }
        }
    }

    private int open() {
        if (fd < 0) {
            int s = Libc.socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, Libc.NETLINK_SOCK_DIAG);
            try {
                // struct timeval {5 s, 0}: a kernel that never answers must not hang the monitor.
                ByteBuffer tv = ByteBuffer.allocate(16).order(InetDiag.HOST).putLong(5).putLong(0);
                Libc.setsockopt(s, Libc.SOL_SOCKET, Libc.SO_RCVTIMEO, tv.array(), 16);
            } catch (LastErrorException e) {
                Libc.close(s);
                throw e;
            }
            fd = s;
        }
        return fd;
    }

    private static byte[] sockaddrNl() {
        // struct sockaddr_nl {u16 family; u16 pad; u32 pid = 0 (the kernel); u32 groups}
        return ByteBuffer.allocate(12).order(InetDiag.HOST).putShort((short) Libc.AF_NETLINK).array();
    }

    private static String describe(int errno) {
        switch (errno) {
            case 1: return "operation not permitted (EPERM)";
            case 13: return "permission denied (EACCES)";
            case 93: return "protocol not supported (EPROTONOSUPPORT)";
            case 97: return "address family not supported (EAFNOSUPPORT)";
            default: return "errno " + errno;
        }
    }
}
