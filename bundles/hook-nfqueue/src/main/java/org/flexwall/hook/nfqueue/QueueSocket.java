package org.flexwall.hook.nfqueue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * A NETLINK_NETFILTER socket bound to one queue: packets copied up to a bounded range, GSO packets whole, never fail
 * open. Receives many messages per system call (recvmmsg) into fixed slots of one native buffer and sends many
 * verdicts per call. Not thread-safe: one receive thread owns it. Closing it unbinds the queue; from then the kernel
 * drops what it would have queued (no bypass), which is the fail-closed state during a hook swap.
 */
final class QueueSocket implements AutoCloseable {
    private static final int MMSGHDR_SIZE = 64; // struct mmsghdr on LP64: msghdr (56) + msg_len (4) + padding
    private static final int IOVEC_SIZE = 16;
    private static final int ACK_WAIT_MILLIS = 2_000;

    final int queueNum;
    private final int fd;
    private final int slots;
    private final int slotSize;
    private final Memory receiveMemory;
    private final ByteBuffer receive;
    private final Memory headers; // mmsghdr array, then iovec array
    private final ByteBuffer headerView;
    private final Memory sendMemory;
    private final ByteBuffer send;
    private boolean closed;

    private QueueSocket(int fd, int queueNum, int slots, int slotSize) {
        this.fd = fd;
        this.queueNum = queueNum;
        this.slots = slots;
        this.slotSize = slotSize;
        receiveMemory = new Memory((long) slots * slotSize);
        receive = receiveMemory.getByteBuffer(0, receiveMemory.size()).order(ByteOrder.nativeOrder());
        headers = new Memory((long) slots * (MMSGHDR_SIZE + IOVEC_SIZE));
        headers.clear();
        headerView = headers.getByteBuffer(0, headers.size()).order(ByteOrder.nativeOrder());
        long base = Pointer.nativeValue(receiveMemory);
        long iovBase = Pointer.nativeValue(headers) + (long) slots * MMSGHDR_SIZE;
        for (int i = 0; i < slots; i++) {
            int iov = slots * MMSGHDR_SIZE + i * IOVEC_SIZE;
            headerView.putLong(iov, base + (long) i * slotSize);
            headerView.putLong(iov + 8, slotSize);
            int h = i * MMSGHDR_SIZE;
            headerView.putLong(h + 16, iovBase + (long) i * IOVEC_SIZE); // msg_iov
            headerView.putLong(h + 24, 1);                               // msg_iovlen
        }
        sendMemory = new Memory(Math.max(4096, 2L * slots * Nfq.VERDICT_MSG_MAX));
        send = sendMemory.getByteBuffer(0, sendMemory.size()).order(ByteOrder.nativeOrder());
    }

    /**
     * Opens a socket in the calling thread's network namespace and binds {@code queueNum} to it.
     *
     * @param copyRange bytes of each packet copied to user space (headers are all a decision needs)
     * @param maxLen    packets the kernel holds for us before it drops new ones (fail closed)
     * @param rcvbuf    socket receive buffer in bytes; forced past rmem_max when we may (CAP_NET_ADMIN)
     * @param slots     messages per receive call
     */
    static QueueSocket open(int queueNum, int copyRange, int maxLen, int rcvbuf, int slots) throws QueueException {
        if (!Platform.LP64_LINUX) {
            throw new QueueException("the NFQUEUE hook needs 64-bit Linux; this is " + System.getProperty("os.name")
                    + " " + System.getProperty("os.arch"));
        }
        int fd;
        try {
            fd = LibC.socket(LibC.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, LibC.NETLINK_NETFILTER);
        } catch (LastErrorException e) {
            throw new QueueException("cannot open a netfilter netlink socket: " + LibC.strerror(e.getErrorCode()), e);
        }
        // The slot holds netlink headers and attributes (well under 512 bytes) plus the copied packet.
        QueueSocket s = new QueueSocket(fd, queueNum, slots, Nfq.align(copyRange + 512));
        try {
            s.configure(copyRange, maxLen, rcvbuf);
            return s;
        } catch (QueueException | RuntimeException | Error e) {
            s.closeFd();
            throw e;
        }
    }

