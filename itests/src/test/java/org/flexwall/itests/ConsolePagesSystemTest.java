package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every page of the Web Console, walked over real HTTP as the operator admin: none may fail with a server error. */
class ConsolePagesSystemTest {
    private static final Pattern CONSOLE_LINK = Pattern.compile("href=\"/system/console/([^\"#?]+)\"");
    /** Jetty's error page: the exception's message. */
    private static final Pattern ERROR_MESSAGE = Pattern.compile("MESSAGE:</th><td>(.*?)</td>", Pattern.DOTALL);
    private static final Pattern TITLE = Pattern.compile("<title>(.*?)</title>", Pattern.DOTALL);
    private static final Pattern CONFIG_DATA = Pattern.compile("configData = (\\{.*?\\});");

    @TempDir
    Path work;

    @Test
    void everyConsolePageRendersWithoutAServerError() throws Exception {
        try (ApplianceProcess appliance = ApplianceProcess.startFresh(work)) {
            appliance.awaitConsole(60);
            OperatorCliSystemTest.awaitLine(appliance, "flexwall ready");
            String password = Files.readString(work.resolve("data/console-initial-password")).strip();
            Pages pages = new Pages(appliance.port, password);

            Set<String> menu = new TreeSet<>();
            Matcher links = CONSOLE_LINK.matcher(pages.body("/bundles"));
            while (links.find()) {
                String label = links.group(1);
                if (!label.startsWith("res/") && !label.equals("logout")) {
                    menu.add(label);
                }
            }
            assertTrue(menu.containsAll(List.of("bundles", "components", "configMgr", "services", "status-scr",
                    "firewall")), menu.toString());
            List<String> unbranded = new ArrayList<>();
            for (String label : menu) {
                String page = pages.get("/" + label);
                Matcher title = TITLE.matcher(page);
                if (page.contains("<html") && !(title.find() && title.group(1).startsWith("flexwall - "))) {
                    unbranded.add(label); // the console says flexwall on every page, not Apache Felix
                }
            }
            assertEquals(List.of(), unbranded, "pages whose title is not flexwall's");
            pages.get("/firewall/state.json");
            pages.get("/firewall/res/firewall.js");
            pages.get("/firewall/res/flexwall-console.css");
            for (JsonObject b : pages.data("/bundles.json")) {
                pages.get("/bundles/" + id(b));
                pages.get("/bundles/" + id(b) + ".json");
            }
            List<JsonObject> components = pages.data("/components.json");
            assertTrue(components.stream().anyMatch(c -> c.getString("name").equals("org.flexwall.hook.nftables")),
                    "the DS plugin lists flexwall's components");
            for (JsonObject c : components) {
                pages.get("/components/" + id(c));
                pages.get("/components/" + c.getString("name"));
            }
            for (JsonObject s : pages.data("/services.json")) {
                pages.get("/services/" + id(s));
            }
            Matcher config = CONFIG_DATA.matcher(pages.body("/configMgr"));
            assertTrue(config.find(), "the configuration page lists its PIDs");
            JsonObject configData = Json.createReader(new StringReader(config.group(1))).readObject();
            int flexwallPids = 0;
            for (JsonValue p : configData.getJsonArray("pids")) {
                String pid = p.asJsonObject().getString("id");
                pages.get("/configMgr/" + pid);
                if (pid.startsWith("org.flexwall.")) {
                    pages.configurationForm(pid); // what the page asks for to fill in the form
                    flexwallPids++;
                }
            }
            assertTrue(flexwallPids >= 5, "flexwall's configurable components are all there: " + configData);

            assertEquals(List.of(), pages.serverErrors, "pages answering with a server error (of " + pages.visited
                    + " visited)");
        }
    }

    /** The "id" of a console JSON entry, which some plugins give as a number and others as a string. */
    private static String id(JsonObject entry) {
        JsonValue id = entry.get("id");
        return id instanceof JsonString s ? s.getString() : id.toString();
    }

    /** The console over HTTP, remembering every page that answered 5xx. */
    private static final class Pages {
        private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        private final String origin;
        private final String authorization;
        final List<String> serverErrors = new ArrayList<>();
        int visited;

        Pages(int port, String password) {
            this.origin = "http://127.0.0.1:" + port;
            this.authorization = "Basic " + Base64.getEncoder()
                    .encodeToString(("admin:" + password).getBytes(StandardCharsets.UTF_8));
        }

        String body(String path) throws IOException, InterruptedException {
            HttpResponse<String> r = send(request(path).GET());
            assertEquals(200, r.statusCode(), path + ": " + r.body());
            return r.body();
        }

        List<JsonObject> data(String path) throws IOException, InterruptedException {
            return Json.createReader(new StringReader(body(path))).readObject().getJsonArray("data")
                    .getValuesAs(JsonObject.class);
        }

        String get(String path) throws IOException, InterruptedException {
            return send(request(path).GET()).body();
        }

        /** The configuration page's own request for a PID's form (a POST from the console's own origin). */
        void configurationForm(String pid) throws IOException, InterruptedException {
            send(request("/configMgr/" + pid + "?post=true").header("Origin", origin)
                    .header("Referer", origin + "/system/console/configMgr/" + pid)
                    .POST(HttpRequest.BodyPublishers.noBody()));
        }

        private HttpRequest.Builder request(String path) {
            // the menu links carry printer names with spaces, such as "status-Framework Properties"
            return HttpRequest.newBuilder(URI.create(origin + "/system/console" + path.replace(" ", "%20")))
                    .header("Authorization", authorization).timeout(Duration.ofSeconds(30));
        }

        private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
            HttpRequest r = request.build();
            HttpResponse<String> response = http.send(r, HttpResponse.BodyHandlers.ofString());
            visited++;
            if (response.statusCode() >= 500) {
                Matcher message = ERROR_MESSAGE.matcher(response.body());
                serverErrors.add(r.method() + " " + r.uri().getRawPath() + " -> " + response.statusCode()
                        + (message.find() ? " " + message.group(1) : ""));
            }
            return response;
        }
    }
}
