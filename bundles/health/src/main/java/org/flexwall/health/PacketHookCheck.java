package org.flexwall.health;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.apache.felix.hc.api.FormattingResultLog;
import org.apache.felix.hc.api.HealthCheck;
import org.apache.felix.hc.api.Result;
import org.flexwall.api.health.FlexwallHealth;
import org.flexwall.api.packet.PacketHook;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/** Every packet hook protects, and there is at least one: with none, only the kernel baseline filters. */
@Component(property = { HealthCheck.NAME + "=" + FlexwallHealth.PACKET_HOOK, HealthCheck.TAGS + "=" + FlexwallHealth.TAG,
        HealthCheck.RESULT_CACHE_TTL_IN_MS + ":Long=0" })
public class PacketHookCheck implements HealthCheck {

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private final List<PacketHook> hooks = new CopyOnWriteArrayList<>();

    public PacketHookCheck() {}

    /** Without OSGi (tests). */
    PacketHookCheck(List<PacketHook> hooks) {
        this.hooks.addAll(hooks);
    }

    @Override
    public Result execute() {
        FormattingResultLog log = new FormattingResultLog();
        if (hooks.isEmpty()) {
            log.critical("no packet hook is running: only the kernel baseline, if installed, filters");
        }
        for (PacketHook h : hooks) {
            h.problem().ifPresentOrElse(p -> log.critical("packet hook {}: {}", h.name(), p),
                    () -> log.info("packet hook {} protects", h.name()));
        }
        return new Result(log);
    }
}
