package org.flexwall.itests;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import jakarta.json.JsonObject;

import org.flexwall.testing.Await;
import org.flexwall.testing.Commands;

/** What the pcap hook's system tests do with an {@link ApplianceLab} and a {@link PcapNetwork}. */
final class PcapLab {
    static final String PART = "pcap hook";

    private PcapLab() {}

    /**
     * Stops the netfilter hooks and removes their table from the inside namespace (the test JVM's): the pcap bridge
     * is then all that decides, and a test shows what it does, not what the kernel path did.
     */
    static void leaveOnlyThePcapHook(ApplianceLab lab) throws Exception {
        WebConsole console = lab.console();
        console.bundleAction("org.flexwall.hook-nfqueue", "stop");
        console.bundleAction("org.flexwall.hook-nftables", "stop");
        OutsideNetwork.here("nft", "delete", "table", "inet", "flexwall"); // may be gone already
        Commands.Result tables = OutsideNetwork.here("nft", "list", "tables").check();
        if (tables.output().contains("inet flexwall")) {
            throw new IllegalStateException("the netfilter hooks' table is still there: " + tables.output());
        }
    }

    /** Waits until the pcap hook reports itself active. */
    static void awaitActive(ApplianceLab lab) {
        Await.until("the pcap hook active", Duration.ofSeconds(30), () -> lab.hookStatus("pcap").startsWith("active"),
                () -> lab.hookStatus("pcap") + "\n" + lab.appliance().output());
    }

    static String status(ApplianceLab lab) throws IOException {
        return lab.flexwall("status").getJsonArray("packetHooks").toString();
    }

    /** The pcap hook's counters in {@code flexwall status --json}'s engine section. */
    static JsonObject counters(ApplianceLab lab) throws IOException {
        JsonObject engine = lab.flexwall("status").getJsonObject("engine");
        if (!engine.containsKey(PART)) {
            throw new AssertionError("no \"" + PART + "\" in the engine counters: " + engine);
        }
        return engine.getJsonObject(PART);
    }

    static long counter(ApplianceLab lab, String name) throws IOException {
        JsonObject counters = counters(lab);
        if (!counters.containsKey(name)) {
            throw new AssertionError("no counter \"" + name + "\": " + counters);
        }
        return counters.getJsonNumber(name).longValue();
    }

    /** tcpdump on the outside host's interface, in the outside namespace, until closed. */
    static Capture capture(PcapNetwork network, Path file) throws IOException {
        return Capture.start(List.of("ip", "netns", "exec", network.outside), PcapNetwork.OUTSIDE_HOST, file);
    }
}
