package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The appliance image run as an operator runs it: bin/flexwall run, with its output read as the operator reads it. */
class ApplianceLauncherTest {
    @TempDir
    Path work;

    @Test
    void freshInstallStartsWithAGeneratedPasswordThatWorksWhileAdminAdminDoesNot() throws Exception {
        Path data = work.resolve("data");
        try (ApplianceProcess appliance = ApplianceProcess.startFresh(work)) {
            appliance.awaitConsole(30);
            Path initial = data.resolve("console-initial-password");
            String password = Files.readString(initial).strip();
            String hash = Files.readString(data.resolve("console-password.hash"));

            assertAll(
                    () -> assertEquals(401, appliance.status("/system/console/bundles", "admin:admin")),
                    () -> assertEquals(200, appliance.status("/system/console/bundles", "admin:" + password)),
                    () -> assertFalse(hash.contains(password), "only the hash is stored"),
                    () -> assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(initial))),
                    () -> assertTrue(appliance.output().contains("Read it from " + initial), appliance.output()));
        }
    }

    @Test
    void consoleListensOnLoopbackOnlyByDefault() throws Exception {
        Path data = work.resolve("data");
        try (ApplianceProcess appliance = ApplianceProcess.startFresh(work)) {
            appliance.awaitConsole(30);
            String listeners = new String(new ProcessBuilder("ss", "-Hltn", "sport = :" + appliance.port).start()
                    .getInputStream().readAllBytes());
            // Java may bind an IPv4-mapped IPv6 socket: [::ffff:127.0.0.1]:PORT is loopback too
            assertTrue(listeners.matches("(?s).*(\\[::ffff:)?127\\.0\\.0\\.1\\]?:" + appliance.port + "\\s.*"), listeners);
            assertFalse(listeners.contains("0.0.0.0:" + appliance.port) || listeners.contains("*:" + appliance.port), listeners);
        }
    }

    @Test
    void malformedConfigurationFileStopsTheLaunchWithOneMessageNamingFileAndLine() throws Exception {
        Path config = ApplianceImage.runtimeConfig(work.resolve("config"), ApplianceImage.freePort(), null);
        Path file = config.resolve("flexwall.json");
        Files.writeString(file, Files.readString(file).replaceFirst("\\}\\s*$", ""));
        Path data = ApplianceImage.dataDirectory(work.resolve("data"));

        ApplianceProcess.Result result = ApplianceProcess.refused(work, List.of(),
                "--data", data.toString(), "--config", config.toString());

        assertRefusedWithOneLine(result, file.toString(), "line");
    }

    @Test
    void configurationThatIsNotAnObjectOfPidsIsRefused() throws Exception {
        Path config = Files.createDirectories(work.resolve("config"));
        Files.writeString(config.resolve("flexwall.json"), "{\"org.apache.felix.http\": 8080}");
        Path data = ApplianceImage.dataDirectory(work.resolve("data"));

        ApplianceProcess.Result result = ApplianceProcess.refused(work, List.of(),
                "--data", data.toString(), "--config", config.toString());

        assertRefusedWithOneLine(result, "org.apache.felix.http", "must be an object");
    }

    @Test
    void missingDataDirectoryStopsTheLaunchNamingTheSetting() throws Exception {
        Path config = ApplianceImage.runtimeConfig(work.resolve("config"), ApplianceImage.freePort(), null);
        Path missing = work.resolve("no-such-dir");

        ApplianceProcess.Result result = ApplianceProcess.refused(work, List.of(),
                "--data", missing.toString(), "--config", config.toString());

        assertRefusedWithOneLine(result, missing.toString(), "--data");
    }

    @Test
    void unwritableDataDirectoryStopsTheLaunchNamingTheSetting() throws Exception {
        Path config = ApplianceImage.runtimeConfig(work.resolve("config"), ApplianceImage.freePort(), null);
        Path readOnly = Files.createDirectory(work.resolve("read-only"));
        Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-xr-xr-x"));
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        // root may write anywhere: run as nobody to see what a lesser user sees
        List<String> asNobody = "root".equals(System.getProperty("user.name"))
                ? List.of("runuser", "-u", "nobody", "--") : List.of();

        ApplianceProcess.Result result = ApplianceProcess.refused(work, asNobody,
                "--data", readOnly.toString(), "--config", config.toString());

        assertRefusedWithOneLine(result, readOnly.toString(), "not writable");
    }

    @Test
    void consolePortInUseStopsTheLaunchNamingTheSettingAndFile() throws Exception {
        try (ServerSocket occupier = new ServerSocket()) {
            occupier.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int port = occupier.getLocalPort();
            Path config = ApplianceImage.runtimeConfig(work.resolve("config"), port, null);
            Path data = ApplianceImage.dataDirectory(work.resolve("data"));

            ApplianceProcess.Result result = ApplianceProcess.refused(work, List.of(),
                    "--data", data.toString(), "--config", config.toString());

            assertRefusedWithOneLine(result, "org.osgi.service.http.port", "already in use");
        }
    }

    private static void assertRefusedWithOneLine(ApplianceProcess.Result result, String... mentions) {
        List<String> lines = result.output().lines().filter(l -> !l.isBlank()).toList();
        assertAll(
                () -> assertEquals(2, result.exitCode(), result.output()),
                () -> assertEquals(1, lines.size(), "one message, not a trace:\n" + result.output()),
                () -> assertTrue(lines.get(0).startsWith("flexwall: "), result.output()),
                () -> {
                    for (String m : mentions) {
                        assertTrue(result.output().contains(m), "expected '" + m + "' in: " + result.output());
                    }
                });
    }
}
