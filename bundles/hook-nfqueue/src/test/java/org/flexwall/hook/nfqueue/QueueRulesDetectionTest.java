package org.flexwall.hook.nfqueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

/**
 * Backend detection at install time, against scripted tools: which commands run for each outcome of the probe. The
 * real kernel is in {@link QueueRulesSystemTest}.
 */
class QueueRulesDetectionTest {
    private static final QueueRules.Settings FIRST = new QueueRules.Settings(Mode.FIRST_PACKET, 5, 300, 50);

    /**
     * Records every command; the probe answers as told, {@code -S} lists our chains when there are leftovers, every
     * other command succeeds.
     */
    private static final class ScriptedTools extends Commands {
        final List<String> ran = new ArrayList<>();
        final List<String> stdins = new ArrayList<>();
        boolean nftQueueWorks;
        boolean nftMissing;
        boolean iptablesMissing;
        boolean restoreFails;
        boolean leftovers;

        ScriptedTools() {
            super(List.of());
        }

        @Override
        Result run(List<String> argv, String stdin) throws IOException {
            String command = String.join(" ", argv);
            if ((nftMissing && argv.get(0).equals("nft")) || (iptablesMissing && argv.get(0).contains("iptables"))) {
                throw new IOException("cannot run " + argv.get(0));
            }
            ran.add(command);
            stdins.add(stdin);
            if (restoreFails && argv.get(0).endsWith("-restore")) {
                return new Result(1, "iptables-restore: line 5 failed");
            }
            if (stdin != null && stdin.contains(QueueRules.NFT_PROBE_TABLE) && !nftQueueWorks) {
                return new Result(1, "/dev/stdin:4:27-38: Error: Could not process rule: No such file or directory\n"
                        + "    meta l4proto 253 queue num 5");
            }
            if (leftovers && argv.contains("-S")) {
                return new Result(0, "-P INPUT ACCEPT\n-N " + QueueRules.CHAIN + "\n-N " + QueueRules.CHAIN_NEW
                        + "\n-A INPUT -j " + QueueRules.CHAIN + "\n");
            }
            return new Result(0, "");
        }

        boolean restored(String line) {
            return stdins.stream().anyMatch(s -> s != null && s.lines().anyMatch(line::equals));
        }

        boolean ranStartingWith(String prefix) {
            return ran.stream().anyMatch(c -> c.startsWith(prefix));
        }
    }

    @Test
    void probeIsOneTransactionThatCreatesAndDeletesAThrowawayTable() {
        String probe = QueueRules.probe(5);
        assertTrue(probe.startsWith("table inet " + QueueRules.NFT_PROBE_TABLE + " {"), probe);
        assertTrue(probe.contains("queue num 5"), probe);
        assertTrue(probe.endsWith("delete table inet " + QueueRules.NFT_PROBE_TABLE + "\n"), probe);
        assertFalse(probe.contains(QueueRules.NFT_TABLE + " "), "the probe must not touch the real table");
    }

    @Test
    void withoutNftQueueTheRulesGoThroughIptablesNftAndTheReasonIsNftsError() throws Exception {
        ScriptedTools tools = new ScriptedTools();
        QueueRules rules = new QueueRules(tools, FIRST);
        QueueRules.Detection d = rules.install();
        assertEquals(QueueRules.Backend.IPTABLES, d.backend());
        assertEquals(QueueRules.Backend.IPTABLES, rules.backend());
        assertTrue(d.reason().startsWith("nft's queue statement is not in this kernel (Error: Could not process rule"),
                d.reason());
        assertEquals("nft -f -", tools.ran.get(0), "the probe runs first");
        assertTrue(tools.ranStartingWith("iptables-nft-restore --noflush"), tools.ran.toString());
        assertTrue(tools.ranStartingWith("ip6tables-nft-restore --noflush"), tools.ran.toString());
        assertTrue(tools.ran.contains("nft delete table inet " + QueueRules.NFT_TABLE), "nft leftovers removed");
        assertEquals(1, tools.stdins.stream().filter(s -> s != null && s.contains("queue num")).count(),
                "nothing but the probe tried nft queue");
    }

