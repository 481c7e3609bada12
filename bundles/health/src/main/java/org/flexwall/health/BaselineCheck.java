package org.flexwall.health;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.felix.hc.api.HealthCheck;
import org.apache.felix.hc.api.Result;
import org.flexwall.api.health.FlexwallHealth;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;

/**
 * The kernel holds flexwall's baseline: table inet flexwall, with its input chain dropping by default. Asked of the
 * kernel through nft, not of the hook that installed it, so a table removed or replaced behind flexwall's back shows.
 * Reads the nft program from the nftables hook's own configuration.
 */
@Component(configurationPid = BaselineCheck.HOOK_PID, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        property = { HealthCheck.NAME + "=" + FlexwallHealth.BASELINE, HealthCheck.TAGS + "=" + FlexwallHealth.TAG,
                HealthCheck.RESULT_CACHE_TTL_IN_MS + ":Long=0" })
public class BaselineCheck implements HealthCheck {
    static final String HOOK_PID = "org.flexwall.hook.nftables";
    static final String TABLE = "flexwall";
    /** What only flexwall's baseline has: its input chain, dropping what no rule accepts. */
    static final String INPUT_CHAIN = "type filter hook input priority filter; policy drop;";
    private static final long NFT_SECONDS = 10;

    private volatile List<String> command;

    public BaselineCheck() {}

    /** Without OSGi (tests): {@code command} lists the table, such as {@code ip netns exec NS nft -t list table …}. */
    BaselineCheck(List<String> command) {
        this.command = List.copyOf(command);
    }

    @Activate
    @Modified
    void configure(Map<String, Object> properties) {
        Object binary = properties.get("nftBinary");
        command = List.of(binary == null || binary.toString().isBlank() ? "nft" : binary.toString(), "-t", "list",
                "table", "inet", TABLE);
    }

    /** Asks nft every time (terse: a few milliseconds), so {@code flexwall status} never reports an old answer. */
    @Override
    public Result execute() {
        String output;
        int exit;
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(NFT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return critical("nft did not answer within " + NFT_SECONDS + " s");
            }
            exit = p.exitValue();
        } catch (IOException e) {
            return critical("the nft program could not be run (" + e.getMessage() + "), so whether the baseline is "
                    + "in place is not known");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return critical("interrupted while asking nft");
        }
        if (exit != 0) {
            return critical("table inet " + TABLE + " is not in the kernel: the firewall is NOT on (nft: "
                    + output.lines().findFirst().orElse("exit " + exit) + ")");
        }
        if (!output.contains(INPUT_CHAIN)) {
            return critical("table inet " + TABLE + " is in the kernel but is not flexwall's baseline: its input chain "
                    + "does not drop by default; the firewall is NOT on as configured");
        }
        return new Result(Result.Status.OK, "table inet " + TABLE + " is in the kernel, dropping by default");
    }

    private static Result critical(String message) {
        return new Result(Result.Status.CRITICAL, message);
    }
}
