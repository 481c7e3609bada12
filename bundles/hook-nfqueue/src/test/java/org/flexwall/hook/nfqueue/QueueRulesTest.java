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
import org.flexwall.testing.Configs;
import org.junit.jupiter.api.Test;

class QueueRulesTest {
    private static final QueueRules.Settings FIRST = new QueueRules.Settings(Mode.FIRST_PACKET, 5, 300, 50);
    private static final QueueRules.Settings ALL = new QueueRules.Settings(Mode.USERSPACE, 5, 300, 50);

    @Test
    void firstPacketRulesLeaveVerifiedAndOperatorPacketsToTheKernelQueueTheRestUnderALimitAndDropWhatIsOver() {
        assertEquals(String.join("\n",
                "*mangle",
                ":FLEXWALL-QUEUE - [0:0]",
                ":FLEXWALL-QUEUE-NEW - [0:0]",
                ":FLEXWALL-QUEUE-OUT - [0:0]",
                "-A FLEXWALL-QUEUE -i lo -j RETURN",
                "-A FLEXWALL-QUEUE -m mark --mark 0x10000000/0x10000000 -j RETURN",
                "-A FLEXWALL-QUEUE -m mark --mark 0x08000000/0x08000000 -j RETURN",
                "-A FLEXWALL-QUEUE -m conntrack ! --ctstate NEW,UNTRACKED -j RETURN",
                "-A FLEXWALL-QUEUE -p tcp --syn -j FLEXWALL-QUEUE-NEW",
                "-A FLEXWALL-QUEUE -p udp -j FLEXWALL-QUEUE-NEW",
                "-A FLEXWALL-QUEUE-NEW -m limit --limit 300/sec --limit-burst 50 -j NFQUEUE --queue-num 5",
                "-A FLEXWALL-QUEUE-NEW -j DROP",
                "COMMIT", ""), QueueRules.iptablesRestore(FIRST));
        assertFalse(QueueRules.iptablesRestore(FIRST).contains("queue-bypass"), "no listener must mean drop");
    }

    @Test
    void userspaceRulesQueueEveryTcpAndUdpPacketBothWaysWithoutLimit() {
        String rules = QueueRules.iptablesRestore(ALL);
        assertTrue(rules.contains("-A FLEXWALL-QUEUE -p tcp -j NFQUEUE --queue-num 5\n"));
        assertTrue(rules.contains("-A FLEXWALL-QUEUE-OUT -p udp -j NFQUEUE --queue-num 5\n"));
        assertFalse(rules.contains("conntrack"));
        assertFalse(rules.contains("limit"));
        assertFalse(rules.contains("--mark"), "every packet meets the decider, marked or not");
    }

    @Test
    void nftRulesetReplacesItsTableInOneTransaction() {
        String nft = QueueRules.nftRuleset(FIRST, "queue num 5");
        assertTrue(nft.startsWith("table inet flexwall_queue {\n}\ndelete table inet flexwall_queue\n"));
        assertTrue(nft.contains("meta mark & 0x18000000 != 0 return"), nft);
        assertTrue(nft.contains("ct state != { new, untracked } return"), nft);
        assertTrue(nft.contains("limit name \"new_flows\" queue num 5"));
        assertTrue(nft.indexOf("meta l4proto udp drop") > nft.indexOf("meta l4proto udp limit"), "over the limit: drop");
        assertTrue(nft.indexOf("== syn drop") > nft.indexOf("== syn limit"), "over the limit: drop");
        assertFalse(nft.contains("bypass"));
    }

    @Test
    void invalidSettingsAreRefusedWithTheirName() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> HookSettings.of(Configs.config(NfqueueHook.Config.class, Map.of("copyRange", 10))));
        assertEquals("copyRange must be 64-65535, not 10", e.getMessage());
        assertEquals(Mode.USERSPACE, HookSettings.of(Configs.config(NfqueueHook.Config.class, Map.of("mode", "userspace"))).mode());
    }
}
