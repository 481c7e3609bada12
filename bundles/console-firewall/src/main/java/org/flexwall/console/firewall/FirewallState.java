package org.flexwall.console.firewall;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

import org.flexwall.api.audit.AuditEntry;
import org.flexwall.api.audit.AuditException;
import org.flexwall.api.audit.AuditQuery;
import org.flexwall.api.audit.AuditTrail;
import org.flexwall.api.audit.PortChange;
import org.flexwall.api.audit.TrustChange;
import org.flexwall.api.packet.PacketHook;
import org.flexwall.api.packet.PortTraffic;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.PortMonitor;
import org.flexwall.api.port.PortStore;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.port.RefusedSocket;
import org.flexwall.api.port.SocketOwner;
import org.flexwall.api.program.ProgramRegistry;
import org.flexwall.api.program.TrustedProgram;

import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import jakarta.json.spi.JsonProvider;

/** What the Firewall page shows, as one JSON object, from the services as they are now (any of them may be missing). */
final class FirewallState {
    static final int MAX_DROP_ROWS = 200;
    static final int MAX_AUDIT_ROWS = 200;

    /** The services and figures one answer is made of. */
    record Sources(ProgramRegistry registry, PortStore store, PortMonitor monitor, List<PacketHook> hooks,
            AuditTrail audit, DropTally drops, int dropCapacity, PacketPath path, DiskHashes disk,
            PortTraffic traffic) {}

    private final JsonProvider json;

    FirewallState(JsonProvider json) {
        this.json = json;
    }

    JsonObject build(Sources s, String auditFilter) {
        JsonObjectBuilder o = json.createObjectBuilder().add("time", Instant.now().toString());
        List<PermittedPort> permitted = s.store() == null ? List.of() : s.store().permitted();
        List<RefusedSocket> refused = s.store() == null ? List.of() : s.store().refusals();
        List<ListeningSocket> listening = s.monitor() == null ? List.of() : s.monitor().listening();
        Map<Integer, String> users = Users.read();

        o.add("programs", programs(s, permitted, refused, listening));
        if (s.registry() == null) {
            o.add("registryProblem", "the program registry is not running: nothing can be trusted or removed now");
        } else {
            s.registry().problem().ifPresent(p -> o.add("registryProblem", p));
        }
        o.add("waiting", waiting(s, permitted, refused, listening, users));
        if (s.monitor() == null) {
            o.add("monitorProblem", "the port monitor is not running: listeners cannot be seen");
        }

        JsonArrayBuilder ports = json.createArrayBuilder();
        Map<PortKey, PortTraffic.Counts> traffic = s.traffic() == null ? Map.of() : s.traffic().counts();
        for (PermittedPort p : permitted) {
            JsonArrayBuilder pids = json.createArrayBuilder();
            p.processes().forEach(pr -> pids.add(pr.pid()));
            JsonObjectBuilder port = json.createObjectBuilder().add("protocol", lower(p.protocol()))
                    .add("family", family(p.family())).add("port", p.port()).add("program", p.program().name())
                    .add("path", p.program().path().toString()).add("pids", pids).add("since", p.since().toString());
            PortTraffic.Counts c = traffic.get(PortKey.of(p)); // absent while the hook's counters cannot be read
            if (c != null) {
                port.add("packets", c.packets()).add("bytes", c.bytes());
            }
            ports.add(port);
        }
        o.add("permitted", ports);
        if (s.store() == null) {
            o.add("storeProblem", "the port store is not running: no port is open (fail closed)");
        }

        JsonArrayBuilder refusals = json.createArrayBuilder();
        for (RefusedSocket r : refused) {
            ListeningSocket k = r.socket();
            refusals.add(json.createObjectBuilder().add("protocol", lower(k.protocol())).add("family", family(k.family()))
                    .add("address", k.addressText()).add("port", k.port()).add("owners", owners(k.owners(), users))
                    .add("reason", r.reason()));
        }
        o.add("refused", refusals);

        JsonArrayBuilder drops = json.createArrayBuilder();
        for (DropTally.Row r : s.drops().rows(MAX_DROP_ROWS)) {
            drops.add(json.createObjectBuilder().add("source", r.source()).add("protocol", protocolName(r.protocol()))
                    .add("port", r.port()).add("count", r.count()).add("firstSeen", r.firstSeen().toString())
                    .add("lastSeen", r.lastSeen().toString()));
        }
        o.add("drops", drops).add("dropSources", s.drops().size()).add("dropCapacity", s.dropCapacity())
                .add("dropsCounted", s.drops().total());

        o.add("path", path(s));
        o.add("audit", audit(s.audit(), auditFilter));
        return o.build();
    }

