package org.flexwall.hook.nftables;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs real programs for the tests, optionally inside a network namespace. */
final class Cmd {
    private Cmd() {
    }

    /** Exit code and combined output of one run. */
    record Result(int exit, String output) {
        boolean ok() {
            return exit == 0;
        }
    }

    /** Runs {@code argv} in namespace {@code ns} (null: here) with {@code stdin}, waiting at most 60 s. */
    static Result run(String ns, String stdin, String... argv) throws IOException {
        Process p = new ProcessBuilder(command(ns, argv)).redirectErrorStream(true).start();
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
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", argv) + " did not finish within 60 s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return new Result(p.exitValue(), out);
    }

    /** Runs and fails unless the exit code is 0; returns the output. */
    static String ok(String ns, String... argv) throws IOException {
        Result r = run(ns, null, argv);
        if (!r.ok()) {
            throw new IOException(String.join(" ", argv) + (ns == null ? "" : " in " + ns) + " exited with "
                    + r.exit() + ": " + r.output());
        }
        return r.output();
    }

    static List<String> command(String ns, String... argv) {
        List<String> c = new ArrayList<>();
        if (ns != null) {
            c.addAll(List.of("ip", "netns", "exec", ns));
        }
        c.addAll(List.of(argv));
        return c;
    }

    /** Whether this process runs as root. */
    static boolean root() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:"))
                    .anyMatch(l -> l.split("\\s+")[2].equals("0"));
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether {@code program} is on the PATH. */
    static boolean installed(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/sbin", program)) || Files.isExecutable(Path.of("/sbin", program));
    }
}
