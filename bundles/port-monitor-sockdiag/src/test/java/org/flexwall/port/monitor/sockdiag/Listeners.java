package org.flexwall.port.monitor.sockdiag;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.Protocol;
import org.flexwall.testing.Await;

/** Real listeners for the tests: socat (or another program) started as a child process, stopped by close(). */
final class Listeners {
    static final Path SOCAT = Path.of("/usr/bin/socat");

    private Listeners() {}

    /** A child process listening on one port. */
    static final class Listener implements AutoCloseable {
        final Process process;
        final Protocol protocol;
        final int port;

        Listener(Process process, Protocol protocol, int port) {
            this.process = process;
            this.protocol = protocol;
            this.port = port;
        }

        int pid() {
            return (int) process.pid();
        }

        @Override
        public void close() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /**
     * socat listening with {@code address}, e.g. "TCP4-LISTEN:%d,bind=127.0.0.1" (the %d becomes a free port),
     * waited for until the kernel lists its socket.
     */
    static Listener socat(Path program, Protocol protocol, String address) throws Exception {
        return socat(List.of(), program, protocol, address);
    }

    /** As {@link #socat(Path, Protocol, String)}, behind a command prefix such as "ip netns exec NAME". */
    static Listener socat(List<String> prefix, Path program, Protocol protocol, String address) throws Exception {
        return socat(prefix, program, protocol, address, freePort(protocol), null);
    }

    /** socat on a given port, waited for until a socket on that port and local address {@code expect} is listed. */
    static Listener socat(Path program, Protocol protocol, String address, int port, String expect) throws Exception {
        return socat(List.of(), program, protocol, address, port, expect);
    }

    private static Listener socat(List<String> prefix, Path program, Protocol protocol, String address, int port,
            String expect) throws Exception {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(program.toString());
        cmd.add("-u");
        cmd.add(String.format(address, port));
        cmd.add("STDOUT");
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        Listener l = new Listener(p, protocol, port);
        if (prefix.isEmpty()) {
            try (SocketScanner s = new SocketScanner()) {
                awaitSocket(s, x -> x.protocol() == protocol && x.port() == port
                        && (expect == null || x.addressText().equals(expect)));
            } catch (Exception | AssertionError e) {
                l.close();
                throw e;
            }
        }
        return l;
    }

    static ListeningSocket awaitSocket(SocketScanner scanner, Predicate<ListeningSocket> which) throws Exception {
        return Await.value("such a socket", Await.DEFAULT,
                () -> scanner.scan().stream().filter(which).findFirst().orElse(null));
    }

    static void awaitGone(SocketScanner scanner, long inode) throws Exception {
        Await.until("socket " + inode + " no longer listed",
                () -> scanner.scan().stream().noneMatch(s -> s.inode() == inode));
    }

    static int freePort(Protocol protocol) throws IOException {
        if (protocol == Protocol.TCP) {
            try (ServerSocket s = new ServerSocket(0)) {
                return s.getLocalPort();
            }
        }
        try (DatagramSocket s = new DatagramSocket(0)) {
            return s.getLocalPort();
        }
    }

    static ListeningSocket only(List<ListeningSocket> sockets, Protocol protocol, AddressFamily family, int port) {
        List<ListeningSocket> m = sockets.stream()
                .filter(s -> s.protocol() == protocol && s.family() == family && s.port() == port).toList();
        if (m.size() != 1) {
            throw new AssertionError("expected one " + protocol + " " + family + " socket on " + port + ", got " + m);
        }
        return m.get(0);
    }

    /** Field 22 of /proc/PID/stat, read independently of the code under test. */
    static long startTimeOf(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19]);
    }

    static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    /**
     * The owner a resolver must report for an untampered process: its start time, image, hash, and its real uid and
     * systemd unit read here from /proc/PID/status and /proc/PID/cgroup.
     */
    static org.flexwall.api.port.SocketOwner owner(long pid, Path exe, String sha) throws IOException {
        Path proc = Path.of("/proc/" + pid);
        String uid = Files.readAllLines(proc.resolve("status")).stream().filter(l -> l.startsWith("Uid:"))
                .findFirst().orElseThrow().split("\\s+")[1];
        String unit = java.util.Arrays.stream(Files.readString(proc.resolve("cgroup")).split("\n"))
                .filter(l -> l.startsWith("0::")).flatMap(l -> java.util.Arrays.stream(l.substring(3).split("/")))
                .filter(part -> part.endsWith(".service")).findFirst().orElse(null);
        return new org.flexwall.api.port.SocketOwner((int) pid, startTimeOf(pid), exe, sha, Integer.parseInt(uid),
                unit, null, false);
    }
}
