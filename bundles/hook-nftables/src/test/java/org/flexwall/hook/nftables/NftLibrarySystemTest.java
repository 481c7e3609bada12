package org.flexwall.hook.nftables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.flexwall.testing.Commands;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * libnftables in the JVM, as the hook uses it: made on a thread of its own that entered a network namespace, every file
 * is one transaction there (a bad one changes nothing and says nft's own error), whichever thread uses it afterwards,
 * and this machine's ruleset is untouched.
 */
@Tag("system")
class NftLibrarySystemTest {

    @Test
    void actsInItsNamespaceOnlyOneTransactionPerFileWithNftsOwnErrors() throws Exception {
        Lab.require("nft", "ip");
        String ns = "fwt-lib-" + Integer.toHexString(ThreadLocalRandom.current().nextInt());
        String hostTables = Commands.ok(null, "nft", "list", "tables");
        Commands.ok(null, "ip", "netns", "add", ns);
        ExecutorService worker = Executors.newSingleThreadExecutor(); // the thread enters ns for good, as the hook's
        try {
            Nft nft = new NftLibrary(ns);
            Element port = new Element(Protocol.TCP, AddressFamily.IPV4, 8443);
            worker.submit(() -> {
                assertFalse(nft.tablePresent());
                nft.apply(Ruleset.baseline(Settings.defaults(Origin.NONE)), "apply the baseline");
                nft.apply(Ruleset.changes(Set.of(port), Set.of()), "add a port");
                return null;
            }).get(60, TimeUnit.SECONDS);
            assertTrue(Commands.ok(ns, "nft", "list", "set", "inet", Ruleset.TABLE, Ruleset.SET4).contains("tcp . 8443"));

            Nft.NftException bad = assertThrows(Nft.NftException.class, () -> {
                try {
                    worker.submit(() -> {
                        nft.apply("flush set inet flexwall permitted4\nadd rule inet flexwall input tcp dport 70000 "
                                + "accept\n", "test a bad file");
                        return null;
                    }).get(60, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    throw e.getCause();
                }
            });
            assertTrue(bad.getMessage().startsWith("cannot test a bad file: libnftables failed:\n"), bad.getMessage());
            // nft's own words; libnftables 1.0.6 quotes the buffer's first line under them, not the one at fault
            assertTrue(bad.getMessage().contains("Error: Service out of range"), bad.getMessage());
            assertTrue(Commands.ok(ns, "nft", "list", "set", "inet", Ruleset.TABLE, Ruleset.SET4).contains("tcp . 8443"),
                    "the flush in the bad file did not run");
            assertTrue(worker.submit(nft::tablePresent).get(60, TimeUnit.SECONDS));

            // once the worker made them, the context and the batches' socket act in ns whichever thread uses them
            Element later = new Element(Protocol.TCP, AddressFamily.IPV4, 9443);
            worker.submit(() -> {
                nft.changeElements(Set.of(), Set.of(port));
                return null;
            }).get(60, TimeUnit.SECONDS);
            nft.changeElements(Set.of(later), Set.of()); // this thread, in this machine's namespace
            assertTrue(nft.tablePresent());
            String set = Commands.ok(ns, "nft", "list", "set", "inet", Ruleset.TABLE, Ruleset.SET4);
            assertTrue(set.contains("tcp . 9443") && !set.contains("tcp . 8443"), set);
            assertEquals(hostTables, Commands.ok(null, "nft", "list", "tables"), "this machine's tables changed");
            worker.submit(nft::close).get(60, TimeUnit.SECONDS);
        } finally {
            worker.shutdownNow();
            Commands.run(null, null, "ip", "netns", "del", ns);
        }
    }
}
