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
                "-I INPUT 1 -j FLEXWALL-QUEUE",
                "COMMIT", ""), QueueRules.iptablesRestore(FIRST, EMPTY));
        assertFalse(QueueRules.iptablesRestore(FIRST, EMPTY).contains("queue-bypass"), "no listener must mean drop");
    }

    @Test
    void installLeavesExactlyOneJumpIntoEachChainItsModeUsesAndNoneIntoTheOther() {
        List<String> userspaceInstalled = listed("-N FLEXWALL-QUEUE", "-N FLEXWALL-QUEUE-NEW", "-N FLEXWALL-QUEUE-OUT",
                "-A INPUT -j FLEXWALL-QUEUE", "-A OUTPUT -j FLEXWALL-QUEUE-OUT", "-A FLEXWALL-QUEUE -p tcp -j NFQUEUE");
        assertEquals(List.of("-D OUTPUT -j FLEXWALL-QUEUE-OUT"), jumpLines(QueueRules.iptablesRestore(FIRST,
                userspaceInstalled)), "to firstPacket: the output jump goes, the input jump stays as it is");
        assertEquals(List.of("-I OUTPUT 1 -j FLEXWALL-QUEUE-OUT"), jumpLines(QueueRules.iptablesRestore(ALL,
                listed("-N FLEXWALL-QUEUE", "-A INPUT -j FLEXWALL-QUEUE"))));
        assertEquals(List.of("-I INPUT 1 -j FLEXWALL-QUEUE", "-I OUTPUT 1 -j FLEXWALL-QUEUE-OUT"),
                jumpLines(QueueRules.iptablesRestore(ALL, EMPTY)));
        assertEquals(List.of("-D INPUT -j FLEXWALL-QUEUE"), jumpLines(QueueRules.iptablesRestore(FIRST,
                listed("-A INPUT -j FLEXWALL-QUEUE", "-A INPUT -j FLEXWALL-QUEUE"))), "a duplicate goes");
        assertEquals(List.of("-I INPUT 1 -j FLEXWALL-QUEUE"), jumpLines(QueueRules.iptablesRestore(FIRST,
                listed("-A INPUT -i eth0 -j FLEXWALL-QUEUE"))), "another rule's jump is not ours");
    }

    @Test
    void removalDeletesOurJumpsThenEmptiesThenDeletesOurChainsInOneTransactionAndNothingElse() {
        String removal = QueueRules.iptablesRemoval(listed("-N FLEXWALL-QUEUE", "-N FLEXWALL-QUEUE-NEW",
                "-N OTHER", "-A INPUT -j FLEXWALL-QUEUE", "-A INPUT -j OTHER", "-A FLEXWALL-QUEUE -p tcp --syn -j "
                        + "FLEXWALL-QUEUE-NEW", "-A OUTPUT -j FLEXWALL-QUEUE-OUT"));
        assertEquals(String.join("\n", "*mangle",
                "-D INPUT -j FLEXWALL-QUEUE",
                "-D OUTPUT -j FLEXWALL-QUEUE-OUT",
                "-F FLEXWALL-QUEUE",
                "-F FLEXWALL-QUEUE-NEW",
                "-X FLEXWALL-QUEUE",
                "-X FLEXWALL-QUEUE-NEW",
                "COMMIT", ""), removal);
        assertEquals("", QueueRules.iptablesRemoval(listed("-N OTHER", "-A INPUT -j OTHER")), "none of ours: nothing");
    }

    private static final List<String> EMPTY = listed();

    /** A mangle table as {@code iptables -S} lists it: the built-in chains' policies, then {@code lines}. */
    private static List<String> listed(String... lines) {
        List<String> all = new java.util.ArrayList<>(List.of("-P PREROUTING ACCEPT", "-P INPUT ACCEPT",
                "-P FORWARD ACCEPT", "-P OUTPUT ACCEPT", "-P POSTROUTING ACCEPT"));
        all.addAll(List.of(lines));
        return all;
    }

    /** The lines of a restore input that hook our chains into the built-in ones or unhook them. */
    private static List<String> jumpLines(String restore) {
        return restore.lines().filter(l -> l.matches("-[ID] (INPUT|OUTPUT) .*")).toList();
    }

    @Test
    void userspaceRulesQueueEveryTcpAndUdpPacketBothWaysWithoutLimit() {
        String rules = QueueRules.iptablesRestore(ALL, EMPTY);
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
