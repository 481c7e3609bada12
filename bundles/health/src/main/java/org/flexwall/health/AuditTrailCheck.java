package org.flexwall.health;

import org.apache.felix.hc.api.HealthCheck;
import org.apache.felix.hc.api.Result;
import org.flexwall.api.audit.AuditTrail;
import org.flexwall.api.health.FlexwallHealth;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/** The audit trail runs and can be written: every trust change and port change is recorded. */
@Component(property = { HealthCheck.NAME + "=" + FlexwallHealth.AUDIT_TRAIL,
        HealthCheck.TAGS + "=" + FlexwallHealth.TAG, HealthCheck.RESULT_CACHE_TTL_IN_MS + ":Long=0" })
public class AuditTrailCheck implements HealthCheck {

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile AuditTrail trail;

    public AuditTrailCheck() {}

    /** Without OSGi (tests). */
    AuditTrailCheck(AuditTrail trail) {
        this.trail = trail;
    }

    @Override
    public Result execute() {
        AuditTrail t = trail;
        if (t == null) {
            return new Result(Result.Status.CRITICAL, "the audit trail is not running: trust changes are not recorded");
        }
        return t.problem().map(p -> new Result(Result.Status.CRITICAL, "the audit trail cannot be written: " + p))
                .orElseGet(() -> new Result(Result.Status.OK, "the audit trail is writable"));
    }
}
