package org.flexwall.hook.nfqueue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;

import org.flexwall.api.packet.BypassTable;
import org.flexwall.api.port.Protocol;

/** What the benchmark in {@code bench/} needs from this package: namespaces, rules and the Java consumer. */
public final class BenchSupport {
    private BenchSupport() {
    }

    /**
     * Two namespaces; in the server one, every conntrack-NEW UDP datagram to {@code port} is queued to {@code queue}
     * at mangle priority (no rate limit: the benchmark wants them all), and a named nft counter at filter priority
     * counts and then drops what the consumer accepted, so no socket or ICMP work blurs the figures.
     */
    public static final class Environment implements AutoCloseable {
        private final Netns net;
        public final String client;
        public final String server;
        public final String serverV4;

        Environment(Netns net) {
            this.net = net;
            this.client = net.client;
            this.server = net.server;
            this.serverV4 = net.serverV4;
        }

        /** Runs a command in a namespace and returns its output; fails on a non-zero exit. */
        public String in(String ns, String... argv) throws Exception {
            return net.in(ns, argv);
        }

        @Override
        public void close() {
            net.close();
        }
    }

    public static Environment environment(int queue, int port) throws Exception {
        Netns net = Netns.create();
        try {
            net.in(net.server, "iptables-nft", "-t", "mangle", "-A", "INPUT", "-p", "udp", "--dport",
                    Integer.toString(port), "-m", "conntrack", "--ctstate", "NEW", "-j", "NFQUEUE", "--queue-num",
                    Integer.toString(queue));
            String sink = "table inet fwq_bench {\n  counter accepted { }\n  chain input {\n"
                    + "    type filter hook input priority filter; policy accept;\n"
                    + "    udp dport " + port + " counter name \"accepted\" drop\n  }\n}\n";
            Commands.Result r = Netns.commands(net.server).run(List.of("nft", "-f", "-"), sink);
            if (!r.ok()) {
                throw new IllegalStateException("nft: " + r.output());
            }
            return new Environment(net);
        } catch (Exception | Error e) {
            net.close();
            throw e;
        }
    }

    /** The Java consumer of the hook, first-packet policy, with a store that permits UDP to {@code port}. */
    public static final class JavaConsumer implements AutoCloseable {
        private final QueueConsumer consumer;
        private final String threadName;

        JavaConsumer(QueueConsumer consumer, String threadName) {
            this.consumer = consumer;
            this.threadName = threadName;
        }

        /** CPU time of the receive thread so far, in nanoseconds. */
        public long cpuNanos() {
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().equals(threadName)) {
                    return mx.getThreadCpuTime(t.getId());
                }
            }
            return -1;
        }

        public long accepted() {
            return consumer.counters().accepted();
        }

        public long overflows() {
            return consumer.counters().overflows();
        }

        @Override
        public void close() throws InterruptedException {
            consumer.stop(2_000);
        }
    }

    public static JavaConsumer startJava(Environment env, int queue, int port, int rcvbuf, int batch)
            throws Exception {
        BypassTable store = (protocol, family, p) -> protocol == Protocol.UDP && p == port; // no allocation
        QueueSocket socket = Netns.call(env.server, () -> QueueSocket.open(queue, 256, 8192, rcvbuf, batch));
        QueueConsumer c = new QueueConsumer(socket, Policy.firstPacket(() -> store), new DropRing(64),
                (m, e) -> System.err.println("java consumer: " + m));
        c.start();
        return new JavaConsumer(c, "flexwall-nfqueue-" + queue);
    }
}
