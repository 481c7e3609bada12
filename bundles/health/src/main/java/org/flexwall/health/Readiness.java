package org.flexwall.health;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.felix.hc.api.ResultLog;
import org.apache.felix.hc.api.condition.Healthy;
import org.apache.felix.hc.api.execution.HealthCheckExecutionOptions;
import org.apache.felix.hc.api.execution.HealthCheckExecutionResult;
import org.apache.felix.hc.api.execution.HealthCheckExecutor;
import org.apache.felix.hc.api.execution.HealthCheckSelector;
import org.flexwall.api.health.FlexwallHealth;
import org.flexwall.api.packet.PacketHook;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;

/**
 * Tells the operator when flexwall protects: the Felix health check monitor marks the tag {@value FlexwallHealth#TAG}
 * healthy (every flexwall check passes) and this logs {@code flexwall ready N ms after JVM start}. When that has not
 * happened {@value #GIVE_UP_SECONDS} s after start, it logs once, as an error, which checks fail and why.
 */
@Component(immediate = true)
public class Readiness {
    static final long GIVE_UP_SECONDS = 30;

    @Reference(service = LoggerFactory.class)
    private Logger log;

    @Reference
    private ServiceComponentRuntime scr;

    @Reference
    private HealthCheckExecutor executor;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private final List<PacketHook> hooks = new CopyOnWriteArrayList<>();

    private volatile boolean active;
    private volatile boolean wasReady;
    private volatile boolean healthy;
    private ScheduledExecutorService timer;

    @Activate
    void activate() {
        active = true;
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "flexwall-readiness");
            t.setDaemon(true);
            return t;
        });
        timer.schedule(this::reportIfNotReady, GIVE_UP_SECONDS, TimeUnit.SECONDS);
    }

    @Deactivate
    void deactivate() {
        active = false;
        timer.shutdownNow();
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            target = "(tag=" + FlexwallHealth.TAG + ")")
    void bindHealthy(Healthy marker) {
        healthy = true;
        long uptime = ManagementFactory.getRuntimeMXBean().getUptime();
        String protecting = hooks.isEmpty() ? "none"
                : String.join(", ", hooks.stream().map(PacketHook::name).sorted().toList());
        if (!wasReady) {
            wasReady = true;
            log.info("flexwall ready {} ms after JVM start: all {} components active, packet hooks protecting: {}",
                    uptime, ComponentsCheck.ours(scr).size(), protecting);
        } else {
            log.info("flexwall protects again: every health check passes; packet hooks protecting: {}", protecting);
        }
    }

    void unbindHealthy(Healthy marker) {
        healthy = false;
        if (active) {
            log.error("flexwall is NOT fully working any more: {}", String.join("; ", failing()));
        }
    }

    private void reportIfNotReady() {
        if (!healthy && active) {
            log.error("flexwall is not fully up {} ms after JVM start; failing: {}",
                    ManagementFactory.getRuntimeMXBean().getUptime(), String.join("; ", failing()));
        }
    }

    /** What the failing flexwall checks say, run afresh. */
    private List<String> failing() {
        List<String> problems = new ArrayList<>();
        for (HealthCheckExecutionResult r : executor.execute(HealthCheckSelector.tags(FlexwallHealth.TAG),
                new HealthCheckExecutionOptions().setForceInstantExecution(true))) {
            if (!r.getHealthCheckResult().isOk()) {
                for (ResultLog.Entry e : r.getHealthCheckResult()) {
                    if (e.getStatus() != org.apache.felix.hc.api.Result.Status.OK && !e.isDebug()) {
                        problems.add(r.getHealthCheckMetadata().getName() + ": " + e.getMessage());
                    }
                }
            }
        }
        return problems.isEmpty() ? List.of("the checks pass again now") : problems;
    }
}
