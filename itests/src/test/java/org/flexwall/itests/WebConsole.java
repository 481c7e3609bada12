package org.flexwall.itests;

import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;

/** The Apache Felix Web Console's HTTP interface, used the way its own pages use it, as the operator admin. */
final class WebConsole {
    private static final Pattern SERVICE_ID = Pattern.compile("^Service ID .*/services/(\\d+)");
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String origin;
    private final String base;
    private final String authorization;

    WebConsole(int port, String password) {
        this.origin = "http://127.0.0.1:" + port;
        this.base = origin + "/system/console";
        this.authorization = "Basic " + Base64.getEncoder()
                .encodeToString(("admin:" + password).getBytes(StandardCharsets.UTF_8));
    }

    /** The bundle with {@code symbolicName} as bundles.json describes it (id, state, …). */
    JsonObject bundle(String symbolicName) throws IOException, InterruptedException {
        JsonObject all = Json.createReader(new StringReader(get("/bundles.json"))).readObject();
        return all.getJsonArray("data").stream().map(v -> v.asJsonObject())
                .filter(b -> symbolicName.equals(b.getString("symbolicName")))
                .findFirst().orElseThrow(() -> new AssertionError("no bundle " + symbolicName + " in the console"));
    }

    /** Ids of the services the bundle registers now: its details list them as "Service ID <a href=…/services/N>". */
    Set<String> services(String symbolicName) throws IOException, InterruptedException {
        JsonObject details = Json.createReader(new StringReader(get("/bundles/" + bundle(symbolicName).getInt("id")
                + ".json"))).readObject().getJsonArray("data").getJsonObject(0);
        Set<String> ids = new TreeSet<>();
        for (JsonValue p : details.getJsonArray("props")) {
            Matcher m = SERVICE_ID.matcher(p.asJsonObject().getString("key"));
            if (m.find()) {
                ids.add(m.group(1));
            }
        }
        return ids;
    }

    /** The console's bundle actions: start, stop, update, refresh. */
    void bundleAction(String symbolicName, String action) throws IOException, InterruptedException {
        post("/bundles/" + bundle(symbolicName).getInt("id"), Map.of("action", action));
    }

    /** Saves configuration properties the way the Configuration page does. */
    void configure(String pid, Map<String, String> properties) throws IOException, InterruptedException {
        Map<String, String> form = new java.util.TreeMap<>(properties);
        form.put("apply", "true");
        form.put("action", "ajaxConfigManager");
        form.put("propertylist", String.join(",", properties.keySet()));
        post("/configMgr/" + pid, form);
    }

    String get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
    }

    String post(String path, Map<String, String> form) throws IOException, InterruptedException {
        String body = form.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return send(HttpRequest.newBuilder(URI.create(base + path))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Origin", origin) // what the console's own pages send with their forms
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private String send(HttpRequest.Builder request) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(request.header("Authorization", authorization)
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() >= 400) {
            throw new IOException(r.request().method() + " " + r.uri() + ": HTTP " + r.statusCode() + " " + r.body());
        }
        return r.body();
    }
}
