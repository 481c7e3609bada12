package org.flexwall.hook.nfqueue;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The rule text against the real nft and iptables-nft, in a namespace made for the test. */
@Tag("system")
class QueueRulesSystemTest {

    @Test
    void probeChoosesABackendAndLeavesNoTableBehind() throws Exception {
        assumeTrue(Netns.root(), "system test skipped: needs root to create network namespaces");
        try (Netns net = Netns.create()) {
            Commands c = Netns.commands(net.server);
            QueueRules rules = new QueueRules(c, new QueueRules.Settings(Mode.FIRST_PACKET, 1, 10, 10));
            assertNotNull(rules.backend());
            assertFalse(c.run(List.of("nft", "list", "ruleset"), null).output()
                    .contains(QueueRules.NFT_PROBE_TABLE));
        }
    }

    @Test
    void nftRulesetsOfBothModesLoadAndReplaceEachOther() throws Exception {
        assumeTrue(Netns.root(), "system test skipped: needs root to create network namespaces");
        PermittedSet s = new PermittedSet();
        s.add(Fixtures.permittedPort(Protocol.TCP, AddressFamily.IPV4, 22));
        s.add(Fixtures.permittedPort(Protocol.UDP, AddressFamily.IPV6, 53));
        try (Netns net = Netns.create()) {
            Commands c = Netns.commands(net.server);
            for (Mode mode : Mode.values()) {
                // "accept" stands in for the queue statement this kernel lacks; everything else is checked by nft
                String ruleset = QueueRules.nftRuleset(new QueueRules.Settings(mode, 1, 10, 10), s.snapshot(),
                        "accept");
                Commands.Result r = c.run(List.of("nft", "-f", "-"), ruleset);
                assertTrue(r.ok(), mode + ": " + r.output() + "\n" + ruleset);
            }
            String listed = c.run(List.of("nft", "list", "table", "inet", QueueRules.NFT_TABLE), null).output();
            assertTrue(listed.contains("chain output"), listed);
            assertFalse(listed.contains("new_flows"), "the second load replaced the first:\n" + listed);
        }
    }
}
