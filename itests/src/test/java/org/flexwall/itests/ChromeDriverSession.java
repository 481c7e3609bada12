package org.flexwall.itests;

import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;

/**
 * Headless Chromium driven through Debian's chromedriver with the W3C WebDriver protocol (plain HTTP and JSON), so a
 * test can click in a page as the operator does.
 */
final class ChromeDriverSession implements AutoCloseable {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Process driver;
    private final String base;
    private final String session;

    ChromeDriverSession(Path work) throws Exception {
        int port = ApplianceImage.freePort();
        driver = new ProcessBuilder("chromedriver", "--port=" + port).redirectErrorStream(true)
                .redirectOutput(work.resolve("chromedriver.log").toFile()).start();
        base = "http://127.0.0.1:" + port;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!ready()) {
            if (System.nanoTime() > deadline || !driver.isAlive()) {
                driver.destroyForcibly();
                throw new AssertionError("chromedriver did not start: " + Files.readString(work.resolve("chromedriver.log")));
            }
            Thread.sleep(100);
        }
        String profile = Files.createTempDirectory(work, "chromium").toString();
        JsonObject capabilities = Json.createObjectBuilder().add("capabilities", Json.createObjectBuilder()
                .add("alwaysMatch", Json.createObjectBuilder().add("goog:chromeOptions", Json.createObjectBuilder()
                        .add("binary", "/usr/bin/chromium")
                        .add("args", Json.createArrayBuilder().add("--headless").add("--no-sandbox").add("--disable-gpu")
                                .add("--disable-quic").add("--no-first-run").add("--disable-background-networking")
                                .add("--disable-component-update").add("--disable-sync")
                                .add("--user-data-dir=" + profile))))).build();
        try {
            session = call("POST", "/session", capabilities).asJsonObject().getString("sessionId");
        } catch (IOException | RuntimeException e) {
            driver.destroyForcibly();
            throw e;
        }
    }

    void open(String url) throws IOException, InterruptedException {
        call("POST", "/session/" + session + "/url", Json.createObjectBuilder().add("url", url).build());
    }

    /** Runs {@code script} in the page (a function body: it may return a value). */
    JsonValue run(String script) throws IOException, InterruptedException {
        return call("POST", "/session/" + session + "/execute/sync", Json.createObjectBuilder().add("script", script)
                .add("args", Json.createArrayBuilder()).build());
    }

    private boolean ready() {
        try {
            return call("GET", "/status", null).asJsonObject().getBoolean("ready", false);
        } catch (IOException | InterruptedException | RuntimeException e) {
            return false;
        }
    }

    private JsonValue call(String method, String path, JsonObject body) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body.toString()));
        HttpResponse<String> r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        JsonObject answer = Json.createReader(new StringReader(r.body())).readObject();
        if (r.statusCode() != 200) {
            throw new IOException("WebDriver " + method + " " + path + ": HTTP " + r.statusCode() + " " + r.body());
        }
        return answer.get("value");
    }

    @Override
    public void close() throws Exception {
        try {
            call("DELETE", "/session/" + session, null);
        } finally {
            driver.destroy();
            if (!driver.waitFor(10, TimeUnit.SECONDS)) {
                driver.destroyForcibly().waitFor();
            }
        }
    }
}
