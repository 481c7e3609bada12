package org.flexwall.itests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The network outside the appliance: a namespace of its own made by a test and always removed, joined by a veth pair
 * to the test JVM's namespace, where the appliance runs (see itests/netns/bin/java).
 * <pre>
 * outside namespace (out0 10.77.0.1, fd00:77::1) ── veth ── (wan0 10.77.0.2, fd00:77::2) appliance = this JVM
 * </pre>
 * Each test JVM has a namespace of its own, so the fixed addresses never meet another JVM's.
 */
final class OutsideNetwork implements AutoCloseable {
    static final String OUTSIDE_V4 = "10.77.0.1";
    static final String APPLIANCE_V4 = "10.77.0.2";
    static final String OUTSIDE_V6 = "fd00:77::1";
    static final String APPLIANCE_V6 = "fd00:77::2";

    final String namespace;
    private final List<Process> processes = new ArrayList<>();

    private OutsideNetwork(String namespace) {
        this.namespace = namespace;
    }

    /** Whether this JVM runs as root inside its own test namespace, where making networks is allowed. */
    static boolean available() {
        return System.getenv("FLEXWALL_IN_TEST_NETNS") != null && "root".equals(System.getProperty("user.name"));
    }

    static OutsideNetwork create() throws IOException {
        OutsideNetwork n = new OutsideNetwork("fwt-out-" + Integer.toHexString(ThreadLocalRandom.current().nextInt()));
        try {
            n.setUp();
            return n;
        } catch (IOException | RuntimeException e) {
            n.close();
            throw e;
        }
    }

    private void setUp() throws IOException {
        here("ip", "netns", "add", namespace).check();
        here("ip", "link", "add", "wan0", "type", "veth", "peer", "name", "out0", "netns", namespace).check();
        outside("ip", "link", "set", "lo", "up").check();
        outside("ip", "addr", "add", OUTSIDE_V4 + "/24", "dev", "out0").check();
        outside("ip", "addr", "add", OUTSIDE_V6 + "/64", "dev", "out0", "nodad").check();
        outside("ip", "link", "set", "out0", "up").check();
        here("ip", "addr", "add", APPLIANCE_V4 + "/24", "dev", "wan0").check();
        here("ip", "addr", "add", APPLIANCE_V6 + "/64", "dev", "wan0", "nodad").check();
        here("ip", "link", "set", "wan0", "up").check();
    }

    /** Runs a command in the outside namespace and waits for it (at most 10 minutes). */
    Result outside(String... argv) throws IOException {
        return run(inOutside(argv));
    }

    /** Runs a command in the appliance's namespace (this JVM's) and waits for it. */
    static Result here(String... argv) throws IOException {
        return run(List.of(argv));
    }

    /** Starts a long-running command in the outside namespace, output discarded; it is killed on close. */
    Process startOutside(String... argv) throws IOException {
        return track(new ProcessBuilder(inOutside(argv)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
    }

    /** Starts a long-running command in the outside namespace, output to {@code output}; it is killed on close. */
    Process startOutside(Path output, String... argv) throws IOException {
        return track(new ProcessBuilder(inOutside(argv)).redirectErrorStream(true).redirectOutput(output.toFile()).start());
    }

    /** Starts a long-running command here, output discarded; it is killed on close. */
    Process startHere(String... argv) throws IOException {
        return track(new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
    }

    Process track(Process p) {
        processes.add(p);
        return p;
    }

    List<String> inOutside(String... argv) {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        command.addAll(List.of(argv));
        return command;
    }

    private static Result run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
            }
            return new Result(command, p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + command, e);
        }
    }

    record Result(List<String> command, int exitCode, String output) {
        boolean ok() {
            return exitCode == 0;
        }

        Result check() {
            if (exitCode != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed (" + exitCode + "): " + output);
            }
            return this;
        }
    }

    @Override
    public void close() throws IOException {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        here("ip", "netns", "del", namespace); // takes the veth pair with it
    }
}