    private JsonArrayBuilder programs(Sources s, List<PermittedPort> permitted, List<RefusedSocket> refused,
            List<ListeningSocket> listening) {
        JsonArrayBuilder a = json.createArrayBuilder();
        if (s.registry() == null) {
            return a;
        }
        for (TrustedProgram p : s.registry().programs()) {
            JsonObjectBuilder b = json.createObjectBuilder().add("name", p.name()).add("path", p.path().toString())
                    .add("sha256", p.sha256()).add("md5", p.md5()).add("approvedAt", p.approvedAt().toString())
                    .add("interpreter", p.interpreter()).add("restrictions", p.restrictions());
            Optional<String> onDisk = s.disk().sha256(p.path());
            TreeSet<String> on = new TreeSet<>();
            for (PermittedPort pp : permitted) {
                if (pp.program().sha256().equals(p.sha256())) {
                    on.add(lower(pp.protocol()) + "/" + pp.port() + " (" + family(pp.family()) + ")");
                }
            }
            long refusedHere = refused.stream().filter(r -> r.socket().owners().stream()
                    .anyMatch(o -> p.sha256().equals(o.sha256()))).count();
            boolean running = listening.stream().anyMatch(l -> l.owners().stream().anyMatch(o -> p.sha256().equals(o.sha256())));
            String state;
            if (onDisk.isEmpty()) {
                state = "file missing: " + p.path() + " cannot be read";
            } else if (!onDisk.get().equals(p.sha256())) {
                state = "bytes on disk differ: not trusted (reapprove after an upgrade, or remove)";
            } else if (!on.isEmpty()) {
                state = "listening on " + String.join(", ", on);
            } else if (refusedHere > 0) {
                state = "listening, refused (see refused sockets)";
            } else if (running) {
                state = "listening on loopback only";
            } else {
                state = "not running (no listening socket)";
            }
            a.add(b.add("state", state).add("listening", !on.isEmpty())
                    .add("differs", onDisk.isPresent() && !onDisk.get().equals(p.sha256())));
        }
        return a;
    }

    /**
     * Processes listening now whose ports stay closed because nobody trusts them: neither permitted nor refused (a
     * refusal concerns a trusted program), and reachable from outside (not bound to loopback).
     */
    private JsonArrayBuilder waiting(Sources s, List<PermittedPort> permitted, List<RefusedSocket> refused,
            List<ListeningSocket> listening, Map<Integer, String> users) {
        Map<String, JsonObjectBuilder> byProcess = new LinkedHashMap<>();
        Map<String, TreeSet<String>> portsOf = new HashMap<>();
        Map<String, Long> droppedAt = new HashMap<>();
        Map<String, TreeSet<String>> counted = new HashMap<>();
        for (ListeningSocket l : listening) {
            if (l.isLoopback() || l.owners().isEmpty()
                    || permitted.stream().anyMatch(p -> p.inode() == l.inode())
                    || refused.stream().anyMatch(r -> r.socket().inode() == l.inode())) {
                continue;
            }
            for (SocketOwner o : l.owners()) {
                if (o.sha256() != null && s.registry() != null && s.registry().bySha256(o.sha256()).isPresent()) {
                    continue; // trusted: its port is being opened, or refused for a reason shown elsewhere
                }
                String key = o.pid() + ":" + o.startTime();
                byProcess.computeIfAbsent(key, k -> owner(o, users, s.registry()));
                String port = lower(l.protocol()) + "/" + l.port();
                portsOf.computeIfAbsent(key, k -> new TreeSet<>()).add(port);
                if (counted.computeIfAbsent(key, k -> new TreeSet<>()).add(port)) {
                    droppedAt.merge(key, s.drops().atPort(l.protocol() == Protocol.TCP ? 6 : 17, l.port()), Long::sum);
                }
            }
        }
        JsonArrayBuilder a = json.createArrayBuilder();
        byProcess.forEach((key, b) -> {
            JsonArrayBuilder ports = json.createArrayBuilder();
            portsOf.get(key).forEach(ports::add);
            a.add(b.add("ports", ports).add("dropped", droppedAt.getOrDefault(key, 0L)));
        });
        return a;
    }

    private JsonObjectBuilder owner(SocketOwner o, Map<Integer, String> users, ProgramRegistry registry) {
        String exe = o.executable().toString();
        Optional<String> interpreter = registry == null ? Optional.empty() : registry.interpreter(o.executable());
        String notOneClick = o.sha256() == null ? "its image could not be read"
                : o.tampered() != null ? "it shows signs of running other code: " + o.tampered()
                : exe.endsWith(" (deleted)") ? "it runs a deleted file: restart it from the file you mean to trust"
                : interpreter.isPresent() ? "an interpreter (" + interpreter.get() + "): trusting it would trust every "
                        + "script it runs; use flexwall trust --insist if you really mean it"
                : null;
        JsonObjectBuilder b = json.createObjectBuilder().add("pid", o.pid()).add("startTime", o.startTime())
                .add("executable", exe).add("sha256", o.sha256() == null ? JsonValue.NULL : json.createValue(o.sha256()))
                .add("user", user(o.uid(), users)).add("interpreter", interpreter.isPresent())
                .add("oneClick", notOneClick == null);
        if (notOneClick != null) {
            b.add("why", notOneClick);
        }
        if (o.unit() != null) {
            b.add("unit", o.unit());
        }
        return b;
    }

