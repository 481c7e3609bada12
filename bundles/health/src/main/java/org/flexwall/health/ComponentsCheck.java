package org.flexwall.health;

import java.util.ArrayList;
import java.util.List;

import org.apache.felix.hc.api.FormattingResultLog;
import org.apache.felix.hc.api.HealthCheck;
import org.apache.felix.hc.api.Result;
import org.flexwall.api.health.FlexwallHealth;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.component.runtime.dto.UnsatisfiedReferenceDTO;

/** Every flexwall bundle is started and every flexwall component is satisfied; names what waits, and for what. */
@Component(property = { HealthCheck.NAME + "=" + FlexwallHealth.COMPONENTS, HealthCheck.TAGS + "=" + FlexwallHealth.TAG,
        HealthCheck.RESULT_CACHE_TTL_IN_MS + ":Long=0" })
public class ComponentsCheck implements HealthCheck {
    static final String OURS = "org.flexwall.";

    @Reference
    private ServiceComponentRuntime scr;

    private BundleContext context;

    @Activate
    void activate(BundleContext context) {
        this.context = context;
    }

    @Override
    public Result execute() {
        FormattingResultLog log = new FormattingResultLog();
        List<String> waiting = notReady(context, scr);
        waiting.forEach(w -> log.critical("waiting: {}", w));
        if (waiting.isEmpty()) {
            log.info("all active: {} flexwall components", ours(scr).size());
        }
        return new Result(log);
    }

    /**
     * Every flexwall bundle not started yet, and every component of a flexwall bundle that is not satisfied, with
     * what it waits for. Bundles count too: the components of a bundle still starting are not known to SCR yet.
     */
    static List<String> notReady(BundleContext context, ServiceComponentRuntime scr) {
        List<String> waiting = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            if (b.getSymbolicName() == null || !b.getSymbolicName().startsWith(OURS)) {
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
            if (offUntilConfigured(d, configurations) && scr.isComponentEnabled(d)) {
                continue; // such as the pcap hook: off by design until the operator configures it
            }
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

    /** A component that requires a configuration and has none: it waits for nothing the operator did not ask for. */
    private static boolean offUntilConfigured(ComponentDescriptionDTO d,
            java.util.Collection<ComponentConfigurationDTO> configurations) {
        return "require".equals(d.configurationPolicy) && configurations.stream()
                .allMatch(c -> c.state == ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION);
    }

    /** The components of flexwall's bundles, Readiness itself included: it is one of them. */
    static List<ComponentDescriptionDTO> ours(ServiceComponentRuntime scr) {
        return scr.getComponentDescriptionDTOs().stream().filter(d -> d.bundle.symbolicName.startsWith(OURS)).toList();
    }
}
