package org.flexwall.hook.nfqueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.junit.jupiter.api.Test;

class QueueRulesTest {
    private static final QueueRules.Settings FIRST = new QueueRules.Settings(Mode.FIRST_PACKET, 5, 300, 50);
    private static final QueueRules.Settings ALL = new QueueRules.Settings(Mode.USERSPACE, 5, 300, 50);

    private static PermittedSet.Ports ports() {
        PermittedSet s = new PermittedSet();
        s.add(Fixtures.permittedPort(Protocol.TCP, AddressFamily.IPV4, 22));
        s.add(Fixtures.permittedPort(Protocol.TCP, AddressFamily.IPV6, 443));
        s.add(Fixtures.permittedPort(Protocol.UDP, AddressFamily.IPV4, 53));
        return s.snapshot();
    }

    @Test
    void firstPacketRulesQueueOnlyNewSynsAndDatagramsToUnpermittedPortsUnderALimitAndDropWhatIsOver() {
        String v4 = QueueRules.iptablesRestore(FIRST, AddressFamily.IPV4, ports());
        assertEquals(String.join("\n",
                "*mangle",
                ":FLEXWALL-QUEUE - [0:0]",
                ":FLEXWALL-QUEUE-NEW - [0:0]",
                ":FLEXWALL-QUEUE-OUT - [0:0]",
                "-A FLEXWALL-QUEUE -i lo -j RETURN",
                "-A FLEXWALL-QUEUE -m mark --mark 0x20000000/0x20000000 -j RETURN",
                "-A FLEXWALL-QUEUE -m conntrack ! --ctstate NEW -j RETURN",
                "-A FLEXWALL-QUEUE -p tcp -m multiport --dports 22 -j RETURN",
                "-A FLEXWALL-QUEUE -p udp -m multiport --dports 53 -j RETURN",
                "-A FLEXWALL-QUEUE -p tcp --syn -j FLEXWALL-QUEUE-NEW",
                "-A FLEXWALL-QUEUE -p udp -j FLEXWALL-QUEUE-NEW",
                "-A FLEXWALL-QUEUE-NEW -m limit --limit 300/sec --limit-burst 50 -j NFQUEUE --queue-num 5",
                "-A FLEXWALL-QUEUE-NEW -j DROP",
                "COMMIT", ""), v4);
        String v6 = QueueRules.iptablesRestore(FIRST, AddressFamily.IPV6, ports());
        assertTrue(v6.contains("-p tcp -m multiport --dports 443 -j RETURN"));
        assertFalse(v6.contains("--dports 22 "));
        assertFalse(v4.contains("queue-bypass"), "no listener must mean drop");
    }

    @Test
    void userspaceRulesQueueEveryTcpAndUdpPacketBothWaysWithoutLimit() {
        String v4 = QueueRules.iptablesRestore(ALL, AddressFamily.IPV4, ports());
        assertTrue(v4.contains("-A FLEXWALL-QUEUE -p tcp -j NFQUEUE --queue-num 5\n"));
        assertTrue(v4.contains("-A FLEXWALL-QUEUE-OUT -p udp -j NFQUEUE --queue-num 5\n"));
        assertFalse(v4.contains("conntrack"));
        assertFalse(v4.contains("limit"));
    }

    @Test
    void manyPermittedPortsAreSplitIntoMultiportMatchesOfFifteen() {
        List<String> lists = QueueRules.multiport(IntStream.rangeClosed(1, 31).boxed()
                .collect(Collectors.toCollection(TreeSet::new)));
        assertEquals(3, lists.size());
        assertEquals("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15", lists.get(0));
        assertEquals("31", lists.get(2));
    }

    @Test
    void nftRulesetReplacesItsTableInOneTransaction() {
        String nft = QueueRules.nftRuleset(FIRST, ports(), "queue num 5");
        assertTrue(nft.startsWith("table inet flexwall_queue {\n}\ndelete table inet flexwall_queue\n"));
        assertTrue(nft.contains("meta nfproto ipv4 tcp dport { 22 } return"));
        assertTrue(nft.contains("meta nfproto ipv6 tcp dport { 443 } return"));
        assertTrue(nft.contains("limit name \"new_flows\" queue num 5"));
        assertTrue(nft.indexOf("meta l4proto udp drop") > nft.indexOf("meta l4proto udp limit"), "over the limit: drop");
        assertTrue(nft.indexOf("== syn drop") > nft.indexOf("== syn limit"), "over the limit: drop");
        assertFalse(nft.contains("bypass"));
    }

    @Test
    void permittedSetCountsSocketsSharingAPort() {
        PermittedSet s = new PermittedSet();
        var a = Fixtures.permittedPort(Protocol.TCP, AddressFamily.IPV4, 80);
        assertTrue(s.add(a));
        assertFalse(s.add(a), "a second socket on the port changes nothing");
        assertFalse(s.remove(a), "one socket still holds the port");
        assertTrue(s.remove(a));
        assertTrue(s.snapshot().tcp4().isEmpty());
    }

    @Test
    void invalidSettingsAreRefusedWithTheirName() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> NfqueueHook.Settings.of(Configs.config(Map.of("copyRange", 10))));
        assertEquals("copyRange must be 64-65535, not 10", e.getMessage());
        assertEquals(Mode.USERSPACE, NfqueueHook.Settings.of(Configs.config(Map.of("mode", "userspace"))).mode());
    }
}
