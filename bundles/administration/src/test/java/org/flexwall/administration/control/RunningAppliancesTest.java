package org.flexwall.administration.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Appliances found in a /proc laid out as the kernel lays it out, with the launcher's three ways to name DATA. */
class RunningAppliancesTest {
    private static final String OURS = "net:[4026531840]";
    private static final String JAVA = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";

    @TempDir
    Path proc;

    @BeforeEach
    void self() throws IOException {
        process("self", OURS, "/", List.of("java", "ControlClient"), List.of());
    }

    private void process(String pid, String namespace, String cwd, List<String> argv, List<String> environment)
            throws IOException {
        Path p = Files.createDirectories(proc.resolve(pid).resolve("ns"));
        Files.createSymbolicLink(p.resolve("net"), Path.of(namespace));
        Files.createSymbolicLink(p.getParent().resolve("cwd"), Path.of(cwd));
        Files.write(p.getParent().resolve("cmdline"), (String.join("\0", argv) + "\0").getBytes(StandardCharsets.UTF_8));
        Files.write(p.getParent().resolve("environ"),
                (String.join("\0", environment) + "\0").getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> launcher(String... options) {
        List<String> argv = new java.util.ArrayList<>(List.of(JAVA, "-Xmx64m", "-Dflexwall.home=/opt/flexwall", "-cp",
                "/opt/flexwall/lib/*", RunningAppliances.LAUNCHER, "run"));
        argv.addAll(List.of(options));
        return argv;
    }

    @Test
    void dataOptionRelativeToTheAppliancesWorkingDirectory() throws IOException {
        process("4711", OURS, "/home/op/flexwall", launcher("--data", "var/data"), List.of("FLEXWALL_DATA=/elsewhere"));

        assertEquals(List.of(new RunningAppliances.Appliance(4711, Path.of("/home/op/flexwall/var/data"))),
                RunningAppliances.find(proc));
    }

    @Test
    void dataFromTheEnvironmentAsTheServiceSetsIt() throws IOException {
        process("812", OURS, "/", launcher(), List.of("PATH=/bin", "FLEXWALL_DATA=/var/lib/flexwall"));

        assertEquals(List.of(new RunningAppliances.Appliance(812, Path.of("/var/lib/flexwall"))),
                RunningAppliances.find(proc));
    }

    @Test
    void withoutEitherTheImagesOwnDataDirectory() throws IOException {
        process("90", OURS, "/tmp", launcher(), List.of("FLEXWALL_DATA="));

        assertEquals(List.of(new RunningAppliances.Appliance(90, Path.of("/opt/flexwall/data"))),
                RunningAppliances.find(proc));
    }

    @Test
    void appliancesOfOtherNetworkNamespacesAndOtherProgramsAreNotOurs() throws IOException {
        process("100", "net:[4026532999]", "/", launcher("--data", "/srv/a"), List.of());
        process("101", OURS, "/", List.of(JAVA, "-jar", "other.jar", "--data", "/srv/b"), List.of());

        assertEquals(List.of(), RunningAppliances.find(proc));
    }

    @Test
    void theApplianceServingADataDirectoryIsFoundInAnotherNetworkNamespace() throws IOException {
        process("100", "net:[4026532999]", "/", launcher("--data", "/srv/a"), List.of());
        process("102", OURS, "/", launcher("--data", "/srv/b"), List.of());

        assertEquals(new RunningAppliances.Appliance(100, Path.of("/srv/a")),
                RunningAppliances.serving(proc, Path.of("/srv/a/")));
        assertEquals(null, RunningAppliances.serving(proc, Path.of("/srv/c")));
    }
}
