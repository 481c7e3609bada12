package org.flexwall.administration.control;

import static org.flexwall.administration.control.JsonViews.port;
import static org.flexwall.administration.control.JsonViews.program;
import static org.flexwall.administration.control.Replies.error;
import static org.flexwall.administration.control.Replies.fullPath;
import static org.flexwall.administration.control.Replies.noRegistry;
import static org.flexwall.administration.control.Replies.ok;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

import org.flexwall.api.audit.AuditException;
import org.flexwall.api.audit.AuditTrail;
import org.flexwall.api.audit.TrustChange;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.PortStore;
import org.flexwall.api.program.ProgramRegistry;
import org.flexwall.api.program.ProgramRegistryListener;
import org.flexwall.api.program.RegistryException;
import org.flexwall.api.program.TrustedProgram;
import org.osgi.service.log.Logger;

import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.spi.JsonProvider;

/**
 * The operations that change or list what is trusted (trust, untrust, programs, reapprove, reload, reset), with the
 * services of one request; every change is logged, recorded in the audit trail and re-evaluated at once.
 *
 * @param registry   may be null (then every operation says the registry is not running)
 * @param portStore  may be null (then no port is listed as opened or closed)
 * @param auditTrail may be null (then the answer says the change was not recorded)
 * @param log        may be null (without OSGi)
 */
record TrustOperations(ProgramRegistry registry, PortStore portStore, AuditTrail auditTrail,
        List<ProgramRegistryListener> registryListeners, Logger log) {
    private static final JsonProvider json = JsonSupport.json();

    /** Trusts the program at {@code path} for processes of {@code user} in unit {@code unit} (each may be null). */
    JsonObject trust(String actor, String path, String name, boolean insist, String user, String unit) {
        ProgramRegistry r = registry;
        if (r == null) {
            return noRegistry("trust");
        }
        try {
            TrustedProgram p = r.trust(fullPath(path), name, insist, user, unit);
            Replies.audit(log, "trusted program '" + p.name() + "' at " + p.path() + ", SHA-256 " + p.sha256()
                    + (p.restrictions().isEmpty() ? "" : ", " + p.restrictions() + " only")
                    + (p.interpreter() ? " (an interpreter: every script it runs is trusted)" : ""));
            programsChanged();
            return recorded(ok("trust").add("program", program(p)).add("permitted", portsOf(p.sha256())),
                    TrustChange.trusted(actor, p));
        } catch (RegistryException e) {
            return error("trust", e.getMessage());
        }
    }

    JsonObject untrust(String actor, String path) {
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
            removed.forEach(p -> Replies.audit(log, "no longer trusts program '" + p.name() + "' at " + p.path()));
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

    JsonObject programs() {
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

    JsonObject reapprove(String actor, String path) {
        ProgramRegistry r = registry;
        if (r == null) {
            return noRegistry("reapprove");
        }
        try {
            Path full = fullPath(path);
            TrustedProgram before = r.programs().stream().filter(t -> t.path().equals(full)).findFirst().orElse(null);
            TrustedProgram p = r.reapprove(full);
            Replies.audit(log, "reapproved program '" + p.name() + "' at " + p.path() + ", SHA-256 now " + p.sha256());
            programsChanged();
            return recorded(ok("reapprove").add("program", program(p)).add("permitted", portsOf(p.sha256())),
                    TrustChange.reapproved(actor, before, p));
        } catch (RegistryException e) {
            return error("reapprove", e.getMessage());
        }
    }

    /** Reads the trusted-program store again, after the operator repaired it as its problem message said. */
    JsonObject reload(String actor) {
        ProgramRegistry r = registry;
        if (r == null) {
            return noRegistry("reload");
        }
        boolean usable = r.reload();
        programsChanged();
        if (!usable) {
            return error("reload", "the trusted-program store is still unusable: " + r.problem().orElse("no reason given"));
        }
        Replies.audit(log, "reloaded the trusted-program store: " + r.programs().size() + " trusted programs");
        JsonArrayBuilder list = json.createArrayBuilder();
        r.programs().forEach(p -> list.add(program(p)));
        int n = r.programs().size();
        return recorded(ok("reload").add("programs", list), new TrustChange(Instant.now(), actor,
                TrustChange.Action.RELOAD, null, null, null, null, n + (n == 1 ? " trusted program" : " trusted programs")));
    }

    /** Gives up on a damaged store: starts an empty list (the registry refuses while its store is usable). */
    JsonObject reset(String actor) {
        ProgramRegistry r = registry;
        if (r == null) {
            return noRegistry("reset");
        }
        try {
            r.reset();
        } catch (RegistryException e) {
            return error("reset", e.getMessage());
        }
        Replies.audit(log, "reset the trusted-program store: no program is trusted now");
        programsChanged();
        return recorded(ok("reset"), new TrustChange(Instant.now(), actor, TrustChange.Action.RESET, null, null, null,
                null, ""));
    }

    /** The answer, after recording {@code changes}; says so in "auditProblem" when they could not be recorded. */
    private JsonObject recorded(JsonObjectBuilder answer, TrustChange... changes) {
        AuditTrail trail = auditTrail;
        if (trail == null) {
            Replies.warn(log, "the audit trail is not running: not recorded: " + summaries(changes));
            return answer.add("auditProblem", "the audit trail is not running, so this change was not recorded "
                    + "in it").build();
        }
        for (TrustChange change : changes) {
            try {
                trail.record(change);
            } catch (AuditException e) {
                Replies.warn(log, "not recorded in the audit trail (" + e.getMessage() + "): " + summaries(changes));
                return answer.add("auditProblem", "the change was made, but the audit trail could not record it: "
                        + e.getMessage()).build();
            }
        }
        return answer.build();
    }

    private static String summaries(TrustChange... changes) {
        return String.join("; ", Arrays.stream(changes).map(TrustChange::summary).toList());
    }

    /** Re-evaluation happens at once even if the registry does not notify (the store treats a repeat as a no-op). */
    private void programsChanged() {
        for (ProgramRegistryListener l : registryListeners) {
            try {
                l.programsChanged();
            } catch (RuntimeException e) {
                Replies.warn(log, "a ProgramRegistryListener failed: " + e);
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
}
