package org.flexwall.hook.nfqueue;


import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BooleanSupplier;

import org.flexwall.api.packet.Marks;
import org.flexwall.testing.Await;

/**
 * Real traffic for the system tests: listeners (socat) in the server namespace, a client (socat, hping3, python3)
 * in the other, the queue rules, and a stand-in for flexwall's nft baseline (policy drop at filter priority,
 * established accepted, packets carrying {@link Marks#ACCEPTED} accepted). The real baseline also wants the verified
 * socket mark; hook-nftables' tests prove that part, these tests the queue's own decisions.
 */
final class SystemFixture implements AutoCloseable {
    static final int TRUSTED_TCP = 8080;
    static final int UNTRUSTED_TCP = 9090;
    static final int TRUSTED_UDP = 7001;
    static final int UNTRUSTED_UDP = 7002;
    static final String BASELINE_TABLE = "fwq_baseline";

    final Netns net;
    final Path dir;

    SystemFixture(Path dir) throws IOException {
        this.dir = dir;
        this.net = Netns.create();
        try {
            for (int port : List.of(TRUSTED_TCP, UNTRUSTED_TCP)) {
                net.start(net.server, "socat", "TCP6-LISTEN:" + port + ",ipv6only=0,fork,reuseaddr",
                        "SYSTEM:echo hello-" + port);
            }
            for (int port : List.of(TRUSTED_UDP, UNTRUSTED_UDP)) {
                net.start(net.server, "socat", "-u", "UDP6-RECV:" + port + ",ipv6only=0",
                        "OPEN:" + received(port) + ",creat,append");
            }
            await(() -> listening("-Hltn", TRUSTED_TCP) && listening("-Hltn", UNTRUSTED_TCP)
                    && listening("-Hlun", TRUSTED_UDP) && listening("-Hlun", UNTRUSTED_UDP),
                    "the socat listeners did not start in " + net.server);
        } catch (IOException | RuntimeException | Error e) {
            net.close();
            throw e;
        }
    }

    private boolean listening(String options, int port) {
        try {
            return !net.attempt(net.server, null, "ss", options, "sport = :" + port).output().isBlank();
        } catch (IOException e) {
            return false;
        }
    }

    Path received(int udpPort) {
        return dir.resolve("udp-" + udpPort);
    }

    /** What the UDP listener on {@code port} received so far. */
    String receivedText(int port) {
        try {
            Path p = received(port);
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** Installs the stand-in baseline: default drop, established and marked packets pass. */
    void installBaseline() throws IOException {
        installBaseline(true);
    }

    /** Installs the stand-in baseline, with or without the rule that accepts marked packets. */
    void installBaseline(boolean acceptMarked) throws IOException {
        String ruleset = "table inet " + BASELINE_TABLE + " {\n"
                + "  chain input {\n"
                + "    type filter hook input priority filter; policy drop;\n"
                + "    iif \"lo\" accept\n"
                + "    ct state established,related accept\n"
                + "    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n"
                + (acceptMarked ? "    " + String.format("meta mark & 0x%08x == 0x%08x", Marks.ACCEPTED, Marks.ACCEPTED) + " accept\n" : "")
                + "  }\n}\n";
        Commands.Result r = Netns.commands(net.server).run(List.of("nft", "-f", "-"), ruleset);
        if (!r.ok()) {
            throw new IOException("baseline: " + r.output());
        }
    }

    void removeBaseline() throws IOException {
        Netns.commands(net.server).run(List.of("nft", "delete", "table", "inet", BASELINE_TABLE), null);
    }

    /** Connects to the server over TCP; returns what the server said, or null when no connection was made. */
    String connect(String address, int port) throws IOException {
        String target = address.contains(":") ? "TCP6:[" + address + "]:" + port : "TCP4:" + address + ":" + port;
        // connect-timeout 1 s: a dropped SYN is not retransmitted before that, so one SYN per attempt
        Commands.Result r = net.attempt(net.client, null, "socat", "-T", "3", "-u", target + ",connect-timeout=1",
                "-");
        return r.ok() ? r.output() : null;
    }

    /** Sends one datagram from a new source port, always from CPU 0 so datagrams reach the queue in order. */
    void sendUdp(String address, int port, String text) throws IOException {
        String target = address.contains(":") ? "UDP6-SENDTO:[" + address + "]:" + port
                : "UDP4-SENDTO:" + address + ":" + port;
        Commands.Result r = net.attempt(net.client, text, "taskset", "-c", "0", "socat", "-u", "-", target);
        if (!r.ok()) {
            throw new IOException("socat UDP send failed: " + r.output());
        }
    }

    /** Packets that hit the NFQUEUE rule of chain {@code chain} so far (the kernel's own rule counter). */
    long queuedByRule(String chain) throws IOException {
        String out = net.in(net.server, "iptables-nft", "-t", "mangle", "-L", chain, "-v", "-x", "-n");
        long total = 0;
        for (String line : out.split("\n")) {
            if (line.contains("NFQUEUE")) {
                total += Long.parseLong(line.trim().split("\\s+")[0]);
            }
        }
        return total;
    }

    /** Waits up to 10 s until {@code condition} holds; fails with {@code message} otherwise. */
    static void await(BooleanSupplier condition, String message) {
        Await.until(message, condition::getAsBoolean);
    }

    @Override
    public void close() {
        net.close();
    }
}
