package org.flexwall.console.firewall;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The packet path's figures, sampled once a second while someone watches (less often otherwise) and kept for the last
 * {@link #SECONDS} samples: packets decided in
 * user space (the NFQUEUE's sequence numbers), packets the queue dropped, unsolicited packets dropped, connection-table
 * use. Read from the kernel's own files in the appliance's namespace.
 */
final class PacketPath {
    static final int SECONDS = 300;
    static final Path QUEUES = Path.of("/proc/net/netfilter/nfnetlink_queue");
    static final Path CONNTRACK_COUNT = Path.of("/proc/sys/net/netfilter/nf_conntrack_count");
    static final Path CONNTRACK_MAX = Path.of("/proc/sys/net/netfilter/nf_conntrack_max");

    /** One second of the packet path. */
    record Sample(long epochSecond, long decisionsPerSecond, long queueDropsPerSecond, long dropsPerSecond,
            long conntrack, long conntrackMax) {}

    /** The queue's cumulative counters: packets queued (its id sequence) and dropped (queue full, or by the reader). */
    record QueueCounters(long queued, long dropped) {
        static final QueueCounters NONE = new QueueCounters(0, 0);
    }

    private final Sample[] ring = new Sample[SECONDS];
    private int next;
    private int filled;
    private QueueCounters lastQueue;
    private long lastDrops = -1;
    private long lastSecond;
    private long queueDropsTotal;

    /** Takes one sample; {@code dropsTotal} is every dropped attempt counted so far. */
    synchronized Sample sample(long epochSecond, QueueCounters queue, long dropsTotal, long conntrack,
            long conntrackMax) {
        long seconds = lastQueue == null ? 1 : Math.max(1, epochSecond - lastSecond); // sampled less often while unwatched
        long decisions = lastQueue == null ? 0 : Math.max(0, queue.queued() - lastQueue.queued()) / seconds;
        long queueDrops = lastQueue == null ? 0 : Math.max(0, queue.dropped() - lastQueue.dropped()) / seconds;
        long drops = lastDrops < 0 ? 0 : Math.max(0, dropsTotal - lastDrops) / seconds;
        lastSecond = epochSecond;
        lastQueue = queue;
        lastDrops = dropsTotal;
        queueDropsTotal = queue.dropped();
        Sample s = new Sample(epochSecond, decisions, queueDrops, drops, conntrack, conntrackMax);
        ring[next] = s;
        next = (next + 1) % SECONDS;
        filled = Math.min(SECONDS, filled + 1);
        return s;
    }

    /** The samples, oldest first. */
    synchronized List<Sample> history() {
        List<Sample> h = new ArrayList<>(filled);
        for (int i = 0; i < filled; i++) {
            h.add(ring[(next - filled + i + SECONDS) % SECONDS]);
        }
        return h;
    }

    /** Packets the queues dropped since they were bound. */
    synchronized long queueDropsTotal() {
        return queueDropsTotal;
    }

    /**
     * The queues' counters summed: each line of {@code /proc/net/netfilter/nfnetlink_queue} is queue number, peer,
     * queue total, copy mode, copy range, queue dropped, user dropped, id sequence, 1.
     */
    static QueueCounters queues(String text) {
        long queued = 0;
        long dropped = 0;
        for (String line : text.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 8) {
                try {
                    dropped += Long.parseLong(f[5]) + Long.parseLong(f[6]);
                    queued += Long.parseLong(f[7]);
                } catch (NumberFormatException e) {
                    // not a queue line
                }
            }
        }
        return new QueueCounters(queued, dropped);
    }

    static QueueCounters readQueues() {
        try {
            return queues(read(QUEUES));
        } catch (IOException e) {
            return QueueCounters.NONE; // no queue bound in this namespace
        }
    }

    /**
     * A file of /proc whole: Files.readString reads a file of size 0 a byte first, and a sysctl file answers the read
     * after that first byte with its end ("2" for 262144).
     */
    static String read(Path file) throws IOException {
        try (java.io.InputStream in = Files.newInputStream(file)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        }
    }

    static long readNumber(Path file) {
        try {
            return Long.parseLong(read(file).strip());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }
}
