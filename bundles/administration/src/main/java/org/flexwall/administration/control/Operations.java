package org.flexwall.administration.control;

import java.lang.reflect.InvocationTargetException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.apache.felix.hc.api.Result;
import org.apache.felix.hc.api.ResultLog;
import org.apache.felix.hc.api.execution.HealthCheckExecutionOptions;
import org.apache.felix.hc.api.execution.HealthCheckExecutionResult;
import org.apache.felix.hc.api.execution.HealthCheckExecutor;
import org.apache.felix.hc.api.execution.HealthCheckSelector;
import org.flexwall.api.audit.AuditEntry;
import org.flexwall.api.audit.AuditException;
import org.flexwall.api.audit.AuditQuery;
import org.flexwall.api.audit.AuditTrail;
import org.flexwall.api.audit.PortChange;
import org.flexwall.api.audit.TrustChange;
import org.flexwall.api.health.FlexwallHealth;
import org.flexwall.api.packet.PacketCounters;
import org.flexwall.api.packet.PacketHook;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.PortMonitor;
import org.flexwall.api.port.PortStore;
import org.flexwall.api.port.RefusedSocket;
import org.flexwall.api.port.SocketOwner;
import org.flexwall.api.program.ProgramRegistry;
import org.flexwall.api.program.ProgramRegistryListener;
import org.flexwall.api.program.RegistryException;
import org.flexwall.api.program.TrustedProgram;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;

import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.json.spi.JsonProvider;

/**
 * What an operator can do to a running flexwall, once for both ways in: the Gogo commands and the control socket.
 * Every operation answers a JSON object, {@code {"ok":true,"op":…}} with its result or {@code {"ok":false,
 * "error":…}} with a message for the operator; {@link Render} turns either into text.
 */
@Component(name = "org.flexwall.administration.operations", service = Operations.class)
public class Operations {
    /** The operations, by the name a request gives in its "op" field. */
    public static final List<String> NAMES = List.of("trust", "untrust", "programs", "reapprove", "ports", "status",
            "reload", "reset", "disable", "enable", "update", "audit", "hook");
    /** Who changes trust through the Gogo shell: whoever has the JVM's console, which root started. */
    public static final String GOGO = "root (Gogo shell)";
    /** Entries {@code audit} answers at most when the request sets no limit. */
    static final int AUDIT_LIMIT = 1000;
    private static final long HOOK_SWITCH_SECONDS = 30;

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

    /** Without OSGi (tests): what the health checks answer; null in the framework, where the executor runs them. */
    private volatile java.util.function.Supplier<List<Check>> checksWithoutOsgi;

    /** One health check's outcome, as {@code status} shows it. */
    public record Check(String name, Result.Status status, List<String> messages) {}

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private final List<ProgramRegistryListener> registryListeners = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private final List<PacketHook> packetHooks = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private final List<PacketCounters> packetCounters = new CopyOnWriteArrayList<>();

    private volatile BundleContext context;

