package org.flexwall.hook.nfqueue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the netfilter tools (iptables-nft, nft), optionally inside a network namespace (tests use one). */
class Commands {
    private static final long TIMEOUT_SECONDS = 20;

    /** The result of one run. */
    record Result(int exit, String output) {
        boolean ok() {
            return exit == 0;
        }
    }

    private final List<String> prefix;

    /** @param prefix put in front of every command, such as {@code ip netns exec NAME}; empty for this namespace */
    Commands(List<String> prefix) {
        this.prefix = List.copyOf(prefix);
    }

    /** Runs {@code argv} with {@code stdin} (or none) and returns its exit code and combined output. */
    Result run(List<String> argv, String stdin) throws IOException {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(argv);
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("cannot run " + argv.get(0) + " (" + e.getMessage() + "); install the "
                    + (argv.get(0).startsWith("nft") ? "nftables" : "iptables") + " package", e);
        }
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        String output;
        try (InputStream out = p.getInputStream()) {
            output = new String(out.readAllBytes(), StandardCharsets.UTF_8).trim();
        }
        try {
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", argv) + " did not finish within " + TIMEOUT_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + argv.get(0), e);
        }
        return new Result(p.exitValue(), output);
    }

    /** Runs {@code argv} and fails with its output when it does not succeed; else its result. */
    Result runOrThrow(List<String> argv, String stdin, String what) throws IOException {
        Result r = run(argv, stdin);
        if (!r.ok()) {
            throw new IOException("cannot " + what + ": " + String.join(" ", argv) + " exited with " + r.exit()
                    + (r.output().isEmpty() ? "" : ": " + r.output()));
        }
        return r;
    }
}
