package org.flexwall.administration.control;

import static org.flexwall.administration.control.Replies.error;
import static org.flexwall.administration.control.Replies.ok;

import java.lang.reflect.InvocationTargetException;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.flexwall.api.packet.PacketHook;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.log.Logger;

import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;

/** The {@code disable} and {@code enable} operations: every packet hook component switched off or on again. */
final class HookEnablement {
    private static final long TIMEOUT_SECONDS = 30;

    private HookEnablement() {}

    /**
     * Disables (or enables again) every component that is a {@link PacketHook}, waiting until each is done. A
     * disabled hook leaves its kernel rules as they are (fail closed); {@code flexwall disable} then removes them.
     * Not persistent: the next start of flexwall filters again.
     *
     * @param runtime may be null (then nothing is switched and the answer says why)
     * @param log     may be null (without OSGi)
     */
    static JsonObject switchPacketHooks(ServiceComponentRuntime runtime, boolean enable, Logger log) {
        String op = enable ? "enable" : "disable";
        if (runtime == null) {
            return error(op, "Declarative Services is not running, so the packet hooks cannot be switched");
        }
        JsonArrayBuilder switched = JsonSupport.json().createArrayBuilder();
        for (ComponentDescriptionDTO d : runtime.getComponentDescriptionDTOs()) {
            if (List.of(d.serviceInterfaces).contains(PacketHook.class.getName())) {
                try {
                    (enable ? runtime.enableComponent(d) : runtime.disableComponent(d))
                            .timeout(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS)).getValue();
                } catch (InvocationTargetException e) {
                    return error(op, "could not " + op + " " + d.name + ": " + e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return error(op, "interrupted while " + op + "-ing " + d.name);
                }
                switched.add(d.name);
            }
        }
        Replies.audit(log, enable ? "packet hooks enabled by the operator: flexwall filters again"
                : "packet hooks disabled by the operator: their kernel rules stay until `flexwall disable` removes "
                        + "them; flexwall filters again at its next start");
        return ok(op).add("hooks", switched).build();
    }
}
