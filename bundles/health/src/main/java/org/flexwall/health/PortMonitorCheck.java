package org.flexwall.health;

import org.apache.felix.hc.api.HealthCheck;
import org.apache.felix.hc.api.Result;
import org.flexwall.api.health.FlexwallHealth;
import org.flexwall.api.port.PortMonitor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/** A port monitor runs and can read the kernel's socket tables now: new listeners are noticed. */
@Component(property = { HealthCheck.NAME + "=" + FlexwallHealth.PORT_MONITOR,
        HealthCheck.TAGS + "=" + FlexwallHealth.TAG, HealthCheck.RESULT_CACHE_TTL_IN_MS + ":Long=0" })
public class PortMonitorCheck implements HealthCheck {

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile PortMonitor monitor;

    public PortMonitorCheck() {}

    /** Without OSGi (tests). */
    PortMonitorCheck(PortMonitor monitor) {
        this.monitor = monitor;
    }

    @Override
    public Result execute() {
        PortMonitor m = monitor;
        if (m == null) {
            return new Result(Result.Status.CRITICAL, "no port monitor is running: new listeners are not noticed, "
                    + "so their ports stay closed");
        }
        try {
            int n = m.listening().size();
            return new Result(Result.Status.OK, "the port monitor sees " + n + " listening socket" + (n == 1 ? "" : "s"));
        } catch (RuntimeException e) {
            return new Result(Result.Status.CRITICAL, "the port monitor cannot read the socket tables: " + e);
        }
    }
}
