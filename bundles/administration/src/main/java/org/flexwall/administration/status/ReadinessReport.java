package org.flexwall.administration.status;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.flexwall.api.packet.PacketHook;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.component.runtime.dto.UnsatisfiedReferenceDTO;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;

/**
 * Tells the operator once, after start, whether every flexwall component came up and every packet hook protects,
 * and how long it took; names the components that did not and what they still wait for, and the hooks' problems.
 */
@Component
public class ReadinessReport {
    private static final long GIVE_UP_MILLIS = 30_000;

    @Reference
    private ServiceComponentRuntime scr;

    @Reference(service = LoggerFactory.class)
    private Logger log;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private final List<PacketHook> hooks = new CopyOnWriteArrayList<>();

    private Thread watcher;

    private BundleContext context;

    @Activate
    void activate(BundleContext context) {
        this.context = context;
        watcher = new Thread(this::watch, "flexwall-readiness");
        watcher.setDaemon(true);
        watcher.start();
    }

    @Deactivate
    void deactivate() {
        watcher.interrupt();
    }

    private void watch() {
        long deadline = System.currentTimeMillis() + GIVE_UP_MILLIS;
        try {
            List<String> waiting = waiting();
            while (!waiting.isEmpty() && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
                waiting = waiting();
            }
            long uptime = ManagementFactory.getRuntimeMXBean().getUptime();
            if (waiting.isEmpty()) {
                log.info("flexwall ready {} ms after JVM start: all {} components active, packet hooks protecting: {}",
                        uptime, ours(scr).size(), hooks.isEmpty() ? "none"
                                : String.join(", ", hooks.stream().map(PacketHook::name).sorted().toList()));
            } else {
                log.error("flexwall is not fully up {} ms after JVM start; waiting: {}", uptime, String.join("; ", waiting));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private List<String> waiting() {
        List<String> waiting = notReady(context, scr);
        waiting.addAll(hookProblems(hooks));
        return waiting;
    }

    /** The problem of every packet hook that does not protect the host now, with the hook's name. */
    public static List<String> hookProblems(List<PacketHook> hooks) {
        List<String> problems = new ArrayList<>();
        for (PacketHook h : hooks) {
            h.problem().ifPresent(p -> problems.add("packet hook " + h.name() + ": " + p));
        }
        return problems;
    }

    /**
     * Every flexwall bundle not started yet, and every component of a flexwall bundle that is not satisfied, with
     * what it waits for. Bundles count too: the components of a bundle still starting are not known to SCR yet.
     */
    public static List<String> notReady(BundleContext context, ServiceComponentRuntime scr) {
        List<String> waiting = new ArrayList<>();
        for (Bundle b : context == null ? new Bundle[0] : context.getBundles()) {
            if (b.getSymbolicName() == null || !b.getSymbolicName().startsWith("org.flexwall.")) {
                continue;
            }
            if (b.getState() != Bundle.ACTIVE) {
                waiting.add("bundle " + b.getSymbolicName() + " (" + (b.getState() == Bundle.RESOLVED ? "stopped"
                        : b.getState() == Bundle.INSTALLED ? "not resolved" : "starting") + ")");
            } else if (b.getHeaders("").get("Service-Component") != null
                    && scr.getComponentDescriptionDTOs(b).isEmpty()) {
                // On a warm start bundles are active before SCR has read their components.
                waiting.add("bundle " + b.getSymbolicName() + " (its components are not read yet)");
            }
        }
        for (ComponentDescriptionDTO d : ours(scr)) {
            var configurations = scr.getComponentConfigurationDTOs(d);
            if (configurations.isEmpty()) {
                waiting.add(d.name + " (" + (scr.isComponentEnabled(d) ? "needs its configuration" : "disabled") + ")");
            }
            for (ComponentConfigurationDTO c : configurations) {
                if (c.state == ComponentConfigurationDTO.UNSATISFIED_REFERENCE) {
                    List<String> refs = new ArrayList<>();
                    for (UnsatisfiedReferenceDTO r : c.unsatisfiedReferences) {
                        refs.add(r.name);
                    }
                    waiting.add(d.name + " (needs " + String.join(", ", refs) + ")");
                } else if (c.state == ComponentConfigurationDTO.FAILED_ACTIVATION) {
                    waiting.add(d.name + " (failed: " + c.failure + ")");
                } else if (c.state == ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION) {
                    waiting.add(d.name + " (needs its configuration)");
                }
            }
        }
        return waiting;
    }

    private static List<ComponentDescriptionDTO> ours(ServiceComponentRuntime scr) {
        return scr.getComponentDescriptionDTOs().stream()
                .filter(d -> d.bundle.symbolicName.startsWith("org.flexwall."))
                .toList();
    }
}
