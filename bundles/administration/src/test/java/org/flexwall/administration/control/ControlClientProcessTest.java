package org.flexwall.administration.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client as the flexwall command runs it: a separate {@code java} process with only the bundle's classes,
 * jakarta.json and Parsson on its class path, once as root and once as an unprivileged user (through setpriv).
 */
class ControlClientProcessTest {
    private static final int NOBODY = 65534;

    @TempDir
    Path tmp;

    private final Fakes.Registry registry = new Fakes.Registry();
    private final Fakes.Store store = new Fakes.Store(registry);
    private Path socket;
    private ControlServer server;
    private String classPath;

    record Result(int exit, String out, String err) {}

    @BeforeEach
    void start() throws IOException {
        // A tree every user may read: the unprivileged run must fail on the socket, not on the class path.
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path lib = Files.createDirectory(tmp.resolve("lib"));
        Path classes = lib.resolve("classes");
        copyTree(Path.of("target/classes"), classes);
        List<String> cp = new ArrayList<>(List.of(classes.toString()));
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            String name = Path.of(entry).getFileName().toString();
            if (name.startsWith("jakarta.json-api-") || name.startsWith("parsson-")) {
                cp.add(Files.copy(Path.of(entry), lib.resolve(name)).toString());
            }
        }
        assertEquals(3, cp.size(), "jakarta.json-api and parsson on the test class path: " + cp);
        classPath = String.join(File.pathSeparator, cp);
        socket = tmp.resolve("control.sock");
        server = ControlServer.start(socket, ControlChannel.handler(Operations.using(registry, store, Fakes.MONITOR,
                List.of(store)).withPacketHooks(List.of(Fakes.HOOK)).withHealthChecks(Fakes.CHECKS_PASS)), m -> {});
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
    }

    private Result client(List<String> prefix, String... args) throws Exception {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto", "-cp", classPath,
                "org.flexwall.administration.control.ControlClient"));
        command.addAll(List.of(args));
        command.addAll(List.of("--socket", socket.toString()));
        Process p = new ProcessBuilder(command).directory(tmp.toFile()).start();
        p.getOutputStream().close();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the client did not end within 60 s");
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void clientRunsWithoutOsgiAndTrustsThroughTheSocket() throws Exception {
        Result r = client(List.of(), "trust", "/usr/sbin/sshd", "--json");

        assertEquals(0, r.exit(), r.err());
        assertTrue(JsonSupport.parse(r.out().strip()).getBoolean("ok"), r.out());
        assertEquals(1, registry.programs().size());
    }

    @Test
    void clientErrorGoesToStandardErrorWithNonZeroExit() throws Exception {
        Result r = client(List.of(), "untrust", "/usr/sbin/never");

        assertEquals(ControlClient.REFUSED, r.exit());
        assertTrue(r.err().startsWith("flexwall: no trusted program was approved at /usr/sbin/never"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void otherUsersCannotUseTheControlSocket() throws Exception {
        List<String> asNobody = List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups");

        Result denied = client(asNobody, "trust", "/usr/sbin/sshd");

        assertEquals(ControlClient.UNREACHABLE, denied.exit(), denied.out() + denied.err());
        assertTrue(denied.err().contains("permission denied on the control socket"), denied.err());
        assertTrue(registry.programs().isEmpty());

        // The same user gets through once the socket's mode allows it: the mode is what kept it out.
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        assertEquals(0, client(asNobody, "status").exit());
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