    private void configure(int copyRange, int maxLen, int rcvbuf) throws QueueException {
        Memory opt = new Memory(16);
        opt.setInt(0, rcvbuf);
        try {
            LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUFFORCE, opt, 4);
        } catch (LastErrorException e) {
            setsockopt(LibC.SOL_SOCKET, LibC.SO_RCVBUF, opt, 4, "SO_RCVBUF"); // capped by net.core.rmem_max
        }
        opt.setLong(0, 0);
        opt.setLong(8, 100_000); // 100 ms receive timeout: how quickly the thread notices it should stop
        setsockopt(LibC.SOL_SOCKET, LibC.SO_RCVTIMEO, opt, 16, "SO_RCVTIMEO");
        opt.setInt(0, 1);
        try {
            LibC.setsockopt(fd, LibC.SOL_NETLINK, LibC.NETLINK_EXT_ACK, opt, 4);
        } catch (LastErrorException e) {
            // extended acks only improve error messages
        }
        Memory addr = new Memory(12); // struct sockaddr_nl, nl_pid 0: the kernel picks our port id
        addr.clear();
        addr.setShort(0, (short) LibC.AF_NETLINK);
        try {
            LibC.bind(fd, addr, 12);
        } catch (LastErrorException e) {
            throw new QueueException("cannot bind the netlink socket: " + LibC.strerror(e.getErrorCode()), e);
        }
        int len = Nfq.configBind(send, 0, 1, queueNum, copyRange, maxLen);
        sendOrThrow(len, "bind queue " + queueNum);
        int error = awaitAck(1);
        if (error != 0) {
            throw new QueueException(bindError(error));
        }
    }

    private String bindError(int errno) {
        String base = "cannot bind NFQUEUE " + queueNum + ": " + LibC.strerror(errno) + ". ";
        String holder = holder();
        if (holder != null && (errno == LibC.EPERM || errno == 16 /* EBUSY */)) {
            return base + "Another process consumes this queue (netlink port id " + holder + " in "
                    + "/proc/net/netfilter/nfnetlink_queue): stop it, or configure another queueNum";
        }
        if (errno == LibC.EPERM) {
            return base + "Binding a queue needs CAP_NET_ADMIN: run flexwall as root or grant the capability";
        }
        return base + "Is the nfnetlink_queue kernel module available (modprobe nfnetlink_queue)?";
    }

    /** The netlink port id bound to our queue in this thread's network namespace, or null. */
    private String holder() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/thread-self/net/netfilter/nfnetlink_queue"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 1 && f[0].equals(Integer.toString(queueNum))) {
                    return f[1];
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }

    /** Reads until the ack of {@code seq}; drops (fail closed) any packet that arrives in between. */
    private int awaitAck(int seq) throws QueueException {
        long deadline = System.nanoTime() + ACK_WAIT_MILLIS * 1_000_000L;
        PacketMessage m = new PacketMessage();
        while (System.nanoTime() < deadline) {
            long n;
            try {
                n = LibC.recv(fd, receiveMemory, slotSize, 0);
            } catch (LastErrorException e) {
                if (e.getErrorCode() == LibC.EAGAIN || e.getErrorCode() == LibC.EINTR
                        || e.getErrorCode() == LibC.ENOBUFS) {
                    continue;
                }
                throw new QueueException("netlink receive failed: " + LibC.strerror(e.getErrorCode()), e);
            }
            int p = 0;
            while (p + Nfq.NLMSG_HDRLEN <= n) {
                int mlen = receive.getInt(p);
                int type = receive.getShort(p + 4) & 0xffff;
                if (mlen < Nfq.NLMSG_HDRLEN) {
                    break;
                }
                if (type == Nfq.NLMSG_ERROR && receive.getInt(p + 8) == seq && mlen >= 20) {
                    return -receive.getInt(p + 16);
                }
                if (type == Nfq.MSG_PACKET && m.parse(receive, p, (int) Math.min(mlen, n - p))) {
                    int len = Nfq.verdictBatch(send, 0, queueNum, Nfq.NF_DROP, m.id, -1);
                    sendOrThrow(len, "drop a packet that came before the queue was configured");
                }
                p += Nfq.align(mlen);
            }
        }
        throw new QueueException("the kernel did not answer the NFQUEUE " + queueNum + " bind request within "
                + ACK_WAIT_MILLIS + " ms");
    }

    private void setsockopt(int level, int name, Pointer value, int len, String what) throws QueueException {
        try {
            LibC.setsockopt(fd, level, name, value, len);
        } catch (LastErrorException e) {
            throw new QueueException("cannot set " + what + ": " + LibC.strerror(e.getErrorCode()), e);
        }
    }

    private void sendOrThrow(int len, String what) throws QueueException {
        try {
            LibC.send(fd, sendMemory, len, 0);
        } catch (LastErrorException e) {
            throw new QueueException("cannot " + what + ": " + LibC.strerror(e.getErrorCode()), e);
        }
    }

    /** Number of messages per receive call. */
    int slots() {
        return slots;
    }

    /** Bytes per slot. */
    int slotSize() {
        return slotSize;
    }

    /** The receive buffer: slot i starts at {@code i * slotSize()}. */
    ByteBuffer receiveBuffer() {
        return receive;
    }

    /** The buffer verdicts are written into before {@link #send}. */
    ByteBuffer sendBuffer() {
        return send;
    }

    /**
     * Waits up to the receive timeout for at least one message and takes every message already queued, up to
     * {@link #slots()}. Returns how many, 0 on timeout or interruption, or -1 when the socket overflowed (ENOBUFS: the
     * kernel dropped those packets, which is fail closed; the socket stays usable).
     */
    int receive() throws LastErrorException {
        try {
            return LibC.recvmmsg(fd, headers, slots, LibC.MSG_WAITFORONE, null);
        } catch (LastErrorException e) {
            int errno = e.getErrorCode();
            if (errno == LibC.EAGAIN || errno == LibC.EINTR) {
                return 0;
            }
            if (errno == LibC.ENOBUFS) {
                return -1;
            }
            throw e;
        }
    }

    /** Bytes received into slot {@code i} by the last {@link #receive}, at most {@link #slotSize()}. */
    int length(int i) {
        return Math.min(headerView.getInt(i * MMSGHDR_SIZE + 56), slotSize);
    }

    /** Sends {@code length} bytes of the send buffer: verdict messages. */
    void send(int length) throws LastErrorException {
        LibC.send(fd, sendMemory, length, 0);
    }

    /** Unbinds the queue and closes the socket. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        try {
            int len = Nfq.configUnbind(send, 0, 2, queueNum);
            LibC.send(fd, sendMemory, len, 0); // closing alone unbinds too; this makes it explicit and immediate
        } catch (LastErrorException e) {
            // the close below releases the queue anyway
        }
        closeFd();
    }

    private void closeFd() {
        closed = true;
        try {
            LibC.close(fd);
        } catch (LastErrorException e) {
            // nothing left to release
        }
    }
}
