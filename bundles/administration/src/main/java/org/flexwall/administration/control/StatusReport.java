package org.flexwall.administration.control;

import static org.flexwall.administration.control.JsonViews.port;
import static org.flexwall.administration.control.JsonViews.refused;
import static org.flexwall.administration.control.Replies.error;
import static org.flexwall.administration.control.Replies.ok;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import org.apache.felix.hc.api.Result;
import org.apache.felix.hc.api.ResultLog;
import org.apache.felix.hc.api.execution.HealthCheckExecutionOptions;
import org.apache.felix.hc.api.execution.HealthCheckExecutionResult;
import org.apache.felix.hc.api.execution.HealthCheckExecutor;
import org.apache.felix.hc.api.execution.HealthCheckSelector;
import org.flexwall.administration.control.Operations.Check;
import org.flexwall.api.health.FlexwallHealth;
import org.flexwall.api.packet.PacketCounters;
import org.flexwall.api.packet.PacketHook;
import org.flexwall.api.port.PortMonitor;
import org.flexwall.api.port.PortStore;
import org.flexwall.api.port.RefusedSocket;
import org.flexwall.api.program.ProgramRegistry;
import org.osgi.service.log.Logger;

import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.spi.JsonProvider;

/**
 * What {@code status} and {@code ports} answer: which parts run, whether flexwall protects (the health checks), the
 * packet path's counters, and the ports open and refused. Any service may be null: then it is reported as not
 * running, and {@code status} as not healthy.
 *
 * @param checksWithoutOsgi without OSGi (tests): what the health checks answer; null in the framework
 * @param log               may be null (without OSGi)
 */
record StatusReport(ProgramRegistry registry, PortStore portStore, PortMonitor portMonitor,
        List<PacketHook> packetHooks, List<PacketCounters> packetCounters, HealthCheckExecutor healthChecks,
        Supplier<List<Check>> checksWithoutOsgi, Logger log) {
    private static final JsonProvider json = JsonSupport.json();

    JsonObject ports() {
        PortStore s = portStore;
        if (s == null) {
            return error("ports", "the port store is not running, so no port is open (fail closed); "
                    + "`flexwall status` shows what it waits for");
        }
        JsonArrayBuilder permitted = json.createArrayBuilder();
        s.permitted().forEach(p -> permitted.add(port(p)));
        JsonArrayBuilder refused = json.createArrayBuilder();
        for (RefusedSocket socket : s.refusals()) {
            refused.add(refused(socket, registry));
        }
        return ok("ports").add("permitted", permitted).add("refused", refused).build();
    }

    JsonObject status() {
        boolean healthy = true;
        ProgramRegistry r = registry;
        JsonObjectBuilder reg = json.createObjectBuilder().add("running", r != null);
        if (r != null) {
            boolean usable = r.usable();
            reg.add("usable", usable);
            if (usable) {
                reg.add("programs", r.programs().size());
            } else {
                reg.add("problem", r.problem().orElse("no reason given"));
            }
            healthy &= usable;
        } else {
            healthy = false;
        }
        PortStore s = portStore;
        JsonObjectBuilder store = json.createObjectBuilder().add("running", s != null);
        if (s != null) {
            store.add("permitted", s.permitted().size()).add("refused", s.refused().size());
        } else {
            healthy = false;
        }
        healthy &= portMonitor != null;
        JsonObjectBuilder status = ok("status").add("registry", reg).add("portStore", store)
                .add("portMonitor", json.createObjectBuilder().add("running", portMonitor != null));
        JsonArrayBuilder hooks = json.createArrayBuilder();
        for (PacketHook h : packetHooks) {
            JsonObjectBuilder hook = json.createObjectBuilder().add("name", h.name()).add("status", h.status());
            Optional<String> problem = h.problem();
            problem.ifPresent(p -> hook.add("problem", p));
            healthy &= problem.isEmpty();
            hooks.add(hook);
        }
        status.add("packetHooks", hooks);
        status.add("engine", engineCounters());
        healthy &= !packetHooks.isEmpty(); // no hook: the kernel baseline, if any, decides alone
        JsonArrayBuilder checks = json.createArrayBuilder();
        healthy &= healthChecks(checks);
        status.add("checks", checks);
        return status.add("healthy", healthy).build();
    }

    /**
     * Runs flexwall's health checks (the ones the console shows) into {@code checks}: name, status, messages. Returns
     * whether every one is OK; false too when the health checks do not run, or none is registered.
     */
    private boolean healthChecks(JsonArrayBuilder checks) {
        List<Check> results = runHealthChecks();
        for (Check c : results) {
            JsonArrayBuilder m = json.createArrayBuilder();
            c.messages().forEach(m::add);
            checks.add(json.createObjectBuilder().add("name", c.name()).add("status", c.status().name())
                    .add("messages", m));
        }
        return !results.isEmpty() && results.stream().allMatch(c -> c.status() == Result.Status.OK);
    }

    private List<Check> runHealthChecks() {
        if (checksWithoutOsgi != null) {
            return checksWithoutOsgi.get();
        }
        HealthCheckExecutor executor = healthChecks;
        if (executor == null) {
            return List.of(new Check("health checks", Result.Status.CRITICAL, List.of("the Felix health check "
                    + "executor is not running, so whether flexwall protects cannot be told")));
        }
        List<Check> results = new ArrayList<>();
        for (HealthCheckExecutionResult r : executor.execute(HealthCheckSelector.tags(FlexwallHealth.TAG),
                new HealthCheckExecutionOptions().setForceInstantExecution(true))) {
            Result result = r.getHealthCheckResult();
            List<String> messages = new ArrayList<>();
            for (ResultLog.Entry e : result) {
                if (!e.isDebug()) {
                    messages.add(e.getMessage());
                }
            }
            results.add(new Check(r.getHealthCheckMetadata().getName(), result.getStatus(), messages));
        }
        return results;
    }

    /**
     * The packet path's counters by part ("packet bypass", "stateful ICF", "nfqueue hook"), whatever mode runs: who
     * took the decisions, and why packets were dropped. Figures only: they never make flexwall unhealthy.
     */
    private JsonObject engineCounters() {
        JsonObjectBuilder engine = json.createObjectBuilder();
        for (PacketCounters part : packetCounters) {
            JsonObjectBuilder counters = json.createObjectBuilder();
            try {
                part.counters().forEach(counters::add);
            } catch (RuntimeException e) {
                Replies.warn(log, "the counters of " + part.part() + " could not be read: " + e);
                continue;
            }
            engine.add(part.part(), counters);
        }
        return engine.build();
    }
}
