package org.flexwall.hook.nftables;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.flexwall.api.packet.Marks;
import org.flexwall.testing.Await;
import org.flexwall.testing.Commands;
import org.flexwall.testing.NetnsLab;
import org.flexwall.testing.SystemTests;

/**
 * Three network namespaces made by a test and always removed, names {@code fwt-<random>-o/-a/-l}:
 * <pre>
 * outside (out0 10.213.N.1, fd00:213:N::1) ── veth ── (wan0 10.213.N.2, fd00:213:N::2) appliance
 *                                                     (lan0 10.214.N.1,  ── veth ── (host0 10.214.N.2,    lan
 *                                                      fd00:214:N::1)                fd00:214:N::2)
 * </pre>
 * The appliance forwards IPv4 and IPv6 between its two sides; the outside routes the LAN through it. Behind the outside lies
 * a narrow link (veth o1/o2, MTU 1280) to 10.216.N.0/24 and fd00:216:N::/64: the outside, as a router, answers
 * larger packets from the appliance with "fragmentation needed" / "packet too big".
 */
final class Lab extends NetnsLab {
    final String outside;
    final String appliance;
    final String lan;
    final String outsideV4;
    final String applianceV4;
    final String outsideV6;
    final String applianceV6;
    final String lanHostV4;
    final String lanHostV6;
    final String farV4;
    final String farV6;

    private Lab() {
        super("fwt");
        int n = subnet;
        outsideV4 = "10.213." + n + ".1";
        applianceV4 = "10.213." + n + ".2";
        outsideV6 = "fd00:213:" + Integer.toHexString(n) + "::1";
        applianceV6 = "fd00:213:" + Integer.toHexString(n) + "::2";
        lanHostV4 = "10.214." + n + ".2";
        lanHostV6 = "fd00:214:" + Integer.toHexString(n) + "::2";
        farV4 = "10.216." + n + ".5";
        farV6 = "fd00:216:" + Integer.toHexString(n) + "::5";
        outside = name + "-o";
        appliance = name + "-a";
        lan = name + "-l";
    }

    /** Fails (FLEXWALL_SYSTEM_TESTS=required) or skips the test unless it runs as root with every tool installed. */
    static void require(String... tools) {
        SystemTests.requireRootAndTools(tools);
    }

    static Lab create() throws IOException {
        Lab lab = new Lab();
        try {
            lab.setUp();
            return lab;
        } catch (IOException | RuntimeException e) {
            lab.close();
            throw e;
        }
    }

