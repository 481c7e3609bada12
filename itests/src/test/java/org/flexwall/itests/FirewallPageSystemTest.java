package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.Map;

import jakarta.json.Json;

import org.flexwall.testing.Await;
import org.flexwall.testing.Commands;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.NoAlertPresentException;

/**
 * The Firewall page of the Web Console in headless Chromium (Selenium, Debian's chromedriver) against the appliance
 * image, with a client in the outside namespace (socat): the operator sees an untrusted listener waiting with its
 * dropped attempts rising, trusts it with one click so the client gets in, removes it so the client is refused again;
 * names are shown as text; forged requests to the page's actions are refused and change nothing.
 */
class FirewallPageSystemTest {
    private static final int WAITING = 7200;
    private static final String XSS = "<script>alert(1)</script>";

    @TempDir
    Path work;

    @Test
    void operatorTrustsAWaitingListenerWithOneClickAndRemovesIt() throws Exception {
        try (ApplianceLab lab = ApplianceLab.start(work, Json.createObjectBuilder().build());
                Browser browser = new Browser(work)) {
            // an untrusted program (socat's bytes and one more) listening in the appliance's namespace
            Path waiter = Programs.otherBytes(Path.of("/usr/bin/socat"), work.resolve("bin/waiter"));
            waiter.toFile().setExecutable(true);
            Process listener = lab.outside.startHere(waiter.toString(),
                    "TCP6-LISTEN:" + WAITING + ",ipv6only=0,reuseaddr,fork", "EXEC:/bin/cat");
            String pid = Long.toString(listener.pid());
            // a client across the wire that keeps trying
            lab.outside.startOutside("bash", "-c", "while true; do socat -u - TCP4:" + ApplianceLab.APPLIANCE + ":"
                    + WAITING + ",connect-timeout=1 </dev/null; sleep 0.2; done");
            assertFalse(connects(lab), "the untrusted listener is reached from outside");

            openFirewallPage(lab, browser);
            String waitingRow = "#fw-waiting tr[data-pid='" + pid + "']";
            browser.await(60, "the listener appears under listeners waiting for trust with dropped attempts",
                    "var r = document.querySelector(arguments[0]); return r !== null && +r.cells[5].textContent > 0;",
                    waitingRow);
            long before = dropped(browser, waitingRow);
            assertTrue(browser.text().contains(waiter.toString()), browser.text());
            browser.await(30, "its dropped attempts rise while the client keeps trying",
                    "var r = document.querySelector(arguments[0]); return r !== null && +r.cells[5].textContent > "
                            + before + ";", waitingRow);

            browser.driver.findElement(By.cssSelector(waitingRow + " button.fw-trust")).click();
            browser.await(30, "the port appears permitted",
                    "return document.querySelector(\"#fw-permitted tr[data-port='tcp/" + WAITING + "']\") !== null;");
            browser.await(30, "the listener leaves the waiting list",
                    "return document.querySelector(arguments[0]) === null;", waitingRow);
            assertTrue(browser.text().contains("trusted 'waiter'"), browser.text());
            Await.until("the client getting in once the listener is trusted", Duration.ofSeconds(20),
                    () -> connects(lab));
            browser.await(30, "the client's packets are counted at the permitted port (the page's Table 2)",
                    "var r = document.querySelector(\"#fw-permitted tr[data-port='tcp/" + WAITING + "'][data-family="
                            + "'IPv4']\"); return r !== null && +r.cells[6].textContent > 0 && +r.cells[7].textContent"
                            + " > +r.cells[6].textContent;");
            screenshots(browser, "firewall");

            String remove = "#fw-programs tr[data-path='" + waiter + "'] button.fw-remove";
            browser.driver.findElement(By.cssSelector(remove)).click(); // asks
            browser.await(10, "the page asks once more", "return document.querySelector(arguments[0]).textContent"
                    + ".indexOf('sure') >= 0;", remove);
            browser.driver.findElement(By.cssSelector(remove)).click(); // confirms
            browser.await(30, "the program leaves the trusted programs",
                    "return document.querySelector(\"#fw-programs tr[data-path='" + waiter + "']\") === null;");
            browser.await(30, "the port closes",
                    "return document.querySelector(\"#fw-permitted tr[data-port='tcp/" + WAITING + "']\") === null;");
            assertFalse(connects(lab), "the client is refused once the program is removed");
            browser.await(30, "the listener waits for trust again",
                    "return document.querySelector(arguments[0]) !== null;", waitingRow);
        }
    }

