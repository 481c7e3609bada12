package org.flexwall.administration.control;

import java.util.ArrayList;
import java.util.List;

import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;

/**
 * Turns the answers of {@link Operations} into text for a terminal. Uses only the JSON, never flexwall's types, so
 * the control client can run outside OSGi with nothing but jakarta.json on its class path.
 */
public final class Render {
    private Render() {}

    /** The answer as text; for a failed request, the error message. */
    public static String text(JsonObject answer) {
        if (!answer.getBoolean("ok", false)) {
            return answer.getString("error", "the request failed without saying why");
        }
        String text = okText(answer);
        return answer.containsKey("auditProblem") ? text + "\nWarning: " + answer.getString("auditProblem") : text;
    }

    private static String okText(JsonObject answer) {
        switch (answer.getString("op", "")) {
            case "trust":
                return trusted("Trusted", answer);
            case "reapprove":
                return trusted("Re-approved", answer);
            case "untrust":
                return untrusted(answer);
            case "programs":
                return programs(answer.getJsonArray("programs"));
            case "ports":
                return ports(answer);
            case "status":
                return status(answer);
            case "reload":
                int n = answer.getJsonArray("programs").size();
                return "The trusted-program store is usable: " + n + (n == 1 ? " trusted program." : " trusted programs.")
                        + " `flexwall programs` lists them.";
            case "reset":
                return "The trusted-program store starts empty: no program is trusted now. The damaged file was kept "
                        + "aside. Trust your programs again with: flexwall trust PATH [NAME]";
            case "disable":
                return "Packet hooks stopped: " + names(answer.getJsonArray("hooks")) + ". Their kernel rules stay and "
                        + "keep dropping (fail closed) until removed; `flexwall disable` in a terminal removes them.";
            case "enable":
                return "Packet hooks started: " + names(answer.getJsonArray("hooks")) + ". flexwall filters again.";
            case "update":
                return answer.getString("message", "updated");
            case "audit":
                return audit(answer.getJsonArray("entries"));
            case "replay":
                return ReplayCommand.text(answer);
            case "hook":
                return HookRender.text(answer);
            default:
                return answer.toString();
        }
    }

    private static String trusted(String verb, JsonObject answer) {
        JsonObject p = answer.getJsonObject("program");
        StringBuilder out = new StringBuilder()
                .append(verb).append(" '").append(p.getString("name")).append("' at ").append(p.getString("path"))
                .append("\n  SHA-256 ").append(p.getString("sha256"));
        if (p.getBoolean("interpreter", false)) {
            out.append("\n  Note: this is a general interpreter; every script it runs may now open ports.");
        }
        out.append("\n  Accepted: a process whose running image has exactly these bytes");
        if (p.get("user") instanceof jakarta.json.JsonString u) {
            out.append(", running as user ").append(u.getString()).append(" (uid ").append(p.getInt("uid")).append(")");
        } else {
            out.append(", of any user");
        }
        if (p.get("unit") instanceof jakarta.json.JsonString unit) {
            out.append(", in systemd unit ").append(unit.getString());
        } else {
            out.append(", in any systemd unit or none");
        }
        out.append(";\n  not traced, without LD_PRELOAD, LD_AUDIT or LD_LIBRARY_PATH, not run from a memfd or a deleted "
                + "file,\n  and holding its sockets alone.");
        JsonArray open = answer.getJsonArray("permitted");
        if (open == null || open.isEmpty()) {
            out.append("\n  Its ports open as soon as it listens.");
        } else {
            out.append("\n  Open now: ").append(portList(open));
        }
        return out.toString();
    }

    private static String untrusted(JsonObject answer) {
        StringBuilder out = new StringBuilder();
        for (JsonObject p : objects(answer.getJsonArray("removed"))) {
            out.append(out.length() == 0 ? "" : "\n").append("No longer trusted: '").append(p.getString("name"))
                    .append("' at ").append(p.getString("path"));
        }
        JsonArray closed = answer.getJsonArray("closed");
        out.append(closed == null || closed.isEmpty() ? "\n  It had no open port." : "\n  Closed: " + portList(closed));
        return out.toString();
    }

