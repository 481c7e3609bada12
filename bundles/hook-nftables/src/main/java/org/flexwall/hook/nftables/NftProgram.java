package org.flexwall.hook.nftables;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the nft program: {@code nft -f -} with a generated file on stdin, one process and one kernel transaction per
 * call. A command prefix runs it elsewhere (tests use {@code ip netns exec NAME}).
 */
class NftProgram implements Nft {
    private static final long TIMEOUT_SECONDS = 20;

    private final List<String> prefix;
    private final String binary;

    /**
     * @param prefix put in front of the nft command, such as {@code ip netns exec NAME}; empty for this namespace
     * @param binary the nft program
     */
    NftProgram(List<String> prefix, String binary) {
        this.prefix = List.copyOf(prefix);
        this.binary = binary;
    }

    @Override
    public void apply(String ruleset, String what) throws NftException {
        run(List.of("-f", "-"), ruleset, what);
    }

    @Override
    public boolean tablePresent() throws NftException {
        try {
            run(List.of("-t", "list", "table", "inet", Ruleset.TABLE), null, "list table inet " + Ruleset.TABLE);
            return true;
        } catch (NftException e) {
            if (e.missing) {
                throw e;
            }
            return false;
        }
    }

    /** Runs nft with {@code args} and returns what it printed (stdout and stderr). */
    String run(List<String> args, String stdin, String what) throws NftException {
        List<String> command = new ArrayList<>(prefix);
        command.add(binary);
        command.addAll(args);
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start(); // nft's errors go to stderr
        } catch (IOException e) {
            throw new NftException("cannot " + what + ": the nft program \"" + binary + "\" could not be started ("
                    + e.getMessage() + "); install the nftables package (apt-get install nftables) or set "
                    + "nftBinary in " + NftablesHook.PID, true, e);
        }
        String output;
        try {
            try (OutputStream in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            output = readAll(p.getInputStream());
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new NftException("cannot " + what + ": nft did not finish within " + TIMEOUT_SECONDS + " s",
                        false, null);
            }
        } catch (IOException e) {
            p.destroyForcibly();
            throw new NftException("cannot " + what + ": talking to nft failed: " + e.getMessage(), false, e);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new NftException("cannot " + what + ": interrupted", false, e);
        }
        int exit = p.exitValue();
        if (exit != 0) {
            String err = output.strip();
            // "ip netns exec" reports a missing program itself, with exit 255
            boolean missing = err.contains("exec of \"" + binary + "\" failed");
            throw new NftException("cannot " + what + ": nft exited with " + exit
                    + (err.isEmpty() ? "" : ":\n" + err)
                    + (missing ? "\ninstall the nftables package (apt-get install nftables)" : ""), missing, null);
        }
        return output;
    }

    private static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(could not read: " + e.getMessage() + ")";
        }
    }
}
