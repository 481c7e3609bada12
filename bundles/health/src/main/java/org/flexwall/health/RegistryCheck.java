package org.flexwall.health;

import org.apache.felix.hc.api.FormattingResultLog;
import org.apache.felix.hc.api.HealthCheck;
import org.apache.felix.hc.api.Result;
import org.flexwall.api.health.FlexwallHealth;
import org.flexwall.api.program.ProgramRegistry;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/** The trusted programs are loaded: without them nothing is trusted and no port opens. */
@Component(property = { HealthCheck.NAME + "=" + FlexwallHealth.REGISTRY, HealthCheck.TAGS + "=" + FlexwallHealth.TAG,
        HealthCheck.RESULT_CACHE_TTL_IN_MS + ":Long=0" })
public class RegistryCheck implements HealthCheck {

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile ProgramRegistry registry;

    public RegistryCheck() {}

    /** Without OSGi (tests). */
    RegistryCheck(ProgramRegistry registry) {
        this.registry = registry;
    }

    @Override
    public Result execute() {
        ProgramRegistry r = registry;
        if (r == null) {
            return new Result(Result.Status.CRITICAL, "the program registry is not running: nothing is trusted, no "
                    + "port opens");
        }
        if (!r.usable()) {
            return new Result(Result.Status.CRITICAL, "the trusted-program store is unusable: "
                    + r.problem().orElse("no reason given"));
        }
        FormattingResultLog log = new FormattingResultLog();
        int n = r.programs().size();
        log.info("{} trusted program{} loaded", n, n == 1 ? "" : "s");
        return new Result(log);
    }
}
