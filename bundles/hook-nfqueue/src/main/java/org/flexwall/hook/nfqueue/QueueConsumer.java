package org.flexwall.hook.nfqueue;

import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.function.BiConsumer;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.Marks;
import org.flexwall.hook.support.RateLimitedLog;
import org.flexwall.packet.parse.ByteView;

import com.sun.jna.LastErrorException;

/**
 * The receive thread of one queue: receive a batch, decide each packet, send the batch's verdicts, repeat. Allocates
 * nothing and takes no lock per packet. An accepted inbound packet gets {@link Marks#ACCEPTED} so flexwall's nft
 * input chain, which would otherwise drop it by policy, lets it pass. The thread owns the socket and closes it when
 * it ends, for whatever reason: from then the kernel drops what it queues (fail closed).
 */
final class QueueConsumer {
    private final QueueSocket socket;
    private final Policy policy;
    private final DropRing drops;
    private final ByteBuffer buffer;
    private final ByteView view = new ByteView();
    private final PacketMessage message = new PacketMessage();
    private final VerdictBatcher verdicts;
    private final RateLimitedLog overflowLog;
    private final RateLimitedLog deciderLog;
    private final RateLimitedLog verdictLog;
    private final Thread thread;
    private volatile boolean running;
    private volatile String failure;

    // Counted by the receive thread, published once per batch.
    private long received;
    private long accepted;
    private long dropped;
    private long malformed;
    private long unbound;
    private long deciderErrors;
    private long overflows;
    private long verdictErrors;
    private final long[] published = new long[9]; // what readers see, guarded by the sequence number below
    private volatile long publications;

    /** What the consumer has done since it started; the kernel's own figures are in the queue's proc file. */
    record Counters(long received, long accepted, long dropped, long malformed, long unbound, long deciderErrors,
            long overflows, long verdictErrors, long verdictMessages) {
    }

    QueueConsumer(QueueSocket socket, Policy policy, DropRing drops, BiConsumer<String, Throwable> warn) {
        this.socket = socket;
        this.policy = policy;
        this.drops = drops;
        this.buffer = socket.receiveBuffer();
        this.verdicts = new VerdictBatcher(socket.sendBuffer(), socket.queueNum, (b, length) -> sendVerdicts(length));
        this.overflowLog = new RateLimitedLog(warn, 10_000);
        this.deciderLog = new RateLimitedLog(warn, 10_000);
        this.verdictLog = new RateLimitedLog(warn, 10_000);
        this.thread = new Thread(this::run, "flexwall-nfqueue-" + socket.queueNum);
        thread.setDaemon(true);
    }

    void start() {
        running = true;
        thread.start();
    }

    /** Stops the thread; it unbinds the queue and closes the socket. Returns whether it ended in time. */
    boolean stop(long timeoutMillis) throws InterruptedException {
        running = false;
        thread.join(timeoutMillis);
        return !thread.isAlive();
    }

    boolean alive() {
        return thread.isAlive();
    }

    /** Why the thread ended on its own, or null. */
    String failure() {
        return failure;
    }

