package org.flexwall.hook.nftables;

import java.io.StringReader;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.flexwall.api.packet.DropCount;
import org.flexwall.api.packet.DropRecord;
import org.flexwall.hook.nftables.Nft.NftException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;

import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.json.spi.JsonProvider;

/**
 * The kernel's drop record read back: the baseline counts every new TCP and UDP packet from outside that no permitted
 * port or operator rule admits, before the NFQUEUE hook sees it, in a dynamic set per family keyed by source, protocol
 * and port ({@link Ruleset#DROPS4}, {@link Ruleset#DROPS6}).
 * Read with {@code nft -j} at most once a second, whoever asks how often.
 */
@Component(service = DropRecord.class, configurationPid = NftablesHook.PID)
public class DropRecorder implements DropRecord {
    static final long FRESH_MILLIS = 1000;

    @Reference(service = LoggerFactory.class)
    private Logger log;

    private NftProgram nft; // nft -j: the JSON the library would need an output mode for
    private List<DropCount> last = List.of();
    private long readAt = Long.MIN_VALUE;
    private String lastProblem;

    public DropRecorder() {}

    /** Without OSGi (tests): reads through {@code nft}. */
    DropRecorder(NftProgram nft, Logger log) {
        this.nft = nft;
        this.log = log;
    }

    @Activate
    void activate(NftablesHook.Config config) {
        nft = new NftProgram(List.of(), config.nftBinary().isBlank() ? "nft" : config.nftBinary().strip());
    }

    @Override
    public synchronized List<DropCount> counts() {
        long now = System.nanoTime();
        if (readAt != Long.MIN_VALUE && now - readAt < FRESH_MILLIS * 1_000_000) {
            return last;
        }
        readAt = now;
        List<DropCount> counts = new ArrayList<>();
        try {
            for (String set : List.of(Ruleset.DROPS4, Ruleset.DROPS6)) {
                String json = nft.run(List.of("-j", "list", "set", "inet", Ruleset.TABLE, set), null,
                        "read the drop record " + set);
                counts.addAll(parse(json, Instant.now()));
            }
            lastProblem = null;
        } catch (NftException | RuntimeException e) {
            String problem = e.getMessage();
            if (!String.valueOf(problem).equals(lastProblem) && log != null) {
                log.warn("the drop record cannot be read ({}); the console shows no kernel drops until it can",
                        problem);
            }
            lastProblem = String.valueOf(problem);
            counts.clear();
        }
        last = List.copyOf(counts);
        return last;
    }

    @Override
    public int capacity() {
        return 2 * Ruleset.DROP_RECORD_SIZE;
    }

    /** The elements of one set as {@code nft -j list set} prints them; each update restarted its timeout. */
    static List<DropCount> parse(String json, Instant now) {
        List<DropCount> counts = new ArrayList<>();
        JsonObject root;
        try (JsonReader r = provider().createReader(new StringReader(json))) {
            root = r.readObject();
        }
        for (JsonValue item : root.getJsonArray("nftables")) {
            JsonObject set = item.asJsonObject().getJsonObject("set");
            if (set == null || !set.containsKey("elem")) {
                continue;
            }
            long timeout = set.getJsonNumber("timeout").longValue();
            for (JsonValue e : set.getJsonArray("elem")) {
                JsonObject elem = e.asJsonObject().getJsonObject("elem");
                JsonArray key = elem.getJsonObject("val").getJsonArray("concat");
                long expires = elem.containsKey("expires") ? elem.getJsonNumber("expires").longValue() : timeout;
                long packets = elem.containsKey("counter")
                        ? elem.getJsonObject("counter").getJsonNumber("packets").longValue() : 0;
                counts.add(new DropCount(key.getString(0), protocol(key.get(1)), key.getInt(2), packets,
                        now.minusSeconds(Math.max(0, timeout - expires))));
            }
        }
        return counts;
    }

    private static int protocol(JsonValue v) {
        if (v instanceof JsonNumber n) {
            return n.intValue();
        }
        return switch (((JsonString) v).getString()) {
            case "tcp" -> 6;
            case "udp" -> 17;
            default -> -1;
        };
    }

    /** The JSON provider sits on the launcher's class path next to the API: looked up with the API's loader. */
    static JsonProvider provider() {
        Thread t = Thread.currentThread();
        ClassLoader previous = t.getContextClassLoader();
        try {
            ClassLoader api = JsonProvider.class.getClassLoader();
            t.setContextClassLoader(api != null ? api : ClassLoader.getSystemClassLoader());
            return JsonProvider.provider();
        } finally {
            t.setContextClassLoader(previous);
        }
    }
}
