package org.flexwall.hook.nftables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.flexwall.testing.Commands;
import org.flexwall.testing.NetnsLab;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Port changes as nfnetlink batches (libnftnl, libmnl) through the hook's library context: the elements land in the
 * right set with the right key (nft lists them back as {@code tcp . 8443}), a batch is all or nothing (a delete of
 * an element that is not there fails the whole change, with the kernel's reason), the next batch on the same context
 * works again, and the machine's own ruleset is untouched.
 */
@Tag("system")
class NetlinkElementsSystemTest {

    @Test
    void portChangesLandAsOneAllOrNothingBatchInTheNamespacesSets() throws Exception {
        Lab.require("nft", "ip");
        String hostTables = Commands.ok(null, "nft", "list", "tables");
        ExecutorService worker = Executors.newSingleThreadExecutor(); // enters ns for good, as the hook's thread
        try (NetnsLab lab = new NetnsLab("fwt-nl")) {
            String ns = lab.namespace("a");
            Nft nft = new NftLibrary(ns);
            Element tcp4 = new Element(Protocol.TCP, AddressFamily.IPV4, 8443);
            Element udp4 = new Element(Protocol.UDP, AddressFamily.IPV4, 53);
            Element tcp6 = new Element(Protocol.TCP, AddressFamily.IPV6, 65535);
            Element udp6 = new Element(Protocol.UDP, AddressFamily.IPV6, 1);
            worker.submit(() -> {
                nft.apply(Ruleset.baseline(Settings.defaults(Origin.NONE)), "apply the baseline");
                nft.changeElements(List.of(tcp4, udp4, tcp6, udp6), List.of());
                return null;
            }).get(60, TimeUnit.SECONDS);
            String set4 = Commands.ok(ns, "nft", "list", "set", "inet", Ruleset.TABLE, Ruleset.SET4);
            String set6 = Commands.ok(ns, "nft", "list", "set", "inet", Ruleset.TABLE, Ruleset.SET6);
            assertTrue(set4.contains("tcp . 8443") && set4.contains("udp . 53"), set4);
            assertTrue(set6.contains("tcp . 65535") && set6.contains("udp . 1 "), set6);
            assertFalse(set4.contains("65535") || set6.contains("8443"), "an element in the other family's set");

            Element never = new Element(Protocol.TCP, AddressFamily.IPV4, 9999);
            Nft.NftException refused = assertThrows(Nft.NftException.class, () -> call(worker, () -> {
                nft.changeElements(List.of(new Element(Protocol.TCP, AddressFamily.IPV4, 7000)), List.of(tcp4, never));
                return null;
            }));
            assertTrue(refused.getMessage().contains("ENOENT"), refused.getMessage());
            set4 = Commands.ok(ns, "nft", "list", "set", "inet", Ruleset.TABLE, Ruleset.SET4);
            assertTrue(set4.contains("tcp . 8443") && !set4.contains("7000"), "the failed batch changed: " + set4);

            worker.submit(() -> {
                nft.changeElements(Set.of(), List.of(tcp4, udp6));
                return null;
            }).get(60, TimeUnit.SECONDS);
            set4 = Commands.ok(ns, "nft", "list", "set", "inet", Ruleset.TABLE, Ruleset.SET4);
            set6 = Commands.ok(ns, "nft", "list", "set", "inet", Ruleset.TABLE, Ruleset.SET6);
            assertFalse(set4.contains("8443"), set4);
            assertTrue(set4.contains("udp . 53") && set6.contains("tcp . 65535") && !set6.contains("udp . 1 "), set6);
            assertEquals(hostTables, Commands.ok(null, "nft", "list", "tables"), "this machine's tables changed");
            worker.submit(nft::close).get(60, TimeUnit.SECONDS);
        } finally {
            worker.shutdownNow();
        }
    }

    private static <T> T call(ExecutorService worker, java.util.concurrent.Callable<T> task) throws Throwable {
        try {
            return worker.submit(task).get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause();
        }
    }
}
