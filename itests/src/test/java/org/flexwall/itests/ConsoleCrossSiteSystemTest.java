package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringReader;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;

import org.flexwall.testing.Await;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jakarta.json.Json;
import jakarta.json.JsonObject;

/**
 * Cross-site request forgery and DNS rebinding against the Web Console of the appliance started from its image, with
 * the operator's credentials on every request (as a browser that holds them sends them): real HTTP with the Origin,
 * Referer and Host an attacker's page makes a browser send.
 */
class ConsoleCrossSiteSystemTest {
    private static final String EVIL = "http://evil.example";
    private static final String VICTIM = "org.owasp.encoder"; // a library bundle the console lives without for a moment
    private static final String FORGED = "org.flexwall.itests.forged";

    @TempDir
    static Path work;
    private static ApplianceProcess appliance;
    private static RawHttp http;
    private static String password;
    private static String own;

    @BeforeAll
    static void startAppliance() throws Exception {
        appliance = ApplianceProcess.startFresh(work);
        appliance.awaitConsole(60);
        password = Files.readString(work.resolve("data/console-initial-password")).strip();
        http = new RawHttp("127.0.0.1", appliance.port);
        own = "http://127.0.0.1:" + appliance.port;
        // the login comes up before the console's Bundles page does
        Await.until("the console's Bundles page", Duration.ofSeconds(60),
                () -> http.send("GET", "/system/console/bundles.json", Map.of("Authorization", RawHttp.basic("admin",
                        password)), null).status() == 200, appliance::output);
    }

    @AfterAll
    static void stopAppliance() throws Exception {
        appliance.close();
    }

    @Test
    void crossSiteStopOfABundleIsRefusedAndTheBundleStaysActive() throws Exception {
        RawHttp.Response r = post("/system/console/bundles/" + id(VICTIM), Map.of("action", "stop"), "Origin", EVIL);

        assertEquals(403, r.status(), r.body());
        assertEquals("Active", state(VICTIM));
    }

    @Test
    void foreignRefererWithoutOriginIsRefused() throws Exception {
        RawHttp.Response r = post("/system/console/bundles/" + id(VICTIM), Map.of("action", "stop"),
                "Referer", EVIL + "/page.html");

        assertEquals(403, r.status(), r.body());
        assertEquals("Active", state(VICTIM));
    }

    @Test
    void stateChangeThatDoesNotSayWhereItComesFromIsRefused() throws Exception {
        RawHttp.Response r = post("/system/console/bundles/" + id(VICTIM), Map.of("action", "stop"));

        assertEquals(403, r.status(), r.body());
        assertEquals("Active", state(VICTIM));
    }

    @Test
    void crossSiteChangeOfThePasswordHashIsRefusedAndThePasswordStays() throws Exception {
        // a well-formed hash of the attacker's choosing
        String attackersHash = "pbkdf2-sha256$210000$AAAAAAAAAAAAAAAAAAAAAA==$"
                + "PVvC2NsnBmhJl8yQUKeDrM7H1EG2mV0tO5pS7m8b6jM=";
        RawHttp.Response r = post("/system/console/configMgr/org.flexwall.administration.console",
                configuration(Map.of("password.hash", attackersHash)), "Origin", EVIL);

        assertEquals(403, r.status(), r.body());
        assertFalse(configuration().contains("attacker") || configuration().contains("PVvC2Nsn"), configuration());
        assertEquals(200, get("/system/console/bundles", "Host", "127.0.0.1:" + appliance.port).status());
    }

    @Test
    void crossSiteBundleInstallIsRefusedAndNothingIsInstalled() throws Exception {
        RawHttp.Response forged = install("Origin", EVIL);

        assertEquals(403, forged.status(), forged.body());
        assertTrue(bundle(FORGED).isEmpty(), "the forged bundle is not installed");
    }

    @Test
    void foreignHostIsRefusedEvenWithTheRightPassword() throws Exception {
        int port = appliance.port;
        assertAll(
                () -> assertEquals(403, get("/system/console/bundles", "Host", "evil.example:" + port).status()),
                () -> assertEquals(403, get("/system/console/bundles.json", "Host", "evil.example").status()),
                () -> assertEquals(403, get("/system/console/bundles", "Host", "127.0.0.1:" + (port + 1)).status()),
                () -> assertTrue(get("/system/console/bundles", "Host", null).status() >= 400, "no Host is refused"),
                () -> assertEquals(200, get("/system/console/bundles", "Host", "localhost:" + port).status()),
                () -> assertEquals(200, get("/system/console/bundles", "Host", "127.0.0.1:" + port).status()));
    }

    @Test
    void everyAnswerForbidsFramingAndSniffing() throws Exception {
        RawHttp.Response ok = get("/system/console/bundles");
        RawHttp.Response login = http.send("GET", "/system/console/bundles", Map.of(), null);
        RawHttp.Response refused = get("/system/console/bundles", "Host", "evil.example");
        RawHttp.Response resource = get("/system/console/res/lib/jquery-3.7.1.js");
        assertEquals(List.of(200, 401, 403), List.of(ok.status(), login.status(), refused.status()));
        for (RawHttp.Response r : List.of(ok, login, refused, resource)) {
            assertAll(
                    () -> assertEquals("DENY", r.header("X-Frame-Options"), r.headers().toString()),
                    () -> assertEquals("frame-ancestors 'none'", r.header("Content-Security-Policy")),
                    () -> assertEquals("nosniff", r.header("X-Content-Type-Options")));
        }
    }

