package org.flexwall.hook.nftables;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.junit.jupiter.api.Test;

/**
 * The nft files kept beside the code are the ruleset the hook installs, rendered by {@link Ruleset} from the
 * defaults: the built-in baseline the image loads at the first boot, and the benchmark variant "shipped". A change
 * to the baseline fails here until they are rewritten: {@code -Dflexwall.rulesets.update=true} rewrites both.
 */
class ShippedRulesetsTest {
    static final Path BUILT_IN = Path.of("builtin-baseline.nft");
    static final Path SHIPPED = Path.of("variants/shipped.nft");
    private static final boolean UPDATE = Boolean.getBoolean("flexwall.rulesets.update");

    /** What {@code Main ruleset} prints: the defaults at boot (closed, nothing forwarded, no anti-lockout). */
    static String builtIn() {
        return "# flexwall's built-in baseline (Ruleset.baseline of the defaults), loaded by `flexwall baseline` before "
                + "the appliance\n# first wrote its configured one; ShippedRulesetsTest keeps it equal to what the hook "
                + "renders\n" + Ruleset.baseline(Settings.defaults(Origin.NONE));
    }

    /** The same baseline in a table of its own, with tcp and udp 5201 (iperf3's port) permitted, for run.py. */
    static String shipped() {
        String rules = Ruleset.baseline(Settings.defaults(Origin.NONE)) + Ruleset.changes(List.of(
                new Element(Protocol.TCP, AddressFamily.IPV4, 5201), new Element(Protocol.UDP, AddressFamily.IPV4, 5201)),
                List.of());
        return "# The shipped baseline (Ruleset.baseline of the defaults: untrackPermitted on, no LAN, no anti-lockout) in "
                + "table inet variant,\n# tcp and udp 5201 permitted; run.py marks the iperf3 server's sockets verified. "
                + "ShippedRulesetsTest keeps it\n# equal to what the hook renders\n"
                + rules.replace("inet " + Ruleset.TABLE + " ", "inet variant ").replace("inet " + Ruleset.TABLE + "\n",
                        "inet variant\n");
    }

    @Test
    void theBuiltInBaselineFileIsWhatTheHookRendersFromTheDefaults() throws Exception {
        check(BUILT_IN, builtIn());
    }

    @Test
    void theShippedBenchmarkVariantIsWhatTheHookRendersFromTheDefaults() throws Exception {
        check(SHIPPED, shipped());
    }

    private static void check(Path file, String expected) throws Exception {
        if (UPDATE) {
            Files.writeString(file, expected);
        }
        assertEquals(rules(expected), rules(Files.readString(file)), file + " differs from what Ruleset renders: "
                + "rewrite it with -Dflexwall.rulesets.update=true and commit it");
    }

    /** The rules without comments and blank lines, each line stripped. */
    private static List<String> rules(String text) {
        return text.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    }
}
