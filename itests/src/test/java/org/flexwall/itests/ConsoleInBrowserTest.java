package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.sun.net.httpserver.HttpServer;

import org.flexwall.testing.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Web Console as an operator sees it: headless Chromium against the appliance started from its image. */
class ConsoleInBrowserTest {
    @TempDir
    Path work;

    @Test
    void operatorWithTheGeneratedPasswordSeesEveryBundleActiveInTheBrowser() throws Exception {
        Path data = work.resolve("data");
        try (ApplianceProcess appliance = ApplianceProcess.startFresh(work)) {
            appliance.awaitConsole(30);
            String password = Files.readString(data.resolve("console-initial-password")).strip();
            String page = "127.0.0.1:" + appliance.port + "/system/console/bundles";

            String withLogin = chromium("--dump-dom", "http://admin:" + password + "@" + page);
            String withoutLogin = chromium("--dump-dom", "http://" + page);
            String withAdminAdmin = chromium("--dump-dom", "http://admin:admin@" + page);
            chromium("--screenshot=" + Path.of("target", "console-bundles.png").toAbsolutePath(),
                    "--window-size=1280,900", "http://admin:" + password + "@" + page);

            Matcher summary = Pattern.compile("(\\d+) bundles in total - all (\\d+) bundles active").matcher(withLogin);
            assertTrue(summary.find(), "the bundle list shows every bundle active:\n" + excerpt(withLogin));
            assertTrue(summary.group(1).equals(summary.group(2)));
            assertTrue(withLogin.contains("org.flexwall.administration"), excerpt(withLogin));
            assertFalse(withoutLogin.contains("org.flexwall.administration"), excerpt(withoutLogin));
            assertFalse(withAdminAdmin.contains("org.flexwall.administration"), excerpt(withAdminAdmin));
        }
    }

    @Test
    void operatorStopsAndStartsABundleFromTheBundlesPageWhileAForgedFormFromAnotherSiteIsRefused() throws Exception {
        Path data = work.resolve("data");
        try (ApplianceProcess appliance = ApplianceProcess.startFresh(work);
                Browser browser = new Browser(work)) {
            appliance.awaitConsole(30);
            String password = Files.readString(data.resolve("console-initial-password")).strip();
            WebConsole console = new WebConsole(appliance.port, password);
            awaitState(console, "Active"); // the login comes up before the console's Bundles page does
            int id = console.bundle("org.owasp.encoder").getInt("id");
            String button = "document.querySelector('#entry" + id + " li[title=%s]').click(); return true;";

            browser.open("http://admin:" + password + "@127.0.0.1:" + appliance.port + "/system/console/bundles");
            browser.run(String.format(button, "Stop"));
            awaitState(console, "Resolved");
            browser.run(String.format(button, "Start"));
            awaitState(console, "Active");

            // Another site's page, opened in the same browser, posts the console's stop form by itself.
            HttpServer evil = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0), 0);
            byte[] page = ("<html><body><form id=f method=POST action='http://127.0.0.1:" + appliance.port
                    + "/system/console/bundles/" + id + "'><input name=action value=stop></form>"
                    + "<script>document.getElementById('f').submit()</script></body></html>").getBytes(StandardCharsets.UTF_8);
            evil.createContext("/", exchange -> {
                exchange.getResponseHeaders().add("Content-Type", "text/html");
                exchange.sendResponseHeaders(200, page.length);
                exchange.getResponseBody().write(page);
                exchange.close();
            });
            evil.start();
            try {
                browser.open("http://127.0.0.2:" + evil.getAddress().getPort() + "/");
                String shown = Await.value("the forged form's answer", Duration.ofSeconds(30), () -> {
                    String now = String.valueOf(browser.run("return location.href + ' ' + document.body.innerText;"));
                    return now.contains("/system/console/bundles/" + id) ? now : null;
                });
                assertTrue(shown.contains("cross-site request refused"), "the forged form was answered: " + shown);
                assertTrue("Active".equals(console.bundle("org.owasp.encoder").getString("state")),
                        "the bundle is still active");
            } finally {
                evil.stop(0);
            }
        }
    }

    private static void awaitState(WebConsole console, String state) throws Exception {
        AtomicReference<String> seen = new AtomicReference<>("");
        Await.until("the bundle " + state, Duration.ofSeconds(30), () -> {
            try {
                seen.set(console.bundle("org.owasp.encoder").getString("state"));
            } catch (java.io.IOException e) {
                seen.set(e.getMessage()); // the Bundles page is not there yet
            }
            return state.equals(seen.get());
        }, () -> "it is " + seen.get());
    }

    /** Runs headless Chromium with the flags this closed network needs; returns what it printed. */
    private String chromium(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("chromium", "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + Files.createTempDirectory(work, "chromium"),
                "--virtual-time-budget=5000"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("chromium did not finish: " + command);
        }
        return new String(out, StandardCharsets.UTF_8);
    }

    private static String excerpt(String page) {
        return page.length() > 2000 ? page.substring(0, 2000) + "…" : page;
    }
}
