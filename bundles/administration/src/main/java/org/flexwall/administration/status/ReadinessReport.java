package org.flexwall.administration.status;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.component.runtime.dto.UnsatisfiedReferenceDTO;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;

/**
 * Tells the operator once, after start, whether every flexwall component came up and how long it took; names the
 * components that did not and the services they still wait for.
 */
@Component
public class ReadinessReport {
    private static final long GIVE_UP_MILLIS = 30_000;

    @Reference
    private ServiceComponentRuntime scr;

    @Reference(service = LoggerFactory.class)
    private Logger log;

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
            List<String> waiting = notReady(context, scr);
            while (!waiting.isEmpty() && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
                waiting = notReady(context, scr);
            }
            long uptime = ManagementFactory.getRuntimeMXBean().getUptime();
            if (waiting.isEmpty()) {
                log.info("flexwall ready {} ms after JVM start: all {} components active", uptime, ours(scr).size());
            } else {
                log.error("flexwall is not fully up {} ms after JVM start; waiting: {}", uptime, String.join("; ", waiting));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Every flexwall bundle not started yet, and every component of a flexwall bundle that is not satisfied, with
     * what it waits for. Bundles count too: the components of a bundle still starting are not known to SCR yet.
     */
    public static List<String> notReady(BundleContext context, ServiceComponentRuntime scr) {
        List<String> waiting = new ArrayList<>();
        for (Bundle b : context == null ? new Bundle[0] : context.getBundles()) {
            if (b.getSymbolicName() != null && b.getSymbolicName().startsWith("org.flexwall.")
                    && b.getState() != Bundle.ACTIVE) {
                waiting.add("bundle " + b.getSymbolicName() + " (" + (b.getState() == Bundle.RESOLVED ? "stopped"
                        : b.getState() == Bundle.INSTALLED ? "not resolved" : "starting") + ")");
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
