package org.flexwall.hook.nfqueue;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.flexwall.testing.SystemTests;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The rule text against the real nft and iptables-nft, in a namespace made for the test. */
@Tag("system")
class QueueRulesSystemTest {

    /** Whether this kernel takes nft's queue statement, asked without QueueRules: a table loaded and listed. */
    private static boolean kernelHasNftQueue(Commands c) throws Exception {
        String table = "table inet fwt_queue_check {\n chain c {\n  type filter hook input priority 0;\n"
                + "  meta l4proto 253 queue num 1\n }\n}\n";
        boolean loaded = c.run(List.of("nft", "-f", "-"), table).ok();
        c.run(List.of("nft", "delete", "table", "inet", "fwt_queue_check"), null);
        return loaded;
    }

    @Test
    void detectionAgreesWithTheKernelAndTheProbeLeavesNoTableBehind() throws Exception {
        SystemTests.requireRoot("create network namespaces");
        try (Netns net = Netns.create()) {
            Commands c = Netns.commands(net.server);
            QueueRules rules = new QueueRules(c, new QueueRules.Settings(Mode.FIRST_PACKET, 1, 10, 10));
            QueueRules.Detection d = rules.detect();
            assertEquals(kernelHasNftQueue(c) ? QueueRules.Backend.NFT : QueueRules.Backend.IPTABLES, d.backend(),
                    d.reason());
            assertFalse(c.run(List.of("nft", "list", "ruleset"), null).output()
                    .contains(QueueRules.NFT_PROBE_TABLE));
        }
    }

    @Test
    void withoutNftQueueInstallFallsBackToIptablesNftAndRemoveLeavesNoEmptyTable() throws Exception {
        SystemTests.requireRoot("create network namespaces");
        try (Netns net = Netns.create()) {
            Commands c = Netns.commands(net.server);
            assumeFalse(kernelHasNftQueue(c), "this kernel has nft's queue statement: the fallback is not taken here");
            QueueRules rules = new QueueRules(c, new QueueRules.Settings(Mode.FIRST_PACKET, 1, 10, 10));
            QueueRules.Detection d = rules.install();
            assertEquals(QueueRules.Backend.IPTABLES, d.backend());
            assertTrue(d.reason().startsWith("nft's queue statement is not in this kernel (Error:"), d.reason());
            assertTrue(c.run(List.of("iptables-nft-save", "-t", "mangle"), null).output()
                    .contains("-j NFQUEUE --queue-num 1"));
            assertTrue(rules.present());
            assertFalse(c.run(List.of("nft", "list", "tables"), null).output().contains(QueueRules.NFT_TABLE));
            rules.remove();
            assertFalse(rules.present());
            assertEquals("", c.run(List.of("nft", "list", "tables"), null).output(),
                    "iptables-nft's mangle tables, which held only our chains, go with them");
        }
    }

    @Test
    void aModeChangeLeavesOneJumpPerChainItUsesAndRemoveTakesEverythingEvenWithAnotherProgramsJumpToOurChain()
            throws Exception {
        SystemTests.requireRoot("create network namespaces");
        try (Netns net = Netns.create()) {
            Commands c = Netns.commands(net.server);
            assumeFalse(kernelHasNftQueue(c), "this kernel has nft's queue statement: iptables-nft is not used here");
            new QueueRules(c, new QueueRules.Settings(Mode.USERSPACE, 1, 10, 10)).install();
            QueueRules firstPacket = new QueueRules(c, new QueueRules.Settings(Mode.FIRST_PACKET, 1, 10, 10));
            firstPacket.install(); // as after a reconfiguration: a new instance over the old rules
            firstPacket.install();
            for (String tool : List.of("iptables-nft", "ip6tables-nft")) {
                List<String> mangle = c.run(List.of(tool, "-t", "mangle", "-S"), null).output().lines().toList();
                assertEquals(1, mangle.stream().filter(("-A INPUT -j " + QueueRules.CHAIN)::equals).count(),
                        tool + ":\n" + mangle);
                assertFalse(mangle.stream().anyMatch(l -> l.startsWith("-A OUTPUT")), tool + ":\n" + mangle);
                assertTrue(mangle.contains("-A " + QueueRules.CHAIN + " -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN "
                        + "-j " + QueueRules.CHAIN_NEW), tool + ":\n" + mangle);
            }

            c.runOrThrow(List.of("iptables-nft", "-t", "mangle", "-A", "FORWARD", "-j", QueueRules.CHAIN), null,
                    "jump to our chain as another program might");
            firstPacket.remove();
            String v4 = c.run(List.of("iptables-nft", "-t", "mangle", "-S"), null).output();
            assertFalse(v4.contains("-A INPUT"), "nothing is queued from input any more:\n" + v4);
            assertTrue(v4.contains("-A FORWARD -j " + QueueRules.CHAIN), "the other program's rule stays:\n" + v4);
            assertFalse(firstPacket.present());
            assertEquals("table ip mangle", c.run(List.of("nft", "list", "tables"), null).output().strip(),
                    "IPv6's table held only our chains and went with them; IPv4's holds another's rule");
        }
    }

    @Test
    void withNftQueueInstallUsesOneNftTable() throws Exception {
        SystemTests.requireRoot("create network namespaces");
        try (Netns net = Netns.create()) {
            Commands c = Netns.commands(net.server);
            // not faked: on a kernel without nft_queue (such as the appliance's 6.18 build) this path cannot run
            assumeTrue(kernelHasNftQueue(c), "skipped: this kernel lacks nft's queue statement (nft_queue), so the "
                    + "nft path cannot run here; withoutNftQueueInstallFallsBackToIptablesNft covers this kernel");
            QueueRules rules = new QueueRules(c, new QueueRules.Settings(Mode.FIRST_PACKET, 1, 10, 10));
            assertEquals(QueueRules.Backend.NFT, rules.install().backend());
            assertTrue(c.run(List.of("nft", "list", "table", "inet", QueueRules.NFT_TABLE), null).output()
                    .contains("queue"));
            assertFalse(c.run(List.of("iptables-nft-save", "-t", "mangle"), null).output().contains("NFQUEUE"));
            assertTrue(rules.present());
            rules.remove();
            assertFalse(rules.present());
        }
    }

    @Test
    void nftRulesetsOfBothModesLoadAndReplaceEachOther() throws Exception {
        SystemTests.requireRoot("create network namespaces");
        try (Netns net = Netns.create()) {
            Commands c = Netns.commands(net.server);
            for (Mode mode : Mode.values()) {
                // "accept" stands in for the queue statement this kernel lacks; everything else is checked by nft
                String ruleset = QueueRules.nftRuleset(new QueueRules.Settings(mode, 1, 10, 10), "accept");
                Commands.Result r = c.run(List.of("nft", "-f", "-"), ruleset);
                assertTrue(r.ok(), mode + ": " + r.output() + "\n" + ruleset);
            }
            String listed = c.run(List.of("nft", "list", "table", "inet", QueueRules.NFT_TABLE), null).output();
            assertTrue(listed.contains("chain output"), listed);
            assertFalse(listed.contains("new_flows"), "the second load replaced the first:\n" + listed);
        }
    }
}
