package org.flexwall.hook.pcap;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the kernel from forwarding, beside the bridge, frames between its two interfaces: where they are ports of a
 * Linux bridge (the kernel path), an nft table of the {@code bridge} family drops what the kernel would forward from
 * or to them. Installed before the bridge opens its interfaces and left in place if the JVM dies (fail closed);
 * removed only by a clean stop, which hands the interfaces back to the kernel path.
 */
final class KernelForwarding {
    static final String TABLE = "flexwall_pcap";

    private final String namespace;
    private final List<String> interfaces;

    KernelForwarding(String namespace, List<String> interfaces) {
        this.namespace = namespace;
        this.interfaces = interfaces;
    }

    /** Installs (or replaces) the table, atomically. */
    void block() throws IOException {
        String set = "{ \"" + String.join("\", \"", interfaces) + "\" }";
        nft("table bridge " + TABLE + "\n"
                + "delete table bridge " + TABLE + "\n"
                + "table bridge " + TABLE + " {\n"
                + "  chain forward {\n"
                + "    type filter hook forward priority -200; policy accept;\n"
                + "    iifname " + set + " drop\n"
                + "    oifname " + set + " drop\n"
                + "  }\n"
                + "}\n", "drop kernel forwarding of " + interfaces);
    }

    /** Removes the table: the kernel forwards between the interfaces again, if they are bridge ports. */
    void release() throws IOException {
        nft("table bridge " + TABLE + "\ndelete table bridge " + TABLE + "\n",
                "hand " + interfaces + " back to kernel forwarding");
    }

    private void nft(String script, String what) throws IOException {
        List<String> command = new ArrayList<>();
        if (!namespace.isEmpty()) {
            command.addAll(List.of("ip", "netns", "exec", namespace));
        }
        command.addAll(List.of("nft", "-f", "-"));
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("cannot " + what + ": cannot run " + String.join(" ", command) + " ("
                    + e.getMessage() + "); install nftables", e);
        }
        try (var in = p.getOutputStream()) {
            in.write(script.getBytes(StandardCharsets.UTF_8));
        }
        try {
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("cannot " + what + ": nft did not finish within 30 s");
            }
            if (p.exitValue() != 0) {
                throw new IOException("cannot " + what + ": nft failed: " + output);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("cannot " + what + ": interrupted", e);
        }
    }
}