    @Test
    void withNftQueueOneNftTableHoldsTheRulesAndIptablesLeftoversGo() throws Exception {
        ScriptedTools tools = new ScriptedTools();
        tools.nftQueueWorks = true;
        tools.leftovers = true;
        QueueRules rules = new QueueRules(tools, FIRST);
        QueueRules.Detection d = rules.install();
        assertEquals(QueueRules.Backend.NFT, d.backend());
        assertEquals("the kernel has nft's queue statement", d.reason());
        int install = tools.stdins.size() - 1;
        assertEquals("nft -f -", tools.ran.get(install));
        assertTrue(tools.stdins.get(install).contains("limit name \"new_flows\" queue num 5"),
                tools.stdins.get(install));
        assertFalse(tools.stdins.stream().anyMatch(s -> s != null && s.contains("NFQUEUE")), "no iptables rule: "
                + tools.stdins);
        assertTrue(tools.restored("-X " + QueueRules.CHAIN), "iptables leftovers removed: " + tools.stdins);

    }

    @Test
    void theKernelIsProbedOnceAndAnAnswerFromAnEarlierInstanceIsTaken() throws Exception {
        ScriptedTools tools = new ScriptedTools();
        QueueRules rules = new QueueRules(tools, FIRST);
        QueueRules.Detection first = rules.install();
        rules.install();
        assertEquals(1, probes(tools), "probed again at the second install: " + tools.ran);

        ScriptedTools later = new ScriptedTools();
        assertEquals(first, new QueueRules(later, FIRST, first).install());
        assertEquals(0, probes(later), later.ran.toString());
    }

    @Test
    void aRemovalThatFailsAsOneTransactionIsDoneCommandByCommand() throws Exception {
        ScriptedTools tools = new ScriptedTools();
        tools.leftovers = true;
        tools.restoreFails = true; // someone else's rule jumps to our chain: -X refuses, and the whole batch with it
        new QueueRules(tools, FIRST).remove();
        assertTrue(tools.ran.contains("iptables-nft -t mangle -D INPUT -j " + QueueRules.CHAIN), tools.ran.toString());
        assertTrue(tools.ran.contains("ip6tables-nft -t mangle -X " + QueueRules.CHAIN_OUT), tools.ran.toString());
    }

    private static long probes(ScriptedTools tools) {
        return tools.stdins.stream().filter(s -> s != null && s.contains(QueueRules.NFT_PROBE_TABLE)).count();
    }

    @Test
    void nftMissingFallsBackToIptablesNft() throws Exception {
        ScriptedTools tools = new ScriptedTools();
        tools.nftMissing = true;
        QueueRules.Detection d = new QueueRules(tools, FIRST).install();
        assertEquals(QueueRules.Backend.IPTABLES, d.backend());
        assertTrue(d.reason().startsWith("nft could not be run"), d.reason());
        assertTrue(tools.ranStartingWith("iptables-nft-restore --noflush"), tools.ran.toString());
    }

    @Test
    void removeClearsBothBackendsWithoutProbingAndFailsOnlyWhenNeitherToolRuns() throws Exception {
        ScriptedTools tools = new ScriptedTools();
        tools.leftovers = true;
        new QueueRules(tools, FIRST).remove();
        assertTrue(tools.ran.contains("nft delete table inet " + QueueRules.NFT_TABLE), tools.ran.toString());
        assertTrue(tools.ran.contains("ip6tables-nft-restore --noflush") && tools.restored("-X " + QueueRules.CHAIN_NEW),
                tools.ran.toString());
        assertFalse(tools.stdins.stream().anyMatch(s -> s != null && s.contains(QueueRules.NFT_PROBE_TABLE)));

        ScriptedTools onlyNft = new ScriptedTools();
        onlyNft.iptablesMissing = true;
        new QueueRules(onlyNft, FIRST).remove(); // an nft-queue kernel without iptables: fine

        ScriptedTools none = new ScriptedTools();
        none.iptablesMissing = true;
        none.nftMissing = true;
        assertThrows(IOException.class, () -> new QueueRules(none, FIRST).remove());
    }
}