    @Test
    void aProgramNamedLikeAScriptIsShownAsTextAndForgedActionsAreRefused() throws Exception {
        try (ApplianceLab lab = ApplianceLab.start(work, Json.createObjectBuilder().build());
                Browser browser = new Browser(work)) {
            Path program = Programs.otherBytes(Path.of("/usr/bin/socat"), work.resolve("bin/named"));
            openFirewallPage(lab, browser);

            browser.driver.findElement(By.cssSelector("#fw-add input[name=path]")).sendKeys(program.toString());
            browser.driver.findElement(By.cssSelector("#fw-add input[name=name]")).sendKeys(XSS);
            browser.driver.findElement(By.cssSelector("#fw-add button")).click();
            String row = "#fw-programs tr[data-path='" + program + "']";
            browser.await(30, "the program added by path appears", "return document.querySelector(arguments[0]) !== null;",
                    row);
            assertEquals(XSS, browser.run("return document.querySelector(arguments[0]).cells[0].textContent;", row));
            assertEquals(0L, browser.run("return document.querySelectorAll('#fw script').length;"));
            assertThrows(NoAlertPresentException.class, () -> browser.driver.switchTo().alert());
            screenshots(browser, "firewall-named");
            String sha256 = lab.flexwall("programs").getJsonArray("programs").stream().map(p -> p.asJsonObject())
                    .filter(p -> p.getString("path").equals(program.toString())).findFirst().orElseThrow()
                    .getString("sha256");

            // each of the page's actions, forged: from another site, with no origin, and from the console's own
            // origin but without the page's token; all with the operator's password, as a browser holding it sends
            Path other = Programs.otherBytes(Path.of("/usr/bin/socat"), work.resolve("bin/other"));
            String origin = "http://127.0.0.1:" + lab.appliance().port;
            List<String> answered = new ArrayList<>();
            Map<String, String> actions = Map.of(
                    "add", "path=" + other + "&name=forged",
                    "remove", "path=" + program,
                    "trust-listener", "pid=1&startTime=1&sha256=" + sha256);
            for (Map.Entry<String, String> a : actions.entrySet()) {
                for (String[] forged : List.of(new String[] { "Origin", "http://evil.example:" + lab.appliance().port },
                        new String[] { "Referer", "http://127.0.0.2:" + lab.appliance().port + "/x" },
                        new String[] { null, null }, new String[] { "Origin", origin })) {
                    int status = post(lab, a.getKey(), a.getValue(), forged[0], forged[1]);
                    if (status != 403) {
                        answered.add(a.getKey() + " with " + forged[0] + " " + forged[1] + " -> " + status);
                    }
                }
            }
            assertEquals(List.of(), answered, "forged requests that were not refused");
            List<String> paths = lab.flexwall("programs").getJsonArray("programs").stream()
                    .map(p -> p.asJsonObject().getString("path")).toList();
            assertTrue(paths.contains(program.toString()), "the forged remove changed nothing: " + paths);
            assertFalse(paths.contains(other.toString()), "the forged add changed nothing: " + paths);

            // the login the browser shows names flexwall
            HttpResponse<Void> challenge = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(origin
                    + "/system/console/firewall")).build(), HttpResponse.BodyHandlers.discarding());
            assertEquals(401, challenge.statusCode());
            assertTrue(challenge.headers().firstValue("WWW-Authenticate").orElse("").contains("realm=\"flexwall console\""),
                    challenge.headers().toString());