    @Test
    void theSameRequestsFromTheConsolesOwnOriginSucceed() throws Exception {
        String bundle = "/system/console/bundles/" + id(VICTIM);
        assertEquals(200, post(bundle, Map.of("action", "stop"), "Origin", own).status());
        assertEquals("Resolved", state(VICTIM));
        assertEquals(200, post(bundle, Map.of("action", "start"), "Referer", own + "/system/console/bundles").status());
        assertEquals("Active", state(VICTIM));

        RawHttp.Response installed = install("Origin", own);
        assertTrue(installed.status() < 400, installed.status() + " " + installed.body());
        awaitBundle(FORGED, true);
        assertEquals(200, post("/system/console/bundles/" + id(FORGED), Map.of("action", "uninstall"),
                "Origin", own).status());
        awaitBundle(FORGED, false);

        // the operator names another host for the console, from the console itself: it answers under that name
        RawHttp.Response saved = post("/system/console/configMgr/org.flexwall.administration.console",
                configuration(Map.of("username", "admin", "allowed.hosts", "console.example")), "Origin", own);
        assertTrue(saved.status() < 400, saved.status() + " " + saved.body());
        Await.until("the console answering under the name the operator added", Duration.ofSeconds(30),
                () -> get("/system/console/bundles", "Host", "console.example:" + appliance.port).status() == 200);
    }

    private RawHttp.Response get(String path, String... header) throws IOException {
        return http.send("GET", path, headers(header), null);
    }

    private RawHttp.Response post(String path, Map<String, String> form, String... header) throws IOException {
        Map<String, String> headers = headers(header);
        headers.put("Content-Type", "application/x-www-form-urlencoded");
        String body = form.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return http.send("POST", path, headers, body.getBytes(StandardCharsets.UTF_8));
    }

    /** The Bundles page's "Install/Update" form: a bundle jar made here, to be started once installed. */
    private RawHttp.Response install(String... header) throws IOException {
        String boundary = "----flexwall" + System.nanoTime();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (String[] field : new String[][] { { "action", "install" }, { "bundlestart", "start" },
                { "bundlestartlevel", "20" } }) {
            body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field[0] + "\"\r\n\r\n"
                    + field[1] + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"bundlefile\"; "
                + "filename=\"forged.jar\"\r\nContent-Type: application/java-archive\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8));
        body.writeBytes(forgedBundle());
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        Map<String, String> headers = headers(header);
        headers.put("Content-Type", "multipart/form-data; boundary=" + boundary);
        return http.send("POST", "/system/console/bundles", headers, body.toByteArray());
    }

    private static byte[] forgedBundle() throws IOException {
        Manifest m = new Manifest();
        Attributes a = m.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Bundle-ManifestVersion", "2");
        a.putValue("Bundle-SymbolicName", FORGED);
        a.putValue("Bundle-Version", "1.0.0");
        ByteArrayOutputStream jar = new ByteArrayOutputStream();
        new JarOutputStream(jar, m).close();
        return jar.toByteArray();
    }

    /** The form the Configuration page posts to save {@code properties}. */
    private static Map<String, String> configuration(Map<String, String> properties) {
        Map<String, String> form = new HashMap<>(properties);
        form.put("apply", "true");
        form.put("action", "ajaxConfigManager");
        form.put("propertylist", String.join(",", properties.keySet()));
        return form;
    }

    /** The console's own configuration as the Configuration page shows it. */
    private String configuration() throws IOException {
        return get("/system/console/configMgr/org.flexwall.administration.console.json").body();
    }

    private Map<String, String> headers(String... nameValue) {
        Map<String, String> headers = new HashMap<>();
        headers.put("Authorization", RawHttp.basic("admin", password));
        for (int i = 0; i < nameValue.length; i += 2) {
            headers.put(nameValue[i], nameValue[i + 1]);
        }
        return headers;
    }

    private Optional<JsonObject> bundle(String symbolicName) throws IOException {
        RawHttp.Response r = get("/system/console/bundles.json");
        assertEquals(200, r.status(), r.body());
        return Json.createReader(new StringReader(r.body())).readObject().getJsonArray("data").stream()
                .map(v -> v.asJsonObject()).filter(b -> symbolicName.equals(b.getString("symbolicName"))).findFirst();
    }

    private int id(String symbolicName) throws IOException {
        return bundle(symbolicName).orElseThrow(() -> new AssertionError("no bundle " + symbolicName)).getInt("id");
    }

    private String state(String symbolicName) throws IOException {
        return bundle(symbolicName).orElseThrow(() -> new AssertionError("no bundle " + symbolicName)).getString("state");
    }

    private void awaitBundle(String symbolicName, boolean present) throws Exception {
        Await.until(symbolicName + (present ? " installed" : " uninstalled"), Duration.ofSeconds(30),
                () -> bundle(symbolicName).isPresent() == present);
    }
}
