package org.flexwall.administration.control;

import jakarta.json.JsonObject;
import jakarta.json.JsonValue;

/** The answer of {@code flexwall hook} as text: JSON only, so the control client needs no OSGi (as {@link Render}). */
final class HookRender {
    private HookRender() {}

    static String text(JsonObject answer) {
        StringBuilder b = new StringBuilder();
        if (answer.containsKey("message")) {
            b.append(answer.getString("message")).append("\n\n");
        }
        b.append(String.format("%-10s %-28s %-8s %s%n", "HOOK", "BUNDLE", "ACTIVE", "STATUS"));
        for (JsonValue v : answer.getJsonArray("hooks")) {
            JsonObject h = v.asJsonObject();
            String problem = h.get("problem") instanceof jakarta.json.JsonString p ? p.getString() : null;
            b.append(String.format("%-10s %-28s %-8s %s%n", h.getString("name"), h.getString("bundle"),
                    h.getBoolean("active") ? "yes" : "no", problem != null ? "PROBLEM: " + problem
                            : h.getString("status")));
        }
        String running = answer.get("running") instanceof jakarta.json.JsonString r ? r.getString() : null;
        String kept = answer.get("choice") instanceof jakarta.json.JsonString c ? c.getString() : null;
        b.append("\nRunning: ").append(running != null ? running : "no one choice (hooks started or stopped by hand)")
                .append("; kept for the next start: ")
                .append(kept != null ? kept : "none chosen (every hook bundle starts)").append('\n');
        b.append("Choices (flexwall hook use NAME):\n");
        for (JsonValue v : answer.getJsonArray("choices")) {
            JsonObject c = v.asJsonObject();
            b.append(String.format("  %-10s %s%n", c.getString("name"), c.getString("description")));
        }
        return b.toString().stripTrailing();
    }
}
