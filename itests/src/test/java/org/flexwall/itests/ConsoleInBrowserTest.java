package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