    private final JsonProvider json = JsonSupport.json();

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
    public Operations withHealthChecks(java.util.function.Supplier<List<Check>> checks) {
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
                case "hook":
                    return hook(text(request, "use"));
                default:
                    return error(op, "unknown operation '" + op + "'; one of " + String.join(", ", NAMES));
            }
        } catch (IllegalArgumentException e) {
            return error(op, e.getMessage());
        } catch (RuntimeException e) {
            warn("the " + op + " request failed: " + e);
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
        ProgramRegistry r = registry;
        if (r == null) {
            return noRegistry("trust");
        }
        try {
            TrustedProgram p = r.trust(fullPath(path), name, insist, user, unit);
            audit("trusted program '" + p.name() + "' at " + p.path() + ", SHA-256 " + p.sha256()
                    + (p.restrictions().isEmpty() ? "" : ", " + p.restrictions() + " only")
                    + (p.interpreter() ? " (an interpreter: every script it runs is trusted)" : ""));
            programsChanged();
            return recorded(ok("trust").add("program", program(p)).add("permitted", portsOf(p.sha256())),
                    TrustChange.trusted(actor, p));
        } catch (RegistryException e) {
            return error("trust", e.getMessage());
        }
    }

    public JsonObject untrust(String path) {
        return untrust(AuditTrail.ROOT, path);
    }

    public JsonObject untrust(String actor, String path) {
        ProgramRegistry r = registry;
        if (r == null) {
            return noRegistry("untrust");
        }
        try {
            Path full = fullPath(path);
            List<PermittedPort> before = permittedNow();
            List<TrustedProgram> removed = r.untrust(full);
            if (removed.isEmpty()) {
                return error("untrust", "no trusted program was approved at " + full + "; `flexwall programs` lists "
                        + "the trusted programs and their paths");
            }
            removed.forEach(p -> audit("no longer trusts program '" + p.name() + "' at " + p.path()));
            programsChanged();
            JsonArrayBuilder programs = json.createArrayBuilder();
            removed.forEach(p -> programs.add(program(p)));
            // Ports that were open for the removed programs and are closed now.
            List<PermittedPort> after = permittedNow();
            JsonArrayBuilder closed = json.createArrayBuilder();
            for (PermittedPort p : before) {
                boolean ofRemoved = removed.stream().anyMatch(t -> t.sha256().equals(p.program().sha256()));
                if (ofRemoved && !after.contains(p)) {
                    closed.add(port(p));
                }
            }
            return recorded(ok("untrust").add("removed", programs).add("closed", closed),
                    removed.stream().map(p -> TrustChange.untrusted(actor, p)).toArray(TrustChange[]::new));
        } catch (RegistryException e) {
            return error("untrust", e.getMessage());
        }
    }

    public JsonObject programs() {
        ProgramRegistry r = registry;
        if (r == null) {
            return noRegistry("programs");
        }
        if (!r.usable()) {
            return error("programs", "the trusted-program store is unusable: "
                    + r.problem().orElse("no reason given") + " (nothing is trusted until this is fixed)");
        }
        JsonArrayBuilder list = json.createArrayBuilder();
        r.programs().forEach(p -> list.add(program(p)));
        return ok("programs").add("programs", list).build();
    }

    public JsonObject reapprove(String path) {
        return reapprove(AuditTrail.ROOT, path);
    }

    public JsonObject reapprove(String actor, String path) {
        ProgramRegistry r = registry;
        if (r == null) {
            return noRegistry("reapprove");
        }
        try {
            Path full = fullPath(path);
            TrustedProgram before = r.programs().stream().filter(t -> t.path().equals(full)).findFirst().orElse(null);
            TrustedProgram p = r.reapprove(full);
            audit("reapproved program '" + p.name() + "' at " + p.path() + ", SHA-256 now " + p.sha256());
            programsChanged();
            return recorded(ok("reapprove").add("program", program(p)).add("permitted", portsOf(p.sha256())),
                    TrustChange.reapproved(actor, before, p));
        } catch (RegistryException e) {
            return error("reapprove", e.getMessage());
        }
    }

    /** Reads the trusted-program store again, after the operator repaired it as its problem message said. */
    public JsonObject reload() {
        return reload(AuditTrail.ROOT);
    }

    public JsonObject reload(String actor) {
        ProgramRegistry r = registry;
        if (r == null) {
            return noRegistry("reload");
        }
        boolean usable = r.reload();
        programsChanged();
        if (!usable) {
            return error("reload", "the trusted-program store is still unusable: " + r.problem().orElse("no reason given"));
        }
        audit("reloaded the trusted-program store: " + r.programs().size() + " trusted programs");
        JsonArrayBuilder list = json.createArrayBuilder();
        r.programs().forEach(p -> list.add(program(p)));
        int n = r.programs().size();
        return recorded(ok("reload").add("programs", list), new TrustChange(Instant.now(), actor,
                TrustChange.Action.RELOAD, null, null, null, null, n + (n == 1 ? " trusted program" : " trusted programs")));
    }

    /** Gives up on a damaged store: starts an empty list (the registry refuses while its store is usable). */
    public JsonObject reset() {
        return reset(AuditTrail.ROOT);
    }

    public JsonObject reset(String actor) {
        ProgramRegistry r = registry;
        if (r == null) {
            return noRegistry("reset");
        }
        try {
            r.reset();
        } catch (RegistryException e) {
            return error("reset", e.getMessage());
        }
        audit("reset the trusted-program store: no program is trusted now");
        programsChanged();
        return recorded(ok("reset"), new TrustChange(Instant.now(), actor, TrustChange.Action.RESET, null, null, null,
                null, ""));
    }

    /**
     * The audit trail, newest first.
     *
     * @param since    a time ("2026-12-07T10:00:00Z", "2026-12-07") or an age ("30m", "2h", "7d"), or null for all
     * @param limit    at most this many entries, 0 for {@value #AUDIT_LIMIT}
     * @param contains only entries whose words contain this text, ignoring case; null for all
     */
    public JsonObject audit(String since, int limit, String contains) {
        AuditTrail trail = auditTrail;
        if (trail == null) {
            return error("audit", "the audit trail is not running; `flexwall status` shows what it waits for");
        }
        if (limit < 0) {
            throw new IllegalArgumentException("the limit is a number of entries, not " + limit);
        }
        try {
            List<AuditEntry> entries = trail.read(new AuditQuery(since == null ? null : AuditTime.since(since,
                    Instant.now()), limit == 0 ? AUDIT_LIMIT : limit, contains));
            JsonArrayBuilder list = json.createArrayBuilder();
            entries.forEach(e -> list.add(entry(e)));
            return ok("audit").add("entries", list).build();
        } catch (AuditException e) {
            return error("audit", e.getMessage());
        }
    }

    /** The answer, after recording {@code changes}; says so in "auditProblem" when they could not be recorded. */
    private JsonObject recorded(JsonObjectBuilder answer, TrustChange... changes) {
        AuditTrail trail = auditTrail;
        if (trail == null) {
            warn("the audit trail is not running: not recorded: " + summaries(changes));
            return answer.add("auditProblem", "the audit trail is not running, so this change was not recorded "
                    + "in it").build();
        }
        for (TrustChange change : changes) {
            try {
                trail.record(change);
            } catch (AuditException e) {
                warn("not recorded in the audit trail (" + e.getMessage() + "): " + summaries(changes));
                return answer.add("auditProblem", "the change was made, but the audit trail could not record it: "
                        + e.getMessage()).build();
            }
        }
        return answer.build();
    }

    private static String summaries(TrustChange... changes) {
        return String.join("; ", java.util.Arrays.stream(changes).map(TrustChange::summary).toList());
    }

    public JsonObject ports() {
        PortStore s = portStore;
        if (s == null) {
            return error("ports", "the port store is not running, so no port is open (fail closed); "
                    + "`flexwall status` shows what it waits for");
        }
        JsonArrayBuilder permitted = json.createArrayBuilder();
        s.permitted().forEach(p -> permitted.add(port(p)));
        JsonArrayBuilder refused = json.createArrayBuilder();
        for (RefusedSocket socket : s.refusals()) {
            refused.add(refused(socket));
        }
        return ok("ports").add("permitted", permitted).add("refused", refused).build();
    }

    public JsonObject status() {
        boolean healthy = true;
        ProgramRegistry r = registry;
        JsonObjectBuilder reg = json.createObjectBuilder().add("running", r != null);
        if (r != null) {
            boolean usable = r.usable();
            reg.add("usable", usable);
            if (usable) {
                reg.add("programs", r.programs().size());
            } else {
                reg.add("problem", r.problem().orElse("no reason given"));
            }
            healthy &= usable;
        } else {
            healthy = false;
        }
        PortStore s = portStore;
        JsonObjectBuilder store = json.createObjectBuilder().add("running", s != null);
        if (s != null) {
            store.add("permitted", s.permitted().size()).add("refused", s.refused().size());
        } else {
            healthy = false;
        }
        healthy &= portMonitor != null;
        JsonObjectBuilder status = ok("status").add("registry", reg).add("portStore", store)
                .add("portMonitor", json.createObjectBuilder().add("running", portMonitor != null));
        JsonArrayBuilder hooks = json.createArrayBuilder();
        for (PacketHook h : packetHooks) {
            JsonObjectBuilder hook = json.createObjectBuilder().add("name", h.name()).add("status", h.status());
            Optional<String> problem = h.problem();
            problem.ifPresent(p -> hook.add("problem", p));
            healthy &= problem.isEmpty();
            hooks.add(hook);
        }
        status.add("packetHooks", hooks);
        status.add("engine", engineCounters());
        healthy &= !packetHooks.isEmpty(); // no hook: the kernel baseline, if any, decides alone
        JsonArrayBuilder checks = json.createArrayBuilder();
        healthy &= healthChecks(checks);
        status.add("checks", checks);
        return status.add("healthy", healthy).build();
    }

    /**
     * Runs flexwall's health checks (the ones the console shows) into {@code checks}: name, status, messages. Returns
     * whether every one is OK; false too when the health checks do not run, or none is registered.
     */
    private boolean healthChecks(JsonArrayBuilder checks) {
        List<Check> results = runHealthChecks();
        for (Check c : results) {
            JsonArrayBuilder m = json.createArrayBuilder();
            c.messages().forEach(m::add);
            checks.add(json.createObjectBuilder().add("name", c.name()).add("status", c.status().name())
                    .add("messages", m));
        }
        return !results.isEmpty() && results.stream().allMatch(c -> c.status() == Result.Status.OK);
    }

    private List<Check> runHealthChecks() {
        java.util.function.Supplier<List<Check>> withoutOsgi = checksWithoutOsgi;
        if (withoutOsgi != null) {
            return withoutOsgi.get();
        }
        HealthCheckExecutor executor = healthChecks;
        if (executor == null) {
            return List.of(new Check("health checks", Result.Status.CRITICAL, List.of("the Felix health check "
                    + "executor is not running, so whether flexwall protects cannot be told")));
        }
        List<Check> results = new java.util.ArrayList<>();
        for (HealthCheckExecutionResult r : executor.execute(HealthCheckSelector.tags(FlexwallHealth.TAG),
                new HealthCheckExecutionOptions().setForceInstantExecution(true))) {
            Result result = r.getHealthCheckResult();
            List<String> messages = new java.util.ArrayList<>();
            for (ResultLog.Entry e : result) {
                if (!e.isDebug()) {
                    messages.add(e.getMessage());
                }
            }
            results.add(new Check(r.getHealthCheckMetadata().getName(), result.getStatus(), messages));
        }
        return results;
    }

    /**
     * Disables (or enables again) every component that is a {@link PacketHook}, waiting until each is done. A
     * disabled hook leaves its kernel rules as they are (fail closed); {@code flexwall disable} then removes them.
     * Not persistent: the next start of flexwall filters again.
     */
    public JsonObject switchPacketHooks(boolean enable) {
        String op = enable ? "enable" : "disable";
        ServiceComponentRuntime runtime = scr;
        if (runtime == null) {
            return error(op, "Declarative Services is not running, so the packet hooks cannot be switched");
        }
        JsonArrayBuilder switched = json.createArrayBuilder();
        for (ComponentDescriptionDTO d : runtime.getComponentDescriptionDTOs()) {
            if (List.of(d.serviceInterfaces).contains(PacketHook.class.getName())) {
                try {
                    (enable ? runtime.enableComponent(d) : runtime.disableComponent(d))
                            .timeout(TimeUnit.SECONDS.toMillis(HOOK_SWITCH_SECONDS)).getValue();
                } catch (InvocationTargetException e) {
                    return error(op, "could not " + op + " " + d.name + ": " + e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return error(op, "interrupted while " + op + "-ing " + d.name);
                }
                switched.add(d.name);
            }
        }
        audit(enable ? "packet hooks enabled by the operator: flexwall filters again"
                : "packet hooks disabled by the operator: their kernel rules stay until `flexwall disable` removes "
                        + "them; flexwall filters again at its next start");
        return ok(op).add("hooks", switched).build();
    }

    /**
     * The packet path's counters by part ("packet bypass", "stateful ICF", "nfqueue hook"), whatever mode runs: who
     * took the decisions, and why packets were dropped. Figures only: they never make flexwall unhealthy.
     */
    private JsonObject engineCounters() {
        JsonObjectBuilder engine = json.createObjectBuilder();
        for (PacketCounters part : packetCounters) {
            JsonObjectBuilder counters = json.createObjectBuilder();
            try {
                part.counters().forEach(counters::add);
            } catch (RuntimeException e) {
                warn("the counters of " + part.part() + " could not be read: " + e);
                continue;
            }
            engine.add(part.part(), counters);
        }
        return engine.build();
    }

    /** The packet hooks, or a swap to the hooks {@code use} names ({@link HookSwitch}). */
    public JsonObject hook(String use) {
        BundleContext c = context;
        if (c == null) {
            return error("hook", "hooks can be listed and swapped only inside the running appliance");
        }
        JsonObject answer = new HookSwitch(c, configurationAdmin).execute(use);
        if (use != null) {
            audit(answer.getString(answer.getBoolean("ok") ? "message" : "error"));
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
            audit(o.message());
        } else if (o.previousVersion() != null) {
            log.error(o.message());
        }
        if (!o.ok()) {
            return error("update", o.message());
        }
        return ok("update").add("bundle", o.symbolicName()).add("previousVersion", o.previousVersion())
                .add("version", o.version()).add("message", o.message()).build();
    }

    // --- helpers ------------------------------------------------------------------------------------------------

    /** Re-evaluation happens at once even if the registry does not notify (the store treats a repeat as a no-op). */
    private void programsChanged() {
        for (ProgramRegistryListener l : registryListeners) {
            try {
                l.programsChanged();
            } catch (RuntimeException e) {
                warn("a ProgramRegistryListener failed: " + e);
            }
        }
    }

    private List<PermittedPort> permittedNow() {
        PortStore s = portStore;
        return s == null ? List.of() : s.permitted();
    }

    private JsonArray portsOf(String sha256) {
        JsonArrayBuilder a = json.createArrayBuilder();
        for (PermittedPort p : permittedNow()) {
            if (p.program().sha256().equals(sha256)) {
                a.add(port(p));
            }
        }
        return a.build();
    }

    private JsonObject entry(AuditEntry e) {
        JsonObjectBuilder b = json.createObjectBuilder().add("time", e.time().toString());
        if (e instanceof TrustChange t) {
            b.add("type", "trust").add("actor", t.actor()).add("action", lower(t.action()))
                    .add("program", nullable(t.program()))
                    .add("path", nullable(t.path() == null ? null : t.path().toString()))
                    .add("oldSha256", nullable(t.oldSha256())).add("newSha256", nullable(t.newSha256()))
                    .add("detail", t.detail());
        } else if (e instanceof PortChange p) {
            b.add("type", "port").add("kind", lower(p.kind())).add("protocol", lower(p.protocol()))
                    .add("family", lower(p.family())).add("port", p.port()).add("program", p.program())
                    .add("executable", nullable(p.executable() == null ? null : p.executable().toString()))
                    .add("sha256", nullable(p.sha256())).add("pid", p.pid()).add("user", nullable(p.user()))
                    .add("why", p.why());
        }
        return b.add("summary", e.summary()).build();
    }

    private JsonValue nullable(String s) {
        return s == null ? JsonValue.NULL : json.createValue(s);
    }

    private JsonObject program(TrustedProgram p) {
        return json.createObjectBuilder().add("name", p.name()).add("path", p.path().toString())
                .add("sha256", p.sha256()).add("md5", p.md5()).add("approvedAt", p.approvedAt().toString())
                .add("interpreter", p.interpreter())
                .add("user", p.user() == null ? JsonValue.NULL : json.createValue(p.user()))
                .add("uid", p.uid() == TrustedProgram.ANY_UID ? JsonValue.NULL : json.createValue(p.uid()))
                .add("unit", p.unit() == null ? JsonValue.NULL : json.createValue(p.unit())).build();
    }

    private JsonObject port(PermittedPort p) {
        JsonArrayBuilder processes = json.createArrayBuilder();
        p.processes().forEach(o -> processes.add(owner(o, Optional.of(p.program()))));
        return json.createObjectBuilder().add("protocol", lower(p.protocol())).add("family", lower(p.family()))
                .add("port", p.port()).add("inode", p.inode())
                .add("program", json.createObjectBuilder().add("name", p.program().name())
                        .add("path", p.program().path().toString()).add("sha256", p.program().sha256()))
                .add("processes", processes).add("since", p.since().toString()).build();
    }

    private JsonObject refused(RefusedSocket refusal) {
        ListeningSocket s = refusal.socket();
        ProgramRegistry r = registry;
        JsonArrayBuilder owners = json.createArrayBuilder();
        for (SocketOwner o : s.owners()) {
            owners.add(owner(o, r == null || o.sha256() == null ? Optional.empty() : r.bySha256(o.sha256())));
        }
        return json.createObjectBuilder().add("protocol", lower(s.protocol())).add("family", lower(s.family()))
                .add("address", s.addressText()).add("port", s.port()).add("inode", s.inode()).add("v6Only", s.v6Only())
                .add("owners", owners).add("reason", refusal.reason()).build();
    }

    private JsonObject owner(SocketOwner o, Optional<TrustedProgram> trustedAs) {
        JsonObjectBuilder b = json.createObjectBuilder().add("pid", o.pid()).add("startTime", o.startTime())
                .add("executable", o.executable().toString());
        b.add("sha256", o.sha256() == null ? JsonValue.NULL : json.createValue(o.sha256()));
        b.add("trustedAs", trustedAs.isPresent() ? json.createValue(trustedAs.get().name()) : JsonValue.NULL);
        b.add("uid", o.uid() == SocketOwner.UNKNOWN_UID ? JsonValue.NULL : json.createValue(o.uid()));
        b.add("unit", o.unit() == null ? JsonValue.NULL : json.createValue(o.unit()));
        b.add("tampered", o.tampered() == null ? JsonValue.NULL : json.createValue(o.tampered()));
        b.add("taken", o.taken());
        return b.build();
    }

    private JsonObjectBuilder ok(String op) {
        return json.createObjectBuilder().add("ok", true).add("op", op);
    }

    private JsonObject error(String op, String message) {
        JsonObjectBuilder b = json.createObjectBuilder().add("ok", false);
        if (op != null) {
            b.add("op", op);
        }
        return b.add("error", message).build();
    }

    private JsonObject noRegistry(String op) {
        return error(op, "the program registry is not running, so nothing can be trusted or listed; "
                + "`flexwall status` shows what it waits for");
    }

    private static Path fullPath(String path) {
        Path p;
        try {
            p = Path.of(path);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("'" + path + "' is not a path: " + e.getReason());
        }
        if (!p.isAbsolute()) {
            throw new IllegalArgumentException("give the full path of the program, such as /usr/sbin/sshd, not '"
                    + path + "'");
        }
        return p.normalize();
    }

    private static String text(JsonObject o, String key) {
        JsonValue v = o.get(key);
        if (v == null || v == JsonValue.NULL) {
            return null;
        }
        if (v instanceof JsonString s) {
            return s.getString();
        }
        throw new IllegalArgumentException("\"" + key + "\" must be a string");
    }

    private static String requiredText(JsonObject o, String key) {
        String s = text(o, key);
        if (s == null || s.isBlank()) {
            throw new IllegalArgumentException("the " + text(o, "op") + " request needs \"" + key + "\"");
        }
        return s;
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(java.util.Locale.ROOT);
    }

    private void audit(String message) {
        Logger l = log;
        if (l != null) {
            l.audit(message);
        }
    }

    private void warn(String message) {
        Logger l = log;
        if (l != null) {
            l.warn(message);
        }
    }
}
