package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.flexwall.testing.Commands;
import org.flexwall.testing.SystemTests;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data directory holds the console password hash, the configuration and the trusted programs: what flexwall
 * writes there is root's alone, checked with a real other user (nobody) reading it.
 */
class DataDirectorySystemTest {
    @TempDir
    Path work;

    @Test
    void nobodyCanReadNothingFlexwallWroteEvenWhereTheDirectoryAboveIsOpened() throws Exception {
        SystemTests.requireRoot("needs root to run a command as nobody");
        Path data = work.resolve("data");
        try (ApplianceProcess appliance = ApplianceProcess.startFresh(work)) {
            appliance.awaitConsole(60);
            Commands.Result trusted = ApplianceImage.flexwall(data, "trust", "/usr/bin/socat", "socat");
            assertEquals(0, trusted.exitCode(), trusted.output());
            assertTrue(Files.exists(data.resolve("programs.json")), "the trusted programs were written");
        }
        // An operator loosens the directories above the files: the files themselves must still keep nobody out.
        for (Path dir : List.of(work, data)) {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        assertEquals(0, asNobody("ls", data.toString()).exitCode(), "nobody can reach the directory now");

        Commands.Result readable = asNobody("find", data.toString(), "-readable", "-type", "f");
        Commands.Result hash = asNobody("cat", data.resolve("console-password.hash").toString());

        long files;
        try (Stream<Path> all = Files.walk(data)) {
            files = all.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).count();
        }
        assertTrue(files > 50, "the framework cache is there too: " + files + " files");
        assertAll(
                () -> assertEquals("", readable.output().strip(), "files nobody can read"),
                () -> assertNotEquals(0, hash.exitCode(), hash.output()),
                () -> assertEquals(List.of(), openToOthers(data), "files and directories group or others can reach"));
    }

    @Test
    void dataDirectoryOthersCanReachStopsTheLaunchNamingItAndTheFix() throws Exception {
        Path config = ApplianceImage.runtimeConfig(work.resolve("config"), ApplianceImage.freePort(), null);
        Path data = Files.createDirectory(work.resolve("data"));
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x")); // made under umask 022

        ApplianceProcess.Result result = ApplianceProcess.refused(work, List.of(),
                "--data", data.toString(), "--config", config.toString());

        List<String> lines = result.output().lines().filter(l -> !l.isBlank()).toList();
        assertAll(
                () -> assertEquals(2, result.exitCode(), result.output()),
                () -> assertEquals(1, lines.size(), result.output()),
                () -> assertTrue(lines.get(0).contains(data.toString()) && lines.get(0).contains("chmod 700 " + data),
                        result.output()),
                () -> assertEquals(List.of(), Files.list(data).toList(), "nothing was written into it"));
    }

    /** Every file and directory under {@code data} with any permission for group or others, and its mode. */
    private static List<String> openToOthers(Path data) throws IOException {
        List<String> open = new ArrayList<>();
        try (Stream<Path> all = Files.walk(data)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
                if (!p.equals(data) && !Files.isSymbolicLink(p) && !mode.endsWith("------")) {
                    open.add(data.relativize(p) + " " + mode);
                }
            }
        }
        return open;
    }

    /** Runs a command as the user nobody; its standard output (what it found or read) and exit code. */
    private static Commands.Result asNobody(String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Stream.concat(Stream.of("runuser", "-u", "nobody", "--"),
                Stream.of(command)).toList()).redirectError(ProcessBuilder.Redirect.DISCARD);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Commands.Result(List.of(command), p.waitFor(), out);
    }
}
