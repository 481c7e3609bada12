package org.flexwall.administration.control;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

import org.flexwall.api.packet.Verdict;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.replay.CaptureReplay;
import org.flexwall.api.replay.ReplayException;
import org.flexwall.api.replay.ReplayFlow;
import org.flexwall.api.replay.ReplayOptions;
import org.flexwall.api.replay.ReplayReport;

import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonString;

/** The {@code replay} operation on the appliance: a {@link ReplayCommand} request in, the report as JSON out. */
final class ReplayOperation {
    private ReplayOperation() {}

    /** Carries out a replay request; an operator's mistake or a bad file comes back as {@code {"ok":false,…}}. */
    static JsonObject execute(CaptureReplay replay, JsonObject request) {
        if (replay == null) {
            return error("capture replay is not running (the hook-pcap bundle provides it); `flexwall status` shows "
                    + "what it waits for");
        }
        String path = request.getString("path", null);
        if (path == null) {
            return error("the request names no capture file (\"path\")");
        }
        ReplayReport r;
        try {
            ReplayOptions options = new ReplayOptions(ports(request.getJsonArray("ports")),
                    addresses(request.getJsonArray("local")), request.getInt("flows", ReplayOptions.FLOW_LIMIT));
            r = replay.replay(Path.of(path), options);
        } catch (ReplayException e) {
            return error(e.getMessage());
        } catch (IllegalArgumentException | ClassCastException e) {
            return error(e.getMessage());
        }
        return json(r);
    }

    /** "tcp/5400", "udp6/53" (6: IPv6; without it IPv4 and IPv6 both). */
    static Optional<Set<PortKey>> ports(JsonArray list) {
        if (list == null) {
            return Optional.empty();
        }
        Set<PortKey> ports = new LinkedHashSet<>();
        for (JsonString s : list.getValuesAs(JsonString.class)) {
            String[] parts = s.getString().toLowerCase(Locale.ROOT).split("/");
            String proto = parts[0].replace("6", "");
            if (parts.length != 2 || !(proto.equals("tcp") || proto.equals("udp"))) {
                throw new IllegalArgumentException("a permitted port reads tcp/PORT, udp/PORT, tcp6/PORT or udp6/PORT, "
                        + "not " + s.getString());
            }
            int port;
            try {
                port = Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a port number: " + s.getString());
            }
            Protocol protocol = proto.equals("tcp") ? Protocol.TCP : Protocol.UDP;
            if (!parts[0].endsWith("6")) {
                ports.add(new PortKey(protocol, AddressFamily.IPV4, port));
            }
            ports.add(new PortKey(protocol, AddressFamily.IPV6, port));
        }
        return Optional.of(ports);
    }

    /** Literal addresses only: a name would be looked up, and the lookup could lie. */
    static List<InetAddress> addresses(JsonArray list) {
        List<InetAddress> addresses = new ArrayList<>();
        if (list != null) {
            for (JsonString s : list.getValuesAs(JsonString.class)) {
                String a = s.getString();
                if (!a.matches("[0-9a-fA-F:.]+")) {
                    throw new IllegalArgumentException("--local takes IP addresses, not " + a);
                }
                try {
                    addresses.add(InetAddress.getByName(a));
                } catch (UnknownHostException e) {
                    throw new IllegalArgumentException("not an IP address: " + a);
                }
            }
        }
        return addresses;
    }

    static JsonObject json(ReplayReport r) {
        JsonArrayBuilder flows = JsonSupport.json().createArrayBuilder();
        for (ReplayFlow f : r.flowsShown()) {
            JsonObjectBuilder b = JsonSupport.json().createObjectBuilder().add("protocol", f.protocol())
                    .add("source", f.source()).add("sourcePort", f.sourcePort()).add("destination", f.destination())
                    .add("destinationPort", f.destinationPort())
                    .add("direction", f.direction().name().toLowerCase(Locale.ROOT)).add("packets", f.packets())
                    .add("bytes", f.bytes()).add("passed", f.passed()).add("dropped", f.dropped())
                    .add("verdict", f.verdict() == Verdict.ACCEPT ? "pass" : "drop")
                    .add("reason", f.reason());
            optional(b, "passReason", f.passReason());
            optional(b, "dropReason", f.dropReason());
            flows.add(b);
        }
        double seconds = r.engineNanos() / 1e9;
        return JsonSupport.json().createObjectBuilder().add("ok", true).add("op", "replay")
                .add("capture", r.capture()).add("linkType", r.linkType())
                .add("ports", JsonSupport.json().createArrayBuilder(r.ports())).add("portsFrom", r.portsFrom())
                .add("local", JsonSupport.json().createArrayBuilder(r.local())).add("localFrom", r.localFrom())
                .add("packets", r.packets()).add("bytes", r.bytes()).add("passed", r.passed())
                .add("dropped", r.dropped()).add("notIp", r.notIp()).add("transit", r.transit())
                .add("betweenLocal", r.local2local()).add("flows", r.flows()).add("flowsNotShown", r.flowsNotShown())
                .add("flowsUntracked", r.flowsUntracked()).add("engineSeconds", seconds)
                .add("packetsPerSecond", seconds > 0 ? Math.round(r.packets() / seconds) : 0)
                .add("flowList", flows).build();
    }

    private static void optional(JsonObjectBuilder b, String key, String value) {
        if (value != null) {
            b.add(key, value);
        }
    }

    private static JsonObject error(String message) {
        return JsonSupport.json().createObjectBuilder().add("ok", false).add("op", "replay").add("error", message)
                .build();
    }
}
