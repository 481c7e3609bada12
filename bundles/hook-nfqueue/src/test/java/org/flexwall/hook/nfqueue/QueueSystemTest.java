package org.flexwall.hook.nfqueue;

import static org.flexwall.hook.nfqueue.SystemFixture.TRUSTED_TCP;
import static org.flexwall.hook.nfqueue.SystemFixture.TRUSTED_UDP;
import static org.flexwall.hook.nfqueue.SystemFixture.UNTRUSTED_TCP;
import static org.flexwall.hook.nfqueue.SystemFixture.UNTRUSTED_UDP;
import static org.flexwall.hook.nfqueue.SystemFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.DroppedPacket;
import org.flexwall.api.packet.PacketDecider;
import org.flexwall.api.packet.Verdict;
import org.flexwall.api.port.Protocol;
import org.flexwall.packet.parse.Ip;
import org.flexwall.testing.SystemTests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The queue with real packets: socat and hping3 in one network namespace send over veth to another, where the
 * iptables-nft NFQUEUE rules of {@link QueueRules} queue to a {@link QueueConsumer} bound from this JVM, in front of a
 * stand-in of flexwall's nft baseline. Packet bypass is a test stand-in (the real one is bundles/packet-bypass).
 */
@Tag("system")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QueueSystemTest {
    private static final int QUEUE = 3;

    private SystemFixture fx;
    private QueueConsumer consumer;
    private QueueRules rules;
    private final DropRing drops = new DropRing(64);
    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private final Fixtures.TrustingTable store = new Fixtures.TrustingTable().trust(Protocol.TCP, TRUSTED_TCP)
            .trust(Protocol.UDP, TRUSTED_UDP);

    @BeforeAll
    void namespaces(@TempDir Path dir) throws Exception {
        SystemTests.requireRoot("create network namespaces and bind NFQUEUE");
        fx = new SystemFixture(dir);
    }

    @AfterAll
    void removeNamespaces() {
        if (fx != null) {
            fx.close();
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (consumer != null) {
            consumer.stop(2_000);
            consumer = null;
        }
        if (rules != null) {
            rules.remove();
            rules = null;
        }
        fx.removeBaseline();
    }

    private void install(Mode mode) throws Exception {
        rules = new QueueRules(Netns.commands(fx.net.server), new QueueRules.Settings(mode, QUEUE, 1000, 100));
        rules.install();
    }

    private QueueConsumer start(Policy policy) throws Exception {
        QueueSocket socket = Netns.call(fx.net.server, () -> QueueSocket.open(QUEUE, 256, 1024, 1 << 20, 64));
        QueueConsumer c = new QueueConsumer(socket, policy, drops, (m, e) -> warnings.add(m));
        c.start();
        return c;
    }

    @Test
    void trustedListenerIsReachedThroughTheDropBaselineBecauseOfTheMark() throws Exception {
        fx.installBaseline();
        install(Mode.FIRST_PACKET);
        consumer = start(Policy.firstPacket(() -> store));

        assertEquals("hello-" + TRUSTED_TCP, fx.connect(fx.net.serverV4, TRUSTED_TCP));
        assertEquals("hello-" + TRUSTED_TCP, fx.connect(fx.net.serverV6, TRUSTED_TCP));
        assertTrue(store.asked.contains("TCP/IPV4/" + TRUSTED_TCP), store.asked.toString());
        assertTrue(store.asked.contains("TCP/IPV6/" + TRUSTED_TCP), store.asked.toString());
        // only first packets were queued: the rest of each connection stayed in the kernel
        assertEquals(2, consumer.counters().received(), consumer.counters().toString());
    }

    @Test
    void withoutTheMarkTheBaselineDropsWhatTheQueueAccepted() throws Exception {
        fx.installBaseline(false); // an accept in one base chain does not bind another: the mark is what carries it
        install(Mode.FIRST_PACKET);
        consumer = start(Policy.firstPacket(() -> store));

        assertNull(fx.connect(fx.net.serverV4, TRUSTED_TCP));
        assertTrue(consumer.counters().accepted() >= 1, consumer.counters().toString());
    }

    @Test
    void untrustedListenerGetsNoConnectionAndTheDropIsRecorded() throws Exception {
        fx.installBaseline();
        install(Mode.FIRST_PACKET);
        consumer = start(Policy.firstPacket(() -> store));
        long before = drops.total();

        assertNull(fx.connect(fx.net.serverV4, UNTRUSTED_TCP), "an untrusted listener must not be reachable");

        assertTrue(store.asked.contains("TCP/IPV4/" + UNTRUSTED_TCP), store.asked.toString());
        assertTrue(drops.total() > before);
        DroppedPacket d = drops.snapshot().get(drops.snapshot().size() - 1);
        assertEquals(fx.net.clientV4, d.source());
        assertEquals(fx.net.serverV4, d.destination());
        assertEquals(6, d.protocol());
        assertEquals(UNTRUSTED_TCP, d.port());
        assertEquals(Direction.INBOUND, d.direction());
    }

    @Test
    void datagramToUntrustedPortIsDroppedWhileTheNextTrustedOneArrives() throws Exception {
        fx.installBaseline();
        install(Mode.FIRST_PACKET);
        consumer = start(Policy.firstPacket(() -> store));

        fx.sendUdp(fx.net.serverV4, UNTRUSTED_UDP, "blocked-1\n");
        fx.sendUdp(fx.net.serverV4, TRUSTED_UDP, "allowed-1\n");

        // Both were queued in order on one CPU and decided in order: once the second arrived, the first is decided.
        await(() -> fx.receivedText(TRUSTED_UDP).contains("allowed-1"), "the trusted datagram did not arrive");
        assertFalse(fx.receivedText(UNTRUSTED_UDP).contains("blocked-1"), "the untrusted datagram arrived");
    }

    @Test
    void withoutPacketBypassEveryFirstPacketIsDropped() throws Exception {
        fx.installBaseline();
        install(Mode.FIRST_PACKET);
        consumer = start(Policy.firstPacket(() -> null));

        assertNull(fx.connect(fx.net.serverV4, TRUSTED_TCP));
        assertTrue(consumer.counters().unbound() >= 1, consumer.counters().toString());
    }

    @Test
    void unboundQueueDropsQueuedPacketsAndARestartedConsumerDecidesAgain() throws Exception {
        install(Mode.FIRST_PACKET); // no baseline: only the queue stands between the client and the listeners
        consumer = start(Policy.firstPacket(() -> store));
        fx.sendUdp(fx.net.serverV4, TRUSTED_UDP, "bound-1\n");
        await(() -> fx.receivedText(TRUSTED_UDP).contains("bound-1"), "the datagram did not pass a bound queue");

        assertTrue(consumer.stop(2_000), "the receive thread did not stop");
        consumer = null;
        long queued = fx.queuedByRule(QueueRules.CHAIN_NEW);
        fx.sendUdp(fx.net.serverV4, TRUSTED_UDP, "unbound-1\n");
        // the rule counter moves when the packet is handed to the queue; with nobody bound the kernel drops it there
        await(() -> {
            try {
                return fx.queuedByRule(QueueRules.CHAIN_NEW) > queued;
            } catch (Exception e) {
                return false;
            }
        }, "the datagram was not queued");
        assertNull(fx.connect(fx.net.serverV4, TRUSTED_TCP), "a queue nobody consumes must drop, not pass");

        consumer = start(Policy.firstPacket(() -> store));
        fx.sendUdp(fx.net.serverV4, TRUSTED_UDP, "bound-2\n");
        await(() -> fx.receivedText(TRUSTED_UDP).contains("bound-2"), "the restarted consumer did not decide");
        assertFalse(fx.receivedText(TRUSTED_UDP).contains("unbound-1"), "a datagram passed an unbound queue");
        assertEquals("hello-" + TRUSTED_TCP, fx.connect(fx.net.serverV4, TRUSTED_TCP));
    }

    @Test
    void fullQueueDropsWhatDoesNotFitAndNothingPasses() throws Exception {
        install(Mode.FIRST_PACKET); // no baseline: only the queue stands between the client and the listeners
        // bound with room for 4 packets, never read: what the kernel sees when the consumer hangs or falls behind
        QueueSocket stalled = Netns.call(fx.net.server, () -> QueueSocket.open(QUEUE, 256, 4, 1 << 20, 64));
        long droppedBefore = droppedAtFullQueue();
        try {
            for (int i = 0; i < 12; i++) {
                fx.sendUdp(fx.net.serverV4, TRUSTED_UDP, "while-full-" + i + "\n");
            }
            // the kernel counts what it dropped at the full queue: neither FAIL_OPEN nor bypass lets it through
            await(() -> droppedAtFullQueue() - droppedBefore >= 8, "the full queue did not drop");
            assertFalse(fx.receivedText(TRUSTED_UDP).contains("while-full-"), "a datagram passed a full queue");
        } finally {
            stalled.close(); // the 4 it held are dropped with it
        }
        consumer = start(Policy.firstPacket(() -> store));
        fx.sendUdp(fx.net.serverV4, TRUSTED_UDP, "after-stall\n");
        await(() -> fx.receivedText(TRUSTED_UDP).contains("after-stall"), "a new consumer did not decide");
        assertFalse(fx.receivedText(TRUSTED_UDP).contains("while-full-"), "a held datagram passed after the stall");
    }

    /** The kernel's "dropped at a full queue" counter of our queue (/proc/net/netfilter/nfnetlink_queue). */
    private long droppedAtFullQueue() {
        try {
            for (String line : fx.net.in(fx.net.server, "cat", "/proc/net/netfilter/nfnetlink_queue").split("\n")) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 6 && f[0].equals(Integer.toString(QUEUE))) {
                    return Long.parseLong(f[5]);
                }
            }
        } catch (Exception e) {
            return -1;
        }
        return 0;
    }

    @Test
    void userspaceModeAsksTheDeciderAboutInboundAndOutboundPackets() throws Exception {
        fx.installBaseline();
        install(Mode.USERSPACE);
        AtomicInteger inbound = new AtomicInteger();
        AtomicInteger outbound = new AtomicInteger();
        PacketDecider decider = p -> {
            (p.direction() == Direction.INBOUND ? inbound : outbound).incrementAndGet();
            int destination = Ip.destination(p, false);
            return p.direction() == Direction.OUTBOUND || (destination != Ip.NO_DESTINATION
                    && Ip.portOf(destination) == TRUSTED_TCP) ? Verdict.ACCEPT : Verdict.DROP;
        };
        consumer = start(Policy.userspace(() -> decider));

        assertEquals("hello-" + TRUSTED_TCP, fx.connect(fx.net.serverV4, TRUSTED_TCP));
        assertNull(fx.connect(fx.net.serverV4, UNTRUSTED_TCP));
        // SYN, ACK, FIN... came in; SYN-ACK, data, FIN went out: every packet of the connection crossed the decider
        assertTrue(inbound.get() >= 3, "inbound packets seen: " + inbound);
        assertTrue(outbound.get() >= 2, "outbound packets seen: " + outbound);
    }

    @Test
    void malformedAndOddPacketsDoNotStopTheConsumer() throws Exception {
        fx.installBaseline();
        install(Mode.USERSPACE); // no conntrack in these rules: odd packets reach the consumer as they are
        PacketDecider decider = p -> {
            int destination = Ip.destination(p, false);
            if (destination != Ip.NO_DESTINATION && Ip.portOf(destination) == 6666) {
                throw new IllegalStateException("a decider failing on purpose");
            }
            return p.direction() == Direction.OUTBOUND || (destination != Ip.NO_DESTINATION
                    && Ip.portOf(destination) == TRUSTED_TCP) ? Verdict.ACCEPT : Verdict.DROP;
        };
        consumer = start(Policy.userspace(() -> decider));
        String server = fx.net.serverV4;

        fx.net.attempt(fx.net.client, null, "hping3", "-c", "3", "-i", "u10000", "-S", "-F", "-p", "9090", server);
        fx.net.attempt(fx.net.client, null, "hping3", "-c", "3", "-i", "u10000", "-S", "-f", "-d", "200", "-p",
                "9090", server);
        fx.net.attempt(fx.net.client, null, "hping3", "-c", "3", "-i", "u10000", "-S", "--tcpoff", "1", "-p",
                "9090", server);
        fx.net.attempt(fx.net.client, null, "hping3", "-c", "3", "-i", "u10000", "-2", "-d", "0", "-p", "6666",
                server);
        // transport headers cut short: IP says TCP or UDP, the payload is 3 bytes
        fx.net.attempt(fx.net.client, null, "python3", "-c", String.join("\n",
                "import socket",
                "for proto in (6, 17):",
                "    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, proto)",
                "    s.sendto(b'\\x1f\\x90\\x01', ('" + server + "', 0))"));

        // 9 odd TCP segments (fragments arrive reassembled), 3 datagrams that make the decider throw, 2 cut short
        await(() -> consumer.counters().dropped() >= 14, "not every odd packet was dropped: " + consumer.counters());
        assertEquals(3, consumer.counters().deciderErrors(), consumer.counters().toString());
        assertTrue(consumer.alive(), "the consumer died: " + consumer.failure());
        assertEquals("hello-" + TRUSTED_TCP, fx.connect(server, TRUSTED_TCP));
    }
}
