package org.flexwall.administration.control;

import java.lang.reflect.InvocationTargetException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.flexwall.administration.status.ReadinessReport;
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
            "reload", "reset", "disable", "enable", "update");
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

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private final List<ProgramRegistryListener> registryListeners = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private final List<PacketHook> packetHooks = new CopyOnWriteArrayList<>();

    private volatile BundleContext context;

    private final JsonProvider json = JsonSupport.json();

    public Operations() {}

    @Activate
    void activate(BundleContext context) {
        this.context = context;
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

    /** Without OSGi: the packet hooks {@code status} reports. */
    public Operations withPacketHooks(List<PacketHook> hooks) {
        packetHooks.addAll(hooks);
        return this;
    }

    /** Carries out one request; never throws: failures come back as {@code {"ok":false,"error":…}}. */
    public JsonObject execute(JsonObject request) {
        String op = null;
        try {
            op = text(request, "op");
            if (op == null) {
                return error(null, "the request names no operation (\"op\"); one of " + String.join(", ", NAMES));
            }
            switch (op) {
                case "trust":
                    return trust(requiredText(request, "path"), text(request, "name"), request.getBoolean("insist", false),
                            text(request, "user"), text(request, "unit"));
                case "untrust":
                    return untrust(requiredText(request, "path"));
                case "programs":
                    return programs();
                case "reapprove":
                    return reapprove(requiredText(request, "path"));
                case "ports":
                    return ports();
                case "status":
                    return status();
                case "reload":
                    return reload();
                case "reset":
                    return reset();
                case "disable":
                    return switchPacketHooks(false);
                case "enable":
                    return switchPacketHooks(true);
                case "update":
                    return update(requiredText(request, "path"));
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
        return trust(path, name, insist, null, null);
    }

    /** As above, for processes of {@code user} (name or uid) in systemd unit {@code unit} only; each may be null. */
    public JsonObject trust(String path, String name, boolean insist, String user, String unit) {
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
            return ok("trust").add("program", program(p)).add("permitted", portsOf(p.sha256())).build();
        } catch (RegistryException e) {
            return error("trust", e.getMessage());
        }
    }

    public JsonObject untrust(String path) {
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
            return ok("untrust").add("removed", programs).add("closed", closed).build();
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
        ProgramRegistry r = registry;
        if (r == null) {
            return noRegistry("reapprove");
        }
        try {
            TrustedProgram p = r.reapprove(fullPath(path));
            audit("reapproved program '" + p.name() + "' at " + p.path() + ", SHA-256 now " + p.sha256());
            programsChanged();
            return ok("reapprove").add("program", program(p)).add("permitted", portsOf(p.sha256())).build();
        } catch (RegistryException e) {
            return error("reapprove", e.getMessage());
        }
    }

    /** Reads the trusted-program store again, after the operator repaired it as its problem message said. */
    public JsonObject reload() {
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
        return ok("reload").add("programs", list).build();
    }

    /** Gives up on a damaged store: starts an empty list (the registry refuses while its store is usable). */
    public JsonObject reset() {
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
        return ok("reset").build();
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
        healthy &= !packetHooks.isEmpty(); // no hook: the kernel baseline, if any, decides alone
        ServiceComponentRuntime runtime = scr;
        if (runtime != null) {
            List<String> waiting = ReadinessReport.notReady(context, runtime);
            JsonArrayBuilder w = json.createArrayBuilder();
            waiting.forEach(w::add);
            status.add("waiting", w);
            healthy &= waiting.isEmpty();
        }
        return status.add("healthy", healthy).build();
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
                .add("address", s.address()).add("port", s.port()).add("inode", s.inode()).add("v6Only", s.v6Only())
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
