package org.flexwall.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs real programs for the tests, here or inside a network namespace ({@code ns} null means here). */
public final class Commands {
    private static final long LIMIT_MINUTES = 10; // nmap, iperf3 and hping3 runs are long; a hung one still ends

    private Commands() {
    }

    /** The command line, its exit code and its combined output. */
    public record Result(List<String> command, int exitCode, String output) {
        public boolean ok() {
            return exitCode == 0;
        }

        /** This result, or an IllegalStateException naming the command, its exit code and its output. */
        public Result check() {
            if (exitCode != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed (" + exitCode + "): " + output);
            }
            return this;
        }
    }

    /** Runs {@code argv} in {@code ns} with {@code stdin} (may be null) and waits for it. */
    public static Result run(String ns, String stdin, String... argv) throws IOException {
        List<String> command = command(ns, argv);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        String out;
        try (InputStream o = p.getInputStream()) {
            out = new String(o.readAllBytes(), StandardCharsets.UTF_8);
        }
        try {
            if (!p.waitFor(LIMIT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish within " + LIMIT_MINUTES + " min");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + command, e);
        }
        return new Result(command, p.exitValue(), out);
    }

    /** Runs {@code argv} in {@code ns}; its output, or an IOException unless the exit code is 0. */
    public static String ok(String ns, String... argv) throws IOException {
        Result r = run(ns, null, argv);
        if (!r.ok()) {
            throw new IOException(String.join(" ", argv) + (ns == null ? "" : " in " + ns) + " exited with "
                    + r.exitCode() + ": " + r.output());
        }
        return r.output();
    }

    /** The command line that runs {@code argv} in {@code ns}. */
    public static List<String> command(String ns, String... argv) {
        List<String> c = new ArrayList<>();
        if (ns != null) {
            c.addAll(List.of("ip", "netns", "exec", ns));
        }
        c.addAll(List.of(argv));
        return c;
    }

    /** Whether this process runs as root (effective uid 0). */
    public static boolean root() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:"))
                    .anyMatch(l -> l.split("\\s+")[2].equals("0"));
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether {@code program} is on the PATH (or in the sbin directories a root shell would search). */
    public static boolean installed(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/sbin", program)) || Files.isExecutable(Path.of("/sbin", program));
    }
}