    private static String programs(JsonArray programs) {
        if (programs.isEmpty()) {
            return "No program is trusted. Trust one with: flexwall trust /full/path/to/program [NAME]";
        }
        Table t = new Table("NAME", "PATH", "SHA-256", "MD5", "APPROVED", "RUNS AS", "");
        for (JsonObject p : objects(programs)) {
            String user = p.get("user") instanceof jakarta.json.JsonString u ? "user " + u.getString() : "";
            String unit = p.get("unit") instanceof jakarta.json.JsonString n ? "unit " + n.getString() : "";
            String runsAs = user.isEmpty() || unit.isEmpty() ? user + unit : user + ", " + unit;
            t.row(p.getString("name"), p.getString("path"), p.getString("sha256").substring(0, 16) + "…",
                    p.getString("md5", ""), p.getString("approvedAt"), runsAs.isEmpty() ? "anyone" : runsAs,
                    p.getBoolean("interpreter", false) ? "interpreter" : "");
        }
        return t.toString();
    }

    private static String ports(JsonObject answer) {
        StringBuilder out = new StringBuilder();
        JsonArray permitted = answer.getJsonArray("permitted");
        if (permitted.isEmpty()) {
            out.append("No port is open: no trusted program listens.");
        } else {
            out.append("Open ports (").append(permitted.size()).append("):\n");
            Table t = new Table("PROTO", "FAMILY", "PORT", "PROGRAM", "PATH", "PIDS", "SINCE");
            for (JsonObject p : objects(permitted)) {
                JsonObject program = p.getJsonObject("program");
                List<String> pids = new ArrayList<>();
                objects(p.getJsonArray("processes")).forEach(o -> pids.add(String.valueOf(o.getInt("pid"))));
                t.row(p.getString("protocol"), p.getString("family"), String.valueOf(p.getInt("port")),
                        program.getString("name"), program.getString("path"), String.join(",", pids),
                        p.getString("since"));
            }
            out.append(t);
        }
        JsonArray refused = answer.getJsonArray("refused");
        if (!refused.isEmpty()) {
            out.append("\n\nRefused (").append(refused.size()).append("): a trusted program is involved, but their "
                    + "ports stay closed:\n");
            Table t = new Table("PROTO", "FAMILY", "ADDRESS", "PORT", "OWNERS");
            List<String> reasons = new ArrayList<>();
            for (JsonObject s : objects(refused)) {
                List<String> owners = new ArrayList<>();
                for (JsonObject o : objects(s.getJsonArray("owners"))) {
                    JsonValue as = o.get("trustedAs");
                    owners.add(o.getInt("pid") + " " + o.getString("executable") + " ("
                            + (as == null || as == JsonValue.NULL ? "untrusted" : "trusted: " + o.getString("trustedAs"))
                            + ")");
                }
                t.row(s.getString("protocol"), s.getString("family"), s.getString("address"),
                        String.valueOf(s.getInt("port")), String.join(", ", owners));
                reasons.add("  " + s.getString("protocol") + " " + s.getString("address") + " port " + s.getInt("port")
                        + ": " + s.getString("reason", "no reason given"));
            }
            out.append(t).append("\nWhy:\n").append(String.join("\n", reasons));
        }
        return out.toString();
    }

