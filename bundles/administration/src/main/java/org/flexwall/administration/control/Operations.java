package org.flexwall.administration.control;

import static org.flexwall.administration.control.Replies.error;
import static org.flexwall.administration.control.Replies.fullPath;
import static org.flexwall.administration.control.Replies.ok;
import static org.flexwall.administration.control.Replies.requiredText;
import static org.flexwall.administration.control.Replies.text;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

import org.apache.felix.hc.api.Result;
import org.apache.felix.hc.api.execution.HealthCheckExecutor;
import org.flexwall.api.audit.AuditTrail;
import org.flexwall.api.packet.PacketCounters;
import org.flexwall.api.packet.PacketHook;
import org.flexwall.api.port.PortMonitor;
import org.flexwall.api.port.PortStore;
import org.flexwall.api.program.ProgramRegistry;
import org.flexwall.api.program.ProgramRegistryListener;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;

import jakarta.json.JsonObject;

/**
 * What an operator can do to a running flexwall, once for both ways in: the Gogo commands and the control socket.
 * Every operation answers a JSON object, {@code {"ok":true,"op":…}} with its result or {@code {"ok":false,
 * "error":…}} with a message for the operator; {@link Render} turns either into text. This class binds the services
 * and dispatches; each job lives in a class of its own ({@link TrustOperations}, {@link StatusReport},
 * {@link AuditReading}, {@link HookSwitch}, {@link BundleUpdate}), which a new operation should follow.
 */
@Component(name = "org.flexwall.administration.operations", service = Operations.class)
public class Operations {
    /** The operations, by the name a request gives in its "op" field. */
    public static final List<String> NAMES = List.of("trust", "untrust", "programs", "reapprove", "ports", "status",
            "reload", "reset", "disable", "enable", "update", "audit", "replay", "hook");
    /** Who changes trust through the Gogo shell: whoever has the JVM's console, which root started. */
    public static final String GOGO = "root (Gogo shell)";

    @Reference(service = LoggerFactory.class)
    private Logger log;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile ProgramRegistry registry;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile PortStore portStore;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile PortMonitor portMonitor;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile ServiceComponentRuntime scr;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile org.osgi.service.cm.ConfigurationAdmin configurationAdmin;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile AuditTrail auditTrail;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile HealthCheckExecutor healthChecks;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile org.flexwall.api.replay.CaptureReplay captureReplay;

    /** Without OSGi (tests): what the health checks answer; null in the framework, where the executor runs them. */
    private volatile Supplier<List<Check>> checksWithoutOsgi;

    /** One health check's outcome, as {@code status} shows it. */
    public record Check(String name, Result.Status status, List<String> messages) {}

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private final List<ProgramRegistryListener> registryListeners = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private final List<PacketHook> packetHooks = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private final List<PacketCounters> packetCounters = new CopyOnWriteArrayList<>();

    private volatile BundleContext context;

    public Operations() {}

    @Activate
    void activate(BundleContext context) {
        this.context = context; // for update: the framework's bundles
    }

    /** Without OSGi (tests, tools): the services to act on; any of them may be null. */
    public static Operations using(ProgramRegistry registry, PortStore portStore, PortMonitor portMonitor,
            List<ProgramRegistryListener> registryListeners) {
        Operations o = new Operations();
        o.registry = registry;
        o.portStore = portStore;
        o.portMonitor = portMonitor;
        o.registryListeners.addAll(registryListeners);
        return o;
    }

    /** Without OSGi: the audit trail trust changes are recorded in. */
    public Operations withAuditTrail(AuditTrail trail) {
        auditTrail = trail;
        return this;
    }

    /** Without OSGi: what the health checks answer to {@code status}. */
    public Operations withHealthChecks(Supplier<List<Check>> checks) {
        checksWithoutOsgi = checks;
        return this;
    }

    /** Without OSGi: the packet hooks {@code status} reports. */
    public Operations withPacketHooks(List<PacketHook> hooks) {
        packetHooks.addAll(hooks);
        return this;
    }

    /** Without OSGi: the parts of the packet path whose counters {@code status} reports. */
    public Operations withPacketCounters(List<PacketCounters> counters) {
        packetCounters.addAll(counters);
        return this;
    }

    /**
     * Carries out one request of the control socket, whose peer is root (the socket is 0600 root's); never throws:
     * failures come back as {@code {"ok":false,"error":…}}.
     */
    public JsonObject execute(JsonObject request) {
        return execute(request, AuditTrail.ROOT);
    }