            // the page's own remove works with the protections on
            browser.driver.findElement(By.cssSelector(row + " button.fw-remove")).click();
            browser.await(10, "the page asks once more", "return document.querySelector(arguments[0]).textContent"
                    + ".indexOf('sure') >= 0;", row + " button.fw-remove");
            browser.driver.findElement(By.cssSelector(row + " button.fw-remove")).click();
            browser.await(30, "the program is removed from the page", "return document.querySelector(arguments[0]) === null;",
                    row);

            // both changes in the audit trail, with the console user and the hashes: on the page, filterable, and
            // in `flexwall audit --json`
            List<jakarta.json.JsonObject> trail = lab.flexwall("audit").getJsonArray("entries").stream()
                    .map(e -> e.asJsonObject()).filter(e -> "trust".equals(e.getString("type"))
                            && program.toString().equals(e.getString("path", null))).toList();
            assertEquals(List.of("untrust admin " + sha256, "trust admin " + sha256), trail.stream()
                    .map(e -> e.getString("action") + " " + e.getString("actor") + " "
                            + (e.isNull("newSha256") ? e.getString("oldSha256") : e.getString("newSha256"))).toList(),
                    "newest first: " + trail);
            browser.await(30, "the page's audit trail shows both changes by admin",
                    "var rows = Array.from(document.querySelectorAll('#fw-audit tbody tr')).map(r => r.textContent);"
                            + "return rows.some(t => t.indexOf('admin') >= 0 && t.indexOf('no longer trusts') >= 0)"
                            + " && rows.some(t => t.indexOf('admin') >= 0 && t.indexOf('trusted') >= 0);");
            browser.driver.findElement(By.id("fw-audit-filter")).sendKeys("no longer trusts");
            browser.await(30, "the filter leaves only the removal",
                    "var rows = Array.from(document.querySelectorAll('#fw-audit tbody tr')).map(r => r.textContent);"
                            + "return rows.length > 0 && rows.every(t => t.indexOf('no longer trusts') >= 0);");
            screenshots(browser, "firewall-audit");
        }
    }

    private static void openFirewallPage(ApplianceLab lab, Browser browser) throws Exception {
        String password = Files.readString(lab.data.resolve("console-initial-password")).strip();
        String host = "127.0.0.1:" + lab.appliance().port;
        browser.open("http://admin:" + password + "@" + host + "/system/console/bundles"); // the browser logs in
        browser.open("http://" + host + "/system/console/firewall");
        browser.await(60, "the Firewall page shows its first update",
                "var s = document.getElementById('fw-status'); return s !== null && s.textContent.indexOf('updated') >= 0;");
        assertEquals("flexwall - Firewall", browser.driver.getTitle());
    }

    private static long dropped(Browser browser, String row) {
        return Long.parseLong(String.valueOf(browser.run("return document.querySelector(arguments[0]).cells[5].textContent;",
                row)));
    }

    private void screenshots(Browser browser, String name) throws Exception {
        browser.screenshot(1280, 900, Path.of("target", "screenshots", name + "-1280x900.png").toAbsolutePath());
        browser.screenshot(390, 844, Path.of("target", "screenshots", name + "-390x844.png").toAbsolutePath());
        browser.viewport(1280, 900);
    }

    /** One exchange with the listener from outside: whether a line came back. */
    private static boolean connects(ApplianceLab lab) throws Exception {
        Commands.Result r = lab.outside.outside("bash", "-c", "echo ping | socat -T 3 - TCP4:"
                + ApplianceLab.APPLIANCE + ":" + WAITING + ",connect-timeout=2");
        return r.ok() && r.output().contains("ping");
    }


    /** A POST to one of the page's actions with the operator's password, {@code header} set as given. */
    private static int post(ApplianceLab lab, String action, String form, String header, String value) throws Exception {
        String password = Files.readString(lab.data.resolve("console-initial-password")).strip();
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lab.appliance().port
                + "/system/console/firewall/" + action)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(("admin:" + password)
                        .getBytes(StandardCharsets.UTF_8)))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form));
        if (header != null) {
            r.header(header, value);
        }
        return HttpClient.newHttpClient().send(r.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