    private void setUp() throws IOException {
        for (String suffix : List.of("o", "a", "l")) {
            namespace(suffix);
        }
        String n = Integer.toString(subnet);
        veth(outside, "out0", appliance, "wan0");
        veth(appliance, "lan0", lan, "host0");
        Commands.ok(outside, "ip", "addr", "add", outsideV4 + "/24", "dev", "out0");
        Commands.ok(outside, "ip", "addr", "add", outsideV6 + "/64", "dev", "out0", "nodad");
        Commands.ok(appliance, "ip", "addr", "add", applianceV4 + "/24", "dev", "wan0");
        Commands.ok(appliance, "ip", "addr", "add", applianceV6 + "/64", "dev", "wan0", "nodad");
        Commands.ok(appliance, "ip", "addr", "add", "10.214." + n + ".1/24", "dev", "lan0");
        Commands.ok(lan, "ip", "addr", "add", lanHostV4 + "/24", "dev", "host0");
        Commands.ok(appliance, "ip", "addr", "add", lanHostV6.replaceAll("::2$", "::1") + "/64", "dev", "lan0", "nodad");
        Commands.ok(lan, "ip", "addr", "add", lanHostV6 + "/64", "dev", "host0", "nodad");
        Commands.ok(outside, "ip", "link", "set", "out0", "up");
        Commands.ok(appliance, "ip", "link", "set", "wan0", "up");
        Commands.ok(appliance, "ip", "link", "set", "lan0", "up");
        Commands.ok(lan, "ip", "link", "set", "host0", "up");
        Commands.ok(appliance, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1");
        Commands.ok(lan, "ip", "route", "add", "default", "via", "10.214." + n + ".1");
        Commands.ok(lan, "ip", "-6", "route", "add", "default", "via", lanHostV6.replaceAll("::2$", "::1"));
        Commands.ok(outside, "ip", "route", "add", "10.214." + n + ".0/24", "via", applianceV4);
        Commands.ok(outside, "ip", "-6", "route", "add", lanHostV6.replaceAll("::2$", "::/64"), "via", applianceV6);

        Commands.ok(outside, "ip", "link", "add", "o1", "mtu", "1280", "type", "veth", "peer", "name", "o2", "mtu", "1280");
        Commands.ok(outside, "ip", "link", "set", "o1", "up");
        Commands.ok(outside, "ip", "link", "set", "o2", "up");
        Commands.ok(outside, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1");
        Commands.ok(outside, "ip", "route", "add", "10.216." + n + ".0/24", "dev", "o1");
        Commands.ok(outside, "ip", "-6", "route", "add", farV6.replace("::5", "::/64"), "dev", "o1");
        Commands.ok(appliance, "ip", "route", "add", "10.216." + n + ".0/24", "via", outsideV4);
        Commands.ok(appliance, "ip", "-6", "route", "add", farV6.replace("::5", "::/64"), "via", outsideV6);
    }

    /** A TCP echo server on {@code port} (IPv4 and IPv6) in {@code ns}. */
    void tcpEcho(String ns, int port) throws IOException {
        start(ns, "socat", "TCP6-LISTEN:" + port + ",ipv6only=0,fork,reuseaddr", "EXEC:cat");
        await(() -> listening(ns, "-Hltn", port), "socat did not listen on tcp " + port + " in " + ns);
    }

    /**
     * A TCP echo server on {@code port} (IPv4 and IPv6) in {@code ns} whose listening socket carries flexwall's
     * verified mark from the start, as the port store's marker would put it on a trusted program's socket.
     */
    void verifiedTcpEcho(String ns, int port) throws IOException {
        start(ns, "python3", "-c", "import socket, threading\n"
                + "s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)\n"
                + "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)\n"
                + "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                + "s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, " + Marks.VERIFIED_SOCKET + ")\n"
                + "s.bind(('::', " + port + "))\n"
                + "s.listen(64)\n"
                + "def echo(c):\n"
                + "    with c:\n"
                + "        for data in iter(lambda: c.recv(4096), b''):\n"
                + "            c.sendall(data)\n"
                + "while True:\n"
                + "    threading.Thread(target=echo, args=(s.accept()[0],), daemon=True).start()\n");
        await(() -> listening(ns, "-Hltn", port), "the echo server did not listen on tcp " + port + " in " + ns);
    }

    /** A UDP server on {@code port} (IPv4 and IPv6) in {@code ns} that answers each datagram with "pong". */
    void udpPong(String ns, int port) throws IOException {
        udpPong(ns, port, 0);
    }

    /** As {@link #udpPong(String, int)}, its socket marked {@code mark} (flexwall's verified bit, or 0). */
    void udpPong(String ns, int port, int mark) throws IOException {
        // one socket for good: socat's UDP fork leaves the port unbound between datagrams, and a datagram that
        // arrives then draws a port unreachable, which made tests asking twice in a row flaky under load
        start(ns, "python3", "-c", "import socket\n"
                + "s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n"
                + "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)\n"
                + "s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, " + mark + ")\n"
                + "s.bind(('::', " + port + "))\n"
                + "while True:\n"
                + "    s.sendto(b'pong\\n', s.recvfrom(2048)[1])\n");
        await(() -> listening(ns, "-Hlun", port), "the pong server did not bind udp " + port + " in " + ns);
    }

    /** Waits until a socket in {@code ns} listens on (ss {@code options}: -Hltn TCP, -Hlun UDP) {@code port}. */
    void awaitBound(String ns, String options, int port) {
        await(() -> listening(ns, options, port), "nothing bound " + port + " (ss " + options + ") in " + ns);
    }

    private static boolean listening(String ns, String options, int port) {
        try {
            return !Commands.run(ns, null, "ss", options, "sport = :" + port).output().isBlank();
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether a TCP connection from {@code ns} to {@code address}:{@code port} carries a line both ways. */
    boolean connects(String ns, String address, int port) throws IOException {
        // a second try: on a loaded machine the echo server's fork and exec can outlast the first exchange's 3 s;
        // a port the firewall drops fails both
        return exchange(ns, address, port, 3) || exchange(ns, address, port, 3);
    }

    /**
     * Whether the connection fails. One second: a dropped SYN is retransmitted only after one, and an accepted one
     * is answered within microseconds.
     */
    boolean blocked(String ns, String address, int port) throws IOException {
        return !exchange(ns, address, port, 1);
    }

    private boolean exchange(String ns, String address, int port, int timeout) throws IOException {
        String target = address.contains(":") ? "TCP6:[" + address + "]:" + port : "TCP4:" + address + ":" + port;
        Commands.Result r = Commands.run(ns, "ping\n", "socat", "-T", "3", "-", target + ",connect-timeout=" + timeout);
        return r.ok() && r.output().contains("ping");
    }

    /** What a TCP server at {@code address}:{@code port} says to a client in {@code ns}, or null when none answered. */
    String said(String ns, String address, int port) {
        try {
            String target = address.contains(":") ? "TCP6:[" + address + "]:" + port : "TCP4:" + address + ":" + port;
            Commands.Result r = Commands.run(ns, null, "socat", "-T", "3", "-u", target + ",connect-timeout=2", "-");
            return r.ok() && !r.output().isBlank() ? r.output().strip() : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** Sends "ping" over UDP from {@code ns}; whether "pong" came back. */
    boolean udpAnswered(String ns, String address, int port) throws IOException {
        String target = address.contains(":") ? "UDP6:[" + address + "]:" + port : "UDP4:" + address + ":" + port;
        Commands.Result r = Commands.run(ns, "ping\n", "socat", "-T", "2", "-", target);
        return r.output().contains("pong");
    }

    /** A long-lived TCP connection from {@code ns} to an echo server, exchanging lines on demand. */
    Session session(String ns, String address, int port) throws IOException {
        String target = address.contains(":") ? "TCP6:[" + address + "]:" + port : "TCP4:" + address + ":" + port;
        Process p = new ProcessBuilder(Commands.command(ns, "socat", "-", target + ",connect-timeout=3"))
                .redirectErrorStream(true).start();
        track(p);
        return new Session(p);
    }

    /** One socat client process: every line written comes back from the echo server. */
    static final class Session {
        private final Writer in;
        private final BufferedReader out;

        Session(Process p) {
            in = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8);
            out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        }

        /** Sends {@code line}; returns what came back within 5 s, or null. */
        String exchange(String line) throws IOException {
            in.write(line + "\n");
            in.flush();
            CompletableFuture<String> reply = CompletableFuture.supplyAsync(() -> {
                try {
                    return out.readLine();
                } catch (IOException e) {
                    return null;
                }
            });
            try {
                return reply.get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                return null;
            }
        }
    }

    /** Captures, in {@code ns} on {@code dev}, what {@code filter} matches, as tcpdump's text lines. */
    Capture capture(String ns, String dev, Path file, String filter) throws IOException {
        Process p = new ProcessBuilder(Commands.command(ns, "tcpdump", "-i", dev, "-n", "-l", "-U", filter))
                .redirectErrorStream(true).redirectOutput(file.toFile()).start();
        track(p);
        await(() -> read(file).contains("listening on"), "tcpdump did not start in " + ns);
        return new Capture(p, file);
    }

    /** A running tcpdump. */
    record Capture(Process process, Path file) {
        /** Stops tcpdump and returns the packets it printed. */
        List<String> stop() throws InterruptedException {
            process.destroy(); // SIGTERM: tcpdump flushes and exits
            process.waitFor(5, TimeUnit.SECONDS);
            return read(file).lines().filter(l -> !l.startsWith("tcpdump:") && !l.startsWith("listening on")
                    && !l.contains("packets captured") && !l.contains("received by filter")
                    && !l.contains("dropped by kernel") && !l.isBlank()).toList();
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * Runs nmap in {@code ns} with {@code args} and returns the state of each listed port ("port/proto" → state),
     * plus "ignored" → the collapsed state, "up" → "true"/"false" and "raw" → the output. Grepable output (-oG -), no
     * DNS (-n). ARP and
     * neighbour discovery pings are off: they work below IP, every host on a link answers them, and an outside
     * scanner is not on the appliance's link.
     */
    static Map<String, String> nmap(String ns, String... args) throws IOException {
        // on a veth pair an answer takes microseconds: a short timeout and a minimum rate keep a scan of silent
        // ports to about a second without losing answers
        List<String> argv = new ArrayList<>(List.of("nmap", "-n", "-T5", "--max-retries", "1", "--max-rtt-timeout",
                "200ms", "--min-rate", "2000", "--disable-arp-ping", "-oG", "-"));
        argv.addAll(List.of(args));
        Commands.Result r = Commands.run(ns, null, argv.toArray(String[]::new));
        if (!r.ok()) {
            throw new IOException("nmap failed: " + r.output());
        }
        Map<String, String> states = new HashMap<>();
        states.put("up", Boolean.toString(!r.output().contains("(0 hosts up)")));
        for (String line : r.output().split("\n")) {
            int ports = line.indexOf("Ports: ");
            if (!line.startsWith("Host:") || ports < 0) {
                continue;
            }
            for (String field : line.substring(ports + 7).split("\t")) {
                if (field.startsWith("Ignored State: ")) {
                    states.put("ignored", field.substring(15));
                } else if (!field.isEmpty() && Character.isDigit(field.charAt(0))) {
                    for (String entry : field.split(", ")) {
                        String[] f = entry.split("/");
                        states.put(f[0] + "/" + f[2], f[1]);
                    }
                }
            }
        }
        states.put("raw", r.output());
        return states;
    }

    /** Waits up to 10 s until {@code condition} holds; fails with {@code message} otherwise. */
    static void await(BooleanSupplier condition, String message) {
        Await.until(message, condition::getAsBoolean);
    }
}