    private static String status(JsonObject answer) {
        JsonObject reg = answer.getJsonObject("registry");
        JsonObject store = answer.getJsonObject("portStore");
        JsonObject monitor = answer.getJsonObject("portMonitor");
        Table t = new Table();
        t.row("flexwall", answer.getBoolean("healthy") ? "running" : "running, NOT fully working (see below)");
        if (!reg.getBoolean("running")) {
            t.row("program registry", "NOT RUNNING: nothing is trusted, no port opens");
        } else if (!reg.getBoolean("usable")) {
            t.row("program registry", "UNUSABLE: " + reg.getString("problem"));
        } else {
            int n = reg.getInt("programs");
            t.row("program registry", n + (n == 1 ? " trusted program" : " trusted programs"));
        }
        t.row("port monitor", monitor.getBoolean("running") ? "running" : "NOT RUNNING: new listeners are not noticed");
        if (store.getBoolean("running")) {
            t.row("port store", store.getInt("permitted") + " open, " + store.getInt("refused") + " refused");
        } else {
            t.row("port store", "NOT RUNNING: no port is open");
        }
        JsonArray hooks = answer.getJsonArray("packetHooks");
        if (hooks != null) {
            if (hooks.isEmpty()) {
                t.row("packet hooks", "NONE RUNNING: only the kernel baseline, if installed, filters");
            }
            for (JsonObject h : objects(hooks)) {
                t.row("packet hook " + h.getString("name"), h.containsKey("problem")
                        ? "NOT PROTECTING: " + h.getString("problem") : h.getString("status"));
            }
        }
        // the health checks, as the console shows them too
        t.row("health checks:");
        for (JsonObject c : objects(answer.getJsonArray("checks"))) {
            List<String> messages = c.getJsonArray("messages").getValuesAs(jakarta.json.JsonString.class).stream()
                    .map(jakarta.json.JsonString::getString).toList();
            t.row("  " + c.getString("name").replaceFirst("^flexwall ", ""), c.getString("status")
                    + (messages.isEmpty() ? "" : ": " + messages.get(0)));
            messages.stream().skip(1).forEach(m -> t.row("", m));
        }
        return t + engine(answer.getJsonObject("engine"));
    }

    private static String audit(JsonArray entries) {
        if (entries.isEmpty()) {
            return "The audit trail holds no such entry.";
        }
        Table t = new Table();
        for (JsonObject e : objects(entries)) {
            t.row(e.getString("time"), e.getString("summary"));
        }
        return t.toString();
    }

    /** The packet path's counters, part by part; counters still at zero are left out (--json has them all). */
    private static String engine(JsonObject engine) {
        if (engine == null || engine.isEmpty()) {
            return "";
        }
        Table t = new Table();
        for (String part : engine.keySet()) {
            t.row("  " + part);
            JsonObject counters = engine.getJsonObject(part);
            counters.forEach((name, value) -> {
                if (value instanceof jakarta.json.JsonNumber n && n.longValue() != 0) {
                    t.row("    " + name, Long.toString(n.longValue()));
                }
            });
        }
        return "\n\nPacket path counters since each part started (zeros left out):\n" + t;
    }

    private static String names(JsonArray strings) {
        List<String> names = strings.getValuesAs(jakarta.json.JsonString.class).stream()
                .map(jakarta.json.JsonString::getString).toList();
        return names.isEmpty() ? "none was running" : String.join(", ", names);
    }

    private static String portList(JsonArray ports) {
        List<String> parts = new ArrayList<>();
        for (JsonObject p : objects(ports)) {
            parts.add(p.getString("protocol") + "/" + p.getInt("port") + " (" + p.getString("family") + ")");
        }
        return String.join(", ", parts);
    }

    private static List<JsonObject> objects(JsonArray a) {
        return a == null ? List.of() : a.getValuesAs(JsonObject.class);
    }

    /** Columns padded to their widest cell; the last column is not padded. */
    static final class Table {
        private final List<String[]> rows = new ArrayList<>();

        Table(String... header) {
            if (header.length > 0) {
                rows.add(header);
            }
        }

        void row(String... cells) {
            rows.add(cells);
        }

        @Override
        public String toString() {
            int columns = rows.stream().mapToInt(r -> r.length).max().orElse(0);
            int[] width = new int[columns];
            for (String[] r : rows) {
                for (int i = 0; i < r.length; i++) {
                    width[i] = Math.max(width[i], r[i].length());
                }
            }
            StringBuilder out = new StringBuilder();
            for (String[] r : rows) {
                StringBuilder line = new StringBuilder();
                for (int i = 0; i < r.length; i++) {
                    line.append(i + 1 < r.length ? String.format("%-" + (width[i] + 2) + "s", r[i]) : r[i]);
                }
                out.append(out.length() == 0 ? "" : "\n").append(line.toString().stripTrailing());
            }
            return out.toString();
        }
    }
}