    /** As above, for a request made by {@code actor}, the name the audit trail records for trust changes. */
    public JsonObject execute(JsonObject request, String actor) {
        String op = null;
        try {
            op = text(request, "op");
            if (op == null) {
                return error(null, "the request names no operation (\"op\"); one of " + String.join(", ", NAMES));
            }
            switch (op) {
                case "trust":
                    return trust(actor, requiredText(request, "path"), text(request, "name"),
                            request.getBoolean("insist", false), text(request, "user"), text(request, "unit"));
                case "untrust":
                    return untrust(actor, requiredText(request, "path"));
                case "programs":
                    return programs();
                case "reapprove":
                    return reapprove(actor, requiredText(request, "path"));
                case "ports":
                    return ports();
                case "status":
                    return status();
                case "reload":
                    return reload(actor);
                case "reset":
                    return reset(actor);
                case "disable":
                    return switchPacketHooks(false);
                case "enable":
                    return switchPacketHooks(true);
                case "update":
                    return update(requiredText(request, "path"));
                case "audit":
                    return audit(text(request, "since"), request.getInt("limit", 0), text(request, "contains"));
                case "replay":
                    return ReplayOperation.execute(captureReplay, request);
                case "hook":
                    return hook(text(request, "use"));
                default:
                    return error(op, "unknown operation '" + op + "'; one of " + String.join(", ", NAMES));
            }
        } catch (IllegalArgumentException e) {
            return error(op, e.getMessage());
        } catch (RuntimeException e) {
            Replies.warn(log, "the " + op + " request failed: " + e);
            return error(op, "the " + op + " request failed inside flexwall: " + e + "; the log has details");
        }
    }

    /** Trusts the program at {@code path}; {@code name} may be null (the file name is used). */
    public JsonObject trust(String path, String name, boolean insist) {
        return trust(AuditTrail.ROOT, path, name, insist, null, null);
    }

    /**
     * As above, for processes of {@code user} (name or uid) in systemd unit {@code unit} only; each may be null.
     * {@code actor} is who asked, for the audit trail.
     */
    public JsonObject trust(String actor, String path, String name, boolean insist, String user, String unit) {
        return trustOperations().trust(actor, path, name, insist, user, unit);
    }

    public JsonObject untrust(String path) {
        return untrust(AuditTrail.ROOT, path);
    }

    public JsonObject untrust(String actor, String path) {
        return trustOperations().untrust(actor, path);
    }

    public JsonObject programs() {
        return trustOperations().programs();
    }

    public JsonObject reapprove(String path) {
        return reapprove(AuditTrail.ROOT, path);
    }

    public JsonObject reapprove(String actor, String path) {
        return trustOperations().reapprove(actor, path);
    }

    /** Reads the trusted-program store again, after the operator repaired it as its problem message said. */
    public JsonObject reload() {
        return reload(AuditTrail.ROOT);
    }

    public JsonObject reload(String actor) {
        return trustOperations().reload(actor);
    }

    /** Gives up on a damaged store: starts an empty list (the registry refuses while its store is usable). */
    public JsonObject reset() {
        return reset(AuditTrail.ROOT);
    }

    public JsonObject reset(String actor) {
        return trustOperations().reset(actor);
    }

    /**
     * The audit trail, newest first.
     *
     * @param since    a time ("2026-12-07T10:00:00Z", "2026-12-07") or an age ("30m", "2h", "7d"), or null for all
     * @param limit    at most this many entries, 0 for {@value AuditReading#LIMIT}
     * @param contains only entries whose words contain this text, ignoring case; null for all
     */
    public JsonObject audit(String since, int limit, String contains) {
        return AuditReading.read(auditTrail, since, limit, contains);
    }

    public JsonObject ports() {
        return statusReport().ports();
    }

    public JsonObject status() {
        return statusReport().status();
    }

    /** See {@link HookEnablement#switchPacketHooks}. */
    public JsonObject switchPacketHooks(boolean enable) {
        return HookEnablement.switchPacketHooks(scr, enable, log);
    }

    /** The packet hooks, or a swap to the hooks {@code use} names ({@link HookSwitch}). */
    public JsonObject hook(String use) {
        BundleContext c = context;
        if (c == null) {
            return error("hook", "hooks can be listed and swapped only inside the running appliance");
        }
        JsonObject answer = new HookSwitch(c, configurationAdmin).execute(use);
        if (use != null) {
            Replies.audit(log, answer.getString(answer.getBoolean("ok") ? "message" : "error"));
        }
        return answer;
    }

    /** Replaces one running implementation bundle by the jar at {@code path}; rolled back when it fails. */
    public JsonObject update(String path) {
        BundleContext c = context;
        if (c == null) {
            return error("update", "bundles can be updated only inside the running appliance");
        }
        BundleUpdate.Outcome o = new BundleUpdate(c, scr).update(fullPath(path));
        if (o.ok()) {
            Replies.audit(log, o.message());
        } else if (o.previousVersion() != null) {
            log.error(o.message());
        }
        if (!o.ok()) {
            return error("update", o.message());
        }
        return ok("update").add("bundle", o.symbolicName()).add("previousVersion", o.previousVersion())
                .add("version", o.version()).add("message", o.message()).build();
    }

    /** The trust operations with the services bound now. */
    private TrustOperations trustOperations() {
        return new TrustOperations(registry, portStore, auditTrail, registryListeners, log);
    }

    private StatusReport statusReport() {
        return new StatusReport(registry, portStore, portMonitor, packetHooks, packetCounters, healthChecks,
                checksWithoutOsgi, log);
    }
}
