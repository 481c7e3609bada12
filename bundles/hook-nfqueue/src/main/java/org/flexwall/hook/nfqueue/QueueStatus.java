package org.flexwall.hook.nfqueue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** What the NFQUEUE hook reports: its status line for {@code flexwall status} and its verdict counters. */
final class QueueStatus {
    private QueueStatus() {}

    /**
     * @param s            null while the configuration is invalid
     * @param c            the receive thread, or null while none runs
     * @param problem      what keeps the hook from working, or null
     * @param bypassBound  whether packet bypass's table is bound (firstPacket mode asks it)
     * @param deciderBound whether the packet decider is bound (userspace mode asks it)
     */
    static String describe(HookSettings s, QueueConsumer c, boolean rulesInstalled, String problem,
            boolean bypassBound, boolean deciderBound) {
        String p = problem;
        if (s == null || c == null || !c.alive()) {
            return "not active: " + (p != null ? p : "the receive thread is not running");
        }
        if (!rulesInstalled) {
            return "not active: queue " + s.queueNum() + " is bound but its kernel rules are not installed"
                    + (p != null ? ": " + p : " yet");
        }
        StringBuilder b = new StringBuilder("active: ").append(s.mode().configName).append(", queue ")
                .append(s.queueNum());
        if (s.mode() == Mode.FIRST_PACKET && !bypassBound) {
            b.append(", NO PACKET BYPASS: every queued first packet is dropped");
        }
        if (s.mode() == Mode.USERSPACE && !deciderBound) {
            b.append(", NO PACKET DECIDER: every queued packet is dropped");
        }
        QueueConsumer.Counters k = c.counters();
        b.append("; ").append(k.received()).append(" decided: ").append(k.accepted()).append(" accepted, ")
                .append(k.dropped()).append(" dropped (").append(k.malformed()).append(" malformed, ")
                .append(k.unbound()).append(" with nothing to ask, ").append(k.deciderErrors())
                .append(" decision errors); ").append(k.overflows()).append(" socket overflows, ")
                .append(k.verdictErrors()).append(" verdict errors");
        String kernel = kernelCounters(s.queueNum());
        if (kernel != null) {
            b.append("; kernel: ").append(kernel);
        }
        if (p != null) {
            b.append("; problem: ").append(p);
        }
        return b.toString();
    }

    /** The queue's verdicts since its receive thread {@code c} started; empty while none runs (null). */
    static Map<String, Long> counters(QueueConsumer c) {
        Map<String, Long> m = new LinkedHashMap<>();
        if (c == null) {
            return m;
        }
        QueueConsumer.Counters k = c.counters();
        m.put("packets decided", k.received());
        m.put("accepted", k.accepted());
        m.put("dropped", k.dropped());
        m.put("dropped malformed", k.malformed());
        m.put("dropped: nothing to ask", k.unbound());
        m.put("decision errors", k.deciderErrors());
        m.put("socket overflows", k.overflows());
        m.put("verdict errors", k.verdictErrors());
        m.put("verdict messages", k.verdictMessages());
        return m;
    }

    /** The kernel's view of the queue from /proc/net/netfilter/nfnetlink_queue, or null when it has none. */
    static String kernelCounters(int queueNum) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/net/netfilter/nfnetlink_queue"))) {
                String[] f = line.trim().split("\\s+");
                // queue number, peer port id, waiting, copy mode, copy range, dropped full, lost to socket, id seq
                if (f.length >= 8 && f[0].equals(Integer.toString(queueNum))) {
                    return f[2] + " waiting, " + f[5] + " dropped at a full queue, " + f[6]
                            + " lost to a full socket, " + f[7] + " queued in all";
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }
}