    private JsonArrayBuilder owners(List<SocketOwner> owners, Map<Integer, String> users) {
        JsonArrayBuilder a = json.createArrayBuilder();
        for (SocketOwner o : owners) {
            a.add(json.createObjectBuilder().add("pid", o.pid()).add("executable", o.executable().toString())
                    .add("user", user(o.uid(), users)));
        }
        return a;
    }

    private JsonObjectBuilder path(Sources s) {
        JsonArrayBuilder hooks = json.createArrayBuilder();
        for (PacketHook h : s.hooks()) {
            JsonObjectBuilder b = json.createObjectBuilder().add("name", h.name()).add("status", h.status());
            h.problem().ifPresent(p -> b.add("problem", p));
            hooks.add(b);
        }
        List<PacketPath.Sample> history = s.path().history();
        JsonArrayBuilder h = json.createArrayBuilder();
        for (PacketPath.Sample x : history) {
            h.add(json.createArrayBuilder().add(x.epochSecond()).add(x.decisionsPerSecond()).add(x.dropsPerSecond())
                    .add(x.queueDropsPerSecond()));
        }
        PacketPath.Sample last = history.isEmpty() ? null : history.get(history.size() - 1);
        JsonObjectBuilder b = json.createObjectBuilder().add("hooks", hooks).add("history", h)
                .add("queueDropsTotal", s.path().queueDropsTotal());
        if (last != null) {
            b.add("decisionsPerSecond", last.decisionsPerSecond()).add("dropsPerSecond", last.dropsPerSecond())
                    .add("queueDropsPerSecond", last.queueDropsPerSecond()).add("conntrack", last.conntrack())
                    .add("conntrackMax", last.conntrackMax());
        }
        return b;
    }

    private JsonObjectBuilder audit(AuditTrail trail, String filter) {
        JsonObjectBuilder b = json.createObjectBuilder();
        if (trail == null) {
            return b.add("available", false).add("problem", "audit trail not available");
        }
        try {
            List<AuditEntry> entries = trail.read(new AuditQuery(null, MAX_AUDIT_ROWS,
                    filter == null || filter.isBlank() ? null : filter.strip()));
            JsonArrayBuilder a = json.createArrayBuilder();
            for (AuditEntry e : entries) {
                JsonObjectBuilder row = json.createObjectBuilder().add("time", e.time().toString())
                        .add("summary", e.summary());
                if (e instanceof TrustChange t) {
                    row.add("kind", "trust").add("actor", t.actor());
                } else if (e instanceof PortChange p) {
                    row.add("kind", "port").add("actor", p.kind().toString().toLowerCase());
                }
                a.add(row);
            }
            b.add("available", true).add("entries", a);
            trail.problem().ifPresent(p -> b.add("problem", p));
            return b;
        } catch (AuditException | RuntimeException e) {
            return b.add("available", false).add("problem", "the audit trail cannot be read: " + e.getMessage());
        }
    }

    static String lower(Enum<?> e) {
        return e.name().toLowerCase(java.util.Locale.ROOT);
    }

    static String family(AddressFamily f) {
        return f == AddressFamily.IPV4 ? "IPv4" : "IPv6";
    }

    static String protocolName(int protocol) {
        return protocol == 6 ? "tcp" : protocol == 17 ? "udp" : Integer.toString(protocol);
    }

    private static String user(int uid, Map<Integer, String> users) {
        if (uid == SocketOwner.UNKNOWN_UID) {
            return "?";
        }
        String name = users.get(uid);
        return name == null ? Integer.toString(uid) : name + " (" + uid + ")";
    }

    /** User names by uid, from /etc/passwd. */
    static final class Users {
        private Users() {}

        static Map<Integer, String> read() {
            Map<Integer, String> m = new HashMap<>();
            try {
                for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
                    String[] f = line.split(":");
                    if (f.length > 2) {
                        try {
                            m.put(Integer.parseInt(f[2]), f[0]);
                        } catch (NumberFormatException e) {
                            // not an account line
                        }
                    }
                }
            } catch (java.io.IOException e) {
                // numbers only
            }
            return m;
        }
    }
}
