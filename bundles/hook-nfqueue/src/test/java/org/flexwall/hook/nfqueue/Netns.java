package org.flexwall.hook.nfqueue;

import java.io.IOException;
import java.util.List;

import org.flexwall.testing.NetnsLab;

/**
 * Two network namespaces joined by a veth pair, made by a test and always removed: "client" (10.77.x.1, fd77:x::1)
 * sends, "server" (10.77.x.2, fd77:x::2) runs the queue. Names start with {@code fwq-} and a random part.
 */
final class Netns extends NetnsLab {
    final String client;
    final String server;
    final String clientV4;
    final String serverV4;
    final String clientV6;
    final String serverV6;

    private Netns() {
        super("fwq");
        client = name + "-c";
        server = name + "-s";
        clientV4 = "10.77." + subnet + ".1";
        serverV4 = "10.77." + subnet + ".2";
        clientV6 = "fd77:" + Integer.toHexString(subnet) + "::1";
        serverV6 = "fd77:" + Integer.toHexString(subnet) + "::2";
    }

    static Netns create() throws IOException {
        Netns n = new Netns();
        try {
            n.setUp();
            return n;
        } catch (IOException | RuntimeException e) {
            n.close();
            throw e;
        }
    }

    private void setUp() throws IOException {
        namespace("c");
        namespace("s");
        veth(client, "fwq0", server, "fwq1");
        address(client, "fwq0", clientV4 + "/24");
        address(server, "fwq1", serverV4 + "/24");
        address(client, "fwq0", clientV6 + "/64");
        address(server, "fwq1", serverV6 + "/64");
        up(client, "fwq0");
        up(server, "fwq1");
    }

    /** The hook's own command runner, running inside {@code ns}. */
    static Commands commands(String ns) {
        return new Commands(List.of("ip", "netns", "exec", ns));
    }

    /** Runs a command in {@code ns} and fails the test on a non-zero exit. */
    String in(String ns, String... argv) throws IOException {
        Commands.Result r = commands(ns).run(List.of(argv), null);
        if (!r.ok()) {
            throw new IOException(String.join(" ", argv) + " in " + ns + " exited with " + r.exit() + ": " + r.output());
        }
        return r.output();
    }

    /** Runs a command in {@code ns} and returns its result whatever the exit. */
    Commands.Result attempt(String ns, String stdin, String... argv) throws IOException {
        return commands(ns).run(List.of(argv), stdin);
    }
}