    /** A snapshot taken after the last batch. Any thread. */
    Counters counters() {
        long[] c = new long[published.length];
        long before;
        do {
            before = publications;
            System.arraycopy(published, 0, c, 0, c.length);
            VarHandle.loadLoadFence();
        } while (before != publications || (before & 1) != 0);
        return new Counters(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]);
    }

    private void run() {
        try {
            while (running) {
                int n = socket.receive();
                if (n < 0) {
                    overflows++;
                    publish();
                    overflowLog.log("NFQUEUE " + socket.queueNum + ": the socket receive buffer overflowed "
                            + "(ENOBUFS); the kernel dropped the packets it could not deliver. Raise rcvbuf if this "
                            + "repeats", null);
                    continue;
                }
                for (int i = 0; i < n; i++) {
                    messages(i * socket.slotSize(), socket.length(i));
                }
                verdicts.flush();
                if (n > 0) {
                    publish();
                }
            }
        } catch (RuntimeException | Error e) {
            failure = "the receive thread failed: " + e;
            throw e;
        } finally {
            running = false;
            socket.close();
        }
    }

    /** Every netlink message in one received datagram. */
    private void messages(int offset, int length) {
        int p = offset;
        int end = offset + length;
        while (p + Nfq.NLMSG_HDRLEN <= end) {
            int len = buffer.getInt(p);
            if (len < Nfq.NLMSG_HDRLEN) {
                return;
            }
            int type = buffer.getShort(p + 4) & 0xffff;
            int valid = Math.min(len, end - p);
            if (type == Nfq.MSG_PACKET) {
                packet(p, valid);
            } else if (type == Nfq.NLMSG_ERROR && valid >= 20 && buffer.getInt(p + 16) != 0) {
                verdictErrors++;
                verdictLog.log("NFQUEUE " + socket.queueNum + ": the kernel refused a verdict: "
                        + LibC.strerror(-buffer.getInt(p + 16)), null);
            }
            p += Nfq.align(len);
        }
    }

    /** FIG. 8 for one packet: decide, count, queue the verdict. */
    private void packet(int offset, int length) {
        if (!message.parse(buffer, offset, length)) {
            malformed++; // no packet id: nothing to answer; the kernel drops it when the queue unbinds
            return;
        }
        received++;
        int decision = Policy.DROP_MALFORMED;
        if (message.payloadOffset >= 0) {
            view.set(buffer, message.payloadOffset, message.payloadLength, direction(message.hook));
            try {
                decision = policy.decide(view);
            } catch (RuntimeException e) {
                decision = Policy.DROP; // a failing decider must not open anything
                deciderErrors++;
                deciderLog.log("NFQUEUE " + socket.queueNum + ": the decision failed, packet dropped", e);
            }
        } else {
            view.set(buffer, 0, 0, direction(message.hook));
        }
        if (decision == Policy.ACCEPT) {
            accepted++;
            long mark = message.hook == Nfq.HOOK_LOCAL_IN ? (message.mark | Marks.ACCEPTED) & 0xffff_ffffL : -1;
            verdicts.add(message.id, Nfq.NF_ACCEPT, mark);
            return;
        }
        dropped++;
        if (decision == Policy.DROP_MALFORMED) {
            malformed++;
        } else if (decision == Policy.DROP_UNBOUND) {
            unbound++;
        }
        drops.record(System.currentTimeMillis(), view);
        verdicts.add(message.id, Nfq.NF_DROP, -1);
    }

    private static Direction direction(int hook) {
        switch (hook) {
            case Nfq.HOOK_LOCAL_IN:
                return Direction.INBOUND;
            case Nfq.HOOK_LOCAL_OUT:
                return Direction.OUTBOUND;
            default:
                return Direction.FORWARD_FROM_WAN; // not queued by our rules; the strictest reading
        }
    }

    private void sendVerdicts(int length) {
        try {
            try {
                socket.send(length);
            } catch (LastErrorException first) {
                socket.send(length); // once more: a packet without a verdict holds a queue slot until unbind
            }
        } catch (LastErrorException e) {
            // Unanswered packets stay queued until the queue unbinds, then the kernel drops them (fail closed).
            verdictErrors++;
            verdictLog.log("NFQUEUE " + socket.queueNum + ": sending verdicts failed: "
                    + LibC.strerror(e.getErrorCode()), null);
        }
    }

    /** Copies the counters where readers see them, under a sequence number (odd while writing). */
    private void publish() {
        long s = publications;
        publications = s + 1;
        VarHandle.storeStoreFence();
        published[0] = received;
        published[1] = accepted;
        published[2] = dropped;
        published[3] = malformed;
        published[4] = unbound;
        published[5] = deciderErrors;
        published[6] = overflows;
        published[7] = verdictErrors;
        published[8] = verdicts.messages();
        publications = s + 2;
    }
}
