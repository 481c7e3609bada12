package org.flexwall.hook.nfqueue;

import static org.flexwall.hook.nfqueue.SystemFixture.TRUSTED_TCP;
import static org.flexwall.hook.nfqueue.SystemFixture.UNTRUSTED_TCP;
import static org.flexwall.hook.nfqueue.SystemFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.DroppedPacket;
import org.flexwall.api.packet.Marks;
import org.flexwall.api.packet.Verdict;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.Protocol;
import org.flexwall.testing.Configs;
import org.flexwall.testing.RecordingLogger;
import org.flexwall.testing.SystemTests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DS component as SCR would drive it (activate, references, listener events, deactivate), run in a test network
 * namespace with real iptables-nft rules and real packets. Packet bypass is a test stand-in.
 */
@Tag("system")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NfqueueHookSystemTest {
    private SystemFixture fx;
    private final List<String> log = new CopyOnWriteArrayList<>();

    @BeforeAll
    void namespaces(@TempDir Path dir) throws Exception {
        SystemTests.requireRoot("create network namespaces and bind NFQUEUE");
        fx = new SystemFixture(dir);
        fx.installBaseline();
    }

    @AfterAll
    void removeNamespaces() {
        if (fx != null) {
            fx.close();
        }
    }

    private NfqueueHook hook() {
        return new NfqueueHook(RecordingLogger.into(log), Netns.commands(fx.net.server), Netns.threadsIn(fx.net.server));
    }

    private String mangle(String tool) throws Exception {
        return fx.net.in(fx.net.server, tool, "-t", "mangle");
    }

    @Test
    void synsOverTheRateLimitAreDroppedAndNeverReachAnAcceptAfterTheQueue() throws Exception {
        // the baseline with a later accept of the untrusted port, as anti-lockout was: nothing the queue path would
        // have dropped may reach it
        fx.removeBaseline();
        String later = "table inet fwq_later {\n chain input {\n  type filter hook input priority filter; policy drop;\n"
                + "  ct state established,related accept\n  tcp dport " + UNTRUSTED_TCP + " counter accept\n }\n}\n";
        assertTrue(Netns.commands(fx.net.server).run(List.of("nft", "-f", "-"), later).ok());
        NfqueueHook hook = hook();
        hook.bindBypassTable(new Fixtures.TrustingTable());
        hook.activate(Configs.config(NfqueueHook.Config.class, Map.of("queueNum", 11, "rateLimit", 1, "rateBurst", 1)));
        try {
            await(() -> hook.status().startsWith("active") && !hook.status().contains("problem"),
                    "the hook did not become active: " + hook.status());
            // a SYN flood from random sources at the untrusted listener: a burst far over 1/s
            fx.net.attempt(fx.net.client, null, "hping3", "-S", "--rand-source", "-c", "300", "-i", "u1000", "-p",
                    Integer.toString(UNTRUSTED_TCP), fx.net.serverV4);
            String counter = fx.net.in(fx.net.server, "nft", "list", "table", "inet", "fwq_later");
            assertTrue(counter.contains("counter packets 0 bytes 0"), counter);
            assertTrue(fx.queuedByRule(QueueRules.CHAIN_NEW) >= 1, "the first SYN was queued and dropped in Java");
        } finally {
            hook.deactivate();
            Netns.commands(fx.net.server).run(List.of("nft", "delete", "table", "inet", "fwq_later"), null);
            fx.installBaseline();
        }
    }

    @Test
    void componentQueuesDecidesLeavesVerifiedPacketsToTheKernelAndRemovesItsRulesWhenDeactivated() throws Exception {
        NfqueueHook hook = hook();
        Fixtures.TrustingTable store = new Fixtures.TrustingTable().trust(Protocol.TCP, TRUSTED_TCP);
        hook.bindBypassTable(store);
        hook.activate(Configs.config(NfqueueHook.Config.class, Map.of("queueNum", 9)));
        try {
            await(() -> hook.status().startsWith("active") && !hook.status().contains("problem"),
                    "the hook did not become active: " + hook.status());
            assertTrue(fx.net.in(fx.net.server, "iptables-nft-save", "-t", "mangle").contains("--queue-num 9"));
            assertTrue(fx.net.in(fx.net.server, "ip6tables-nft-save", "-t", "mangle").contains("--queue-num 9"));

            assertEquals("hello-" + TRUSTED_TCP, fx.connect(fx.net.serverV4, TRUSTED_TCP));
            assertNull(fx.connect(fx.net.serverV4, UNTRUSTED_TCP));
            DroppedPacket drop = hook.recentDrops().get(hook.recentDrops().size() - 1);
            assertEquals(UNTRUSTED_TCP, drop.port());
            assertTrue(hook.status().contains("1 accepted"), hook.status());
            assertEquals(1L, hook.counters().get("accepted"), hook.counters().toString());
            assertTrue(hook.counters().get("dropped") >= 1, hook.counters().toString());

            // a packet the nft baseline's verify chain marked (its socket is verified) is left to the kernel
            String verify = "table inet fwq_verify {\n chain verify {\n  type filter hook input priority -160;\n"
                    + "  tcp dport " + UNTRUSTED_TCP + " meta mark set meta mark | "
                    + String.format("0x%08x", Marks.VERIFIED_SOCKET) + "\n }\n}\n";
            assertTrue(Netns.commands(fx.net.server).run(List.of("nft", "-f", "-"), verify).ok());
            long queued = fx.queuedByRule(QueueRules.CHAIN_NEW);
            assertNull(fx.connect(fx.net.serverV4, UNTRUSTED_TCP), "the stand-in baseline drops it");
            assertEquals(queued, fx.queuedByRule(QueueRules.CHAIN_NEW), "a packet to a verified socket was queued");
            Netns.commands(fx.net.server).run(List.of("nft", "delete", "table", "inet", "fwq_verify"), null);
        } finally {
            hook.deactivate();
        }
        assertFalse(save().contains(QueueRules.CHAIN), "rules left behind after deactivation:\n" + save());
        assertTrue(hook.status().startsWith("not active"), hook.status());
    }

    @Test
    void badConfigurationKeepsTheHookOffWithAClearMessage() throws Exception {
        NfqueueHook hook = hook();
        hook.activate(Configs.config(NfqueueHook.Config.class, Map.of("mode", "everything")));
        try {
            assertEquals("not active: configuration org.flexwall.hook.nfqueue: mode must be firstPacket or "
                    + "userspace, not \"everything\"", hook.status());
            assertFalse(save().contains(QueueRules.CHAIN));
        } finally {
            hook.deactivate();
        }
    }

    @Test
    void aQueueHeldByAnotherConsumerIsReportedAndTakenOverOnceFree() throws Exception {
        QueueSocket other = Netns.call(fx.net.server, () -> QueueSocket.open(11, 128, 64, 1 << 16, 4));
        NfqueueHook hook = hook();
        hook.bindBypassTable(new Fixtures.TrustingTable().trust(Protocol.TCP, TRUSTED_TCP));
        hook.activate(Configs.config(NfqueueHook.Config.class, Map.of("queueNum", 11)));
        try {
            await(() -> hook.status().contains("Another process consumes this queue"),
                    "the busy queue was not reported: " + hook.status() + " " + log);
            other.close();
            // the worker retries every 5 s
            await(() -> hook.status().startsWith("active"), "the hook did not take the freed queue: " + hook.status());
            assertEquals("hello-" + TRUSTED_TCP, fx.connect(fx.net.serverV4, TRUSTED_TCP));
        } finally {
            other.close();
            hook.deactivate();
        }
    }

    @Test
    void userspaceModeHandsTheDeciderWholePacketsWhateverTheCopyRange() throws Exception {
        NfqueueHook hook = hook();
        List<int[]> inbound = new CopyOnWriteArrayList<>(); // { bytes the decider got, the packet's IPv4 length }
        hook.bindDecider(p -> {
            if (p.direction() == Direction.INBOUND && p.length() >= 4 && p.byteAt(0) >>> 4 == 4) {
                inbound.add(new int[] { p.length(), p.byteAt(2) << 8 | p.byteAt(3) });
            }
            return Verdict.DROP;
        });
        hook.activate(Configs.config(NfqueueHook.Config.class, Map.of("queueNum", 13, "mode", "userspace", "copyRange", 256)));
        try {
            await(() -> hook.status().startsWith("active"), "the hook did not become active: " + hook.status());
            fx.net.attempt(fx.net.client, null, "hping3", "-2", "-c", "3", "-i", "u10000", "-d", "1200", "-p", "9999",
                    fx.net.serverV4);

            await(() -> inbound.stream().filter(i -> i[1] > 1200).count() >= 3, "the datagrams were not queued");
            for (int[] i : inbound) {
                assertEquals(i[1], i[0], "the decider must get the whole packet: it drops one cut short");
            }
        } finally {
            hook.deactivate();
        }
    }

    private String save() {
        try {
            return fx.net.in(fx.net.server, "iptables-nft-save", "-t", "mangle");
        } catch (Exception e) {
            return "";
        }
    }
}
