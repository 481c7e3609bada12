package org.flexwall.administration.control;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

/**
 * {@code flexwall replay FILE [--ports LIST] [--local ADDRS] [--flows N]}: the request from a command line and the
 * answer as a table ({@link ReplayOperation} carries it out). Uses only JSON, never flexwall's types, so the control
 * client runs it outside OSGi.
 */
public final class ReplayCommand {
    public static final String USAGE = "replay FILE.pcap [--ports tcp/5400,udp/53] [--local ADDR,...] [--flows N]";
    /** How long the client waits: a capture of millions of packets takes seconds to replay. */
    static final long MILLIS = 600_000;

    private ReplayCommand() {}

    /** The request for {@code FILE [--ports LIST] [--local ADDRS] [--flows N]}; the path made absolute here. */
    public static JsonObject request(List<String> args) {
        JsonObjectBuilder b = JsonSupport.json().createObjectBuilder().add("op", "replay");
        String file = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--ports") || a.equals("--local") || a.equals("--flows")) {
                if (++i >= args.size()) {
                    throw new IllegalArgumentException(a + " needs a value; expected: flexwall " + USAGE);
                }
                String value = args.get(i);
                if (a.equals("--flows")) {
                    b.add("flows", number(value));
                } else {
                    JsonArrayBuilder list = JsonSupport.json().createArrayBuilder();
                    for (String item : value.split(",")) {
                        if (!item.isBlank()) {
                            list.add(item.trim());
                        }
                    }
                    b.add(a.substring(2), list);
                }
            } else if (a.startsWith("--") || file != null) {
                throw new IllegalArgumentException("expected: flexwall " + USAGE);
            } else {
                file = Path.of(a).toAbsolutePath().normalize().toString();
            }
        }
        if (file == null) {
            throw new IllegalArgumentException("expected: flexwall " + USAGE);
        }
        return b.add("path", file).build();
    }

    private static int number(String value) {
        try {
            int n = Integer.parseInt(value);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException("--flows takes a number of flows (1 or more), not " + value);
    }

    // --- the answer as text ----------------------------------------------------------------------------------------

    /** The report as a table: totals, then one line per flow listed. */
    public static String text(JsonObject a) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "Replayed %s (%s): %d packets, %d bytes in %.2f s (%d packets/s)%n",
                a.getString("capture"), a.getString("linkType"), a.getJsonNumber("packets").longValue(),
                a.getJsonNumber("bytes").longValue(), a.getJsonNumber("engineSeconds").doubleValue(),
                a.getJsonNumber("packetsPerSecond").longValue()));
        out.append("  permitted ports (").append(a.getString("portsFrom")).append("): ")
                .append(list(a.getJsonArray("ports"))).append('\n');
        out.append("  the appliance's addresses (").append(a.getString("localFrom")).append("): ")
                .append(list(a.getJsonArray("local"))).append('\n');
        out.append(String.format(Locale.ROOT, "  would pass %d packets and drop %d; not decided: %d without IP, "
                + "%d neither to nor from the appliance, %d between its own addresses%n", n(a, "passed"),
                n(a, "dropped"), n(a, "notIp"), n(a, "transit"), n(a, "betweenLocal")));
        JsonArray flows = a.getJsonArray("flowList");
        long withDrops = flows.getValuesAs(JsonObject.class).stream().filter(f -> n(f, "dropped") > 0).count();
        out.append(String.format(Locale.ROOT, "  %d flows; of those listed, %d have drops (listed first)%n%n",
                n(a, "flows"), withDrops));
        Render.Table table = new Render.Table("VERDICT", "DIR", "PROTO", "SOURCE", "DESTINATION", "PACKETS", "BYTES",
                "REASON");
        for (JsonObject f : flows.getValuesAs(JsonObject.class)) {
            boolean mixed = n(f, "passed") > 0 && n(f, "dropped") > 0;
            String reason = f.getString("reason") + (mixed ? " (" + (f.getString("verdict").equals("pass")
                    ? n(f, "dropped") + " dropped: " + f.getString("dropReason")
                    : n(f, "passed") + " passed: " + f.getString("passReason")) + ")" : "");
            boolean icmp = f.getString("protocol").startsWith("icmp");
            table.row(f.getString("verdict"), f.getString("direction").equals("inbound") ? "in" : "out",
                    f.getString("protocol") + (icmp ? " " + f.getInt("sourcePort") : ""), // ICMP: its type
                    endpoint(f, "source", icmp ? -1 : f.getInt("sourcePort")),
                    endpoint(f, "destination", icmp ? -1 : f.getInt("destinationPort")),
                    Long.toString(n(f, "packets")), Long.toString(n(f, "bytes")), reason);
        }
        out.append(table);
        long more = n(a, "flowsNotShown");
        if (more > 0) {
            out.append("\n  and ").append(more).append(" more flows (--flows N lists more)");
        }
        if (n(a, "flowsUntracked") > 0) {
            out.append("\n  ").append(n(a, "flowsUntracked")).append(" packets of flows beyond the ")
                    .append("report's memory bound are in the totals only");
        }
        return out.toString();
    }

    private static long n(JsonObject o, String key) {
        JsonValue v = o.get(key);
        return v instanceof JsonNumber number ? number.longValue() : 0;
    }

    private static String list(JsonArray a) {
        return a.isEmpty() ? "none" : String.join(", ", a.getValuesAs(JsonString.class).stream()
                .map(JsonString::getString).toList());
    }

    private static String endpoint(JsonObject f, String side, int port) {
        String address = f.getString(side);
        String host = address.contains(":") ? "[" + address + "]" : address;
        return port < 0 ? address : host + ":" + port;
    }
}
