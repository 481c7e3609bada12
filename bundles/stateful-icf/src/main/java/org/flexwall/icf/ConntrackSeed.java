package org.flexwall.icf;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.flexwall.packet.parse.Ip;

/**
 * Seeds the ICF's connection table from the kernel's connection tracking of this network namespace, read with the
 * {@code conntrack} tool (package conntrack, as {@code conntrack -L -o extended}): when the Java ICF starts deciding
 * after conntrack did, the flows conntrack holds as established stay open. Established TCP connections (also while
 * they close) and UDP flows that were answered are taken; half-open ones are not, their peers retry.
 */
final class ConntrackSeed {
    private static final long TIMEOUT_SECONDS = 10;
    private static final Set<String> OPEN_TCP = Set.of("ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK");

    /** One flow as conntrack saw its first packet: from {@code source} to {@code destination}. */
    record Flow(boolean v6, int protocol, InetAddress source, InetAddress destination, int sourcePort,
            int destinationPort) {
    }

    private ConntrackSeed() {
    }

    /** The established flows of both families in this namespace. */
    static List<Flow> read() throws IOException {
        List<Flow> flows = new ArrayList<>();
        for (String family : List.of("ipv4", "ipv6")) {
            flows.addAll(parse(run("conntrack", "-L", "-o", "extended", "-f", family)));
        }
        return flows;
    }

    /**
     * Parses {@code conntrack -L -o extended} lines, such as {@code ipv4 2 tcp 6 431999 ESTABLISHED src=10.0.0.1
     * dst=10.0.0.2 sport=40000 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=40000 [ASSURED] mark=0 use=1}: the
     * first tuple is the original direction. Lines of other protocols, unanswered or closed flows are left out.
     */
    static List<Flow> parse(String output) throws UnknownHostException {
        List<Flow> flows = new ArrayList<>();
        for (String line : output.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 6 || !(f[0].equals("ipv4") || f[0].equals("ipv6")) || line.contains("[UNREPLIED]")) {
                continue;
            }
            boolean tcp = f[2].equals("tcp");
            if (!tcp && !f[2].equals("udp") || tcp && !OPEN_TCP.contains(f[5])) {
                continue;
            }
            String src = value(f, "src="), dst = value(f, "dst=");
            int sport = port(value(f, "sport=")), dport = port(value(f, "dport="));
            if (src == null || dst == null || sport < 0 || dport < 0) {
                continue; // a line cut short or garbled is one flow lost, never the others
            }
            flows.add(new Flow(f[0].equals("ipv6"), tcp ? Ip.TCP : Ip.UDP, InetAddress.getByName(src),
                    InetAddress.getByName(dst), sport, dport));
        }
        return flows;
    }

    /**
     * Adds the flows to the ICF's table with this side as the local one: the source, unless the flow came in to an
     * address of this namespace from elsewhere (a client of a local service). Returns how many it took (all, unless
     * the table is full).
     */
    static int adopt(StatefulIcf icf, List<Flow> flows, Set<InetAddress> localAddresses, long now) {
        int taken = 0;
        for (Flow f : flows) {
            if (f.source().isLoopbackAddress() && f.destination().isLoopbackAddress()) {
                continue; // loopback never meets a hook
            }
            boolean inbound = localAddresses.contains(f.destination()) && !localAddresses.contains(f.source());
            InetAddress local = inbound ? f.destination() : f.source();
            InetAddress remote = inbound ? f.source() : f.destination();
            int localPort = inbound ? f.destinationPort() : f.sourcePort();
            int remotePort = inbound ? f.sourcePort() : f.destinationPort();
            if (icf.adopt(f.v6(), high(local), low(local), high(remote), low(remote), f.protocol(), localPort,
                    remotePort, now)) {
                taken++;
            }
        }
        return taken;
    }

    /** The addresses of this network namespace's interfaces. */
    static Set<InetAddress> localAddresses() throws SocketException {
        Set<InetAddress> addresses = new HashSet<>();
        for (NetworkInterface i : NetworkInterface.networkInterfaces().toList()) {
            i.inetAddresses().forEach(a -> addresses.add(withoutScope(a)));
        }
        return addresses;
    }

    private static InetAddress withoutScope(InetAddress a) {
        try {
            return InetAddress.getByAddress(a.getAddress()); // fe80::1%eth0 and conntrack's fe80::1 are the same
        } catch (UnknownHostException e) {
            return a;
        }
    }

    /** The upper 64 bits of the address as the connection table keys it (IPv4 as ::ffff:a.b.c.d). */
    static long high(InetAddress a) {
        byte[] b = a.getAddress();
        return b.length == 4 ? 0 : bytes(b, 0);
    }

    static long low(InetAddress a) {
        byte[] b = a.getAddress();
        return b.length == 4 ? 0xffff_0000_0000L | bytes(b, 0) : bytes(b, 8);
    }

    private static long bytes(byte[] b, int from) {
        long v = 0;
        for (int i = from; i < Math.min(b.length, from + 8); i++) {
            v = v << 8 | (b[i] & 0xff);
        }
        return v;
    }

    private static String value(String[] fields, String key) {
        for (String f : fields) {
            if (f.startsWith(key)) {
                return f.substring(key.length()); // the first: the original direction
            }
        }
        return null;
    }

    /** A {@code port=} value (decimal, 0-65535), or -1 when it is missing or not one. */
    private static int port(String digits) {
        if (digits == null || digits.isEmpty() || digits.length() > 5 || !digits.chars().allMatch(Character::isDigit)) {
            return -1;
        }
        int port = Integer.parseInt(digits);
        return port <= 65535 ? port : -1;
    }

    /**
     * The command's standard output alone. Its standard error is read apart: conntrack prints its summary there ("N
     * flow entries have been shown"), and merged into the same pipe it landed inside a table line whenever the
     * table filled more than one of the tool's output buffers.
     */
    static String run(String... command) throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(command).start();
        } catch (IOException e) {
            throw new IOException("cannot run conntrack (Debian package conntrack): " + e.getMessage(), e);
        }
        try (InputStream in = p.getInputStream(); InputStream err = p.getErrorStream()) {
            String out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            String said = new String(err.readAllBytes(), StandardCharsets.UTF_8); // one line: the pipe never fills
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("conntrack did not answer within " + TIMEOUT_SECONDS + " s");
            }
            if (p.exitValue() != 0) {
                throw new IOException("conntrack -L failed (exit " + p.exitValue() + "): " + said.strip());
            }
            return out;
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while reading conntrack's table", e);
        }
    }
}
