package org.flexwall.hook.nftables;

import java.io.StringReader;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.flexwall.api.packet.PortTraffic;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.Protocol;
import org.flexwall.hook.nftables.Nft.NftException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;

import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonValue;

/**
 * Reads the per-element counters of the permitted sets (the raw chain's one lookup per packet counts them), with
 * {@code nft -j} at most once a second however often it is asked.
 */
@Component(service = PortTraffic.class, configurationPid = NftablesHook.PID)
public class PortTrafficReader implements PortTraffic {
    @Reference(service = LoggerFactory.class)
    private Logger log;

    private NftProgram nft;
    private Map<PortKey, Counts> last = Map.of();
    private long readAt = Long.MIN_VALUE;
    private String lastProblem;

    public PortTrafficReader() {}

    /** Without OSGi (tests): reads through {@code nft}. */
    PortTrafficReader(NftProgram nft, Logger log) {
        this.nft = nft;
        this.log = log;
    }

    @Activate
    void activate(NftablesHook.Config config) {
        nft = new NftProgram(List.of(), config.nftBinary().isBlank() ? "nft" : config.nftBinary().strip());
    }

    @Override
    public synchronized Map<PortKey, Counts> counts() {
        long now = System.nanoTime();
        if (readAt != Long.MIN_VALUE && now - readAt < DropRecorder.FRESH_MILLIS * 1_000_000) {
            return last;
        }
        readAt = now;
        Map<PortKey, Counts> counts = new HashMap<>();
        try {
            counts.putAll(parse(nft.run(List.of("-j", "list", "set", "inet", Ruleset.TABLE, Ruleset.SET4), null,
                    "read the permitted ports' counters"), AddressFamily.IPV4));
            counts.putAll(parse(nft.run(List.of("-j", "list", "set", "inet", Ruleset.TABLE, Ruleset.SET6), null,
                    "read the permitted ports' counters"), AddressFamily.IPV6));
            lastProblem = null;
        } catch (NftException | RuntimeException e) {
            String problem = String.valueOf(e.getMessage());
            if (!problem.equals(lastProblem) && log != null) {
                log.warn("the permitted ports' counters cannot be read ({}); the console shows none until they can",
                        problem);
            }
            lastProblem = problem;
            counts.clear();
        }
        last = Map.copyOf(counts);
        return last;
    }

    /** One permitted set as {@code nft -j list set} prints it: (protocol . port) elements with their counters. */
    static Map<PortKey, Counts> parse(String json, AddressFamily family) {
        Map<PortKey, Counts> counts = new HashMap<>();
        JsonObject root;
        try (JsonReader r = DropRecorder.provider().createReader(new StringReader(json))) {
            root = r.readObject();
        }
        for (JsonValue item : root.getJsonArray("nftables")) {
            JsonObject set = item.asJsonObject().getJsonObject("set");
            if (set == null || !set.containsKey("elem")) {
                continue;
            }
            for (JsonValue e : set.getJsonArray("elem")) {
                JsonObject elem = e.asJsonObject().getJsonObject("elem");
                if (elem == null || !elem.containsKey("counter")) {
                    continue; // a set made by an earlier version, without counters
                }
                JsonArray key = elem.getJsonObject("val").getJsonArray("concat");
                Protocol protocol = "udp".equals(key.getString(0)) ? Protocol.UDP : Protocol.TCP;
                JsonObject counter = elem.getJsonObject("counter");
                counts.put(new PortKey(protocol, family, key.getInt(1)), new Counts(
                        counter.getJsonNumber("packets").longValue(), counter.getJsonNumber("bytes").longValue()));
            }
        }
        return counts;
    }
}
