package org.flexwall.hook.nfqueue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ThreadFactory;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

/**
 * Two network namespaces joined by a veth pair, made by a test and always removed: "client" (10.77.x.1, fd77:x::1)
 * sends, "server" (10.77.x.2, fd77:x::2) runs the queue. Names start with {@code fwq-} and a random part.
 */
final class Netns implements AutoCloseable {
    final String client;
    final String server;
    final String clientV4;
    final String serverV4;
    final String clientV6;
    final String serverV6;
    private final List<Process> processes = new ArrayList<>();

    private Netns(String prefix, int subnet) {
        client = prefix + "-c";
        server = prefix + "-s";
        clientV4 = "10.77." + subnet + ".1";
        serverV4 = "10.77." + subnet + ".2";
        clientV6 = "fd77:" + Integer.toHexString(subnet) + "::1";
        serverV6 = "fd77:" + Integer.toHexString(subnet) + "::2";
    }

    /** Whether this process runs as root (system tests need it). */
    static boolean root() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.split("\\s+")[2].equals("0");
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    static Netns create() throws IOException {
        Random r = new Random();
        String prefix = "fwq-" + Integer.toHexString(r.nextInt(0x1000000) | 0x1000000).substring(1);
        Netns n = new Netns(prefix, 1 + r.nextInt(250));
        try {
            n.setUp();
            return n;
        } catch (IOException | RuntimeException e) {
            n.close();
            throw e;
        }
    }

    private void setUp() throws IOException {
        sh("ip", "netns", "add", client);
        sh("ip", "netns", "add", server);
        sh("ip", "link", "add", "fwq0", "netns", client, "type", "veth", "peer", "name", "fwq1", "netns", server);
        in(client, "ip", "addr", "add", clientV4 + "/24", "dev", "fwq0");
        in(server, "ip", "addr", "add", serverV4 + "/24", "dev", "fwq1");
        in(client, "ip", "addr", "add", clientV6 + "/64", "dev", "fwq0", "nodad");
        in(server, "ip", "addr", "add", serverV6 + "/64", "dev", "fwq1", "nodad");
        for (String ns : List.of(client, server)) {
            in(ns, "ip", "link", "set", "lo", "up");
        }
        in(client, "ip", "link", "set", "fwq0", "up");
        in(server, "ip", "link", "set", "fwq1", "up");
    }

    /** Commands that run inside {@code ns}. */
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

    /** Starts a long-running process in {@code ns}; it is killed on close. */
    Process start(String ns, String... argv) throws IOException {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        command.addAll(List.of(argv));
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        processes.add(p);
        return p;
    }

    private static void sh(String... argv) throws IOException {
        Commands.Result r = new Commands(List.of()).run(List.of(argv), null);
        if (!r.ok()) {
            throw new IOException(String.join(" ", argv) + " exited with " + r.exit() + ": " + r.output());
        }
    }

    /** Runs {@code task} on a fresh thread that has entered {@code ns}; sockets it opens belong to {@code ns}. */
    static <T> T call(String ns, Callable<T> task) throws Exception {
        FutureTask<T> f = new FutureTask<>(() -> {
            enter(ns);
            return task.call();
        });
        Thread t = new Thread(f, "in-" + ns);
        t.start();
        try {
            return f.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
        }
    }

    /** Threads that enter {@code ns} before they run anything. */
    static ThreadFactory threadsIn(String ns) {
        return r -> {
            Thread t = new Thread(() -> {
                try {
                    enter(ns);
                } catch (IOException | RuntimeException | Error e) {
                    e.printStackTrace(); // a worker outside the namespace must not run: it would touch the host
                    return;
                }
                r.run();
            }, "in-" + ns);
            t.setDaemon(true);
            return t;
        };
    }

    /** Moves the calling thread into the network namespace {@code ns} (setns is per thread). */
    static void enter(String ns) throws IOException {
        int fd;
        try {
            fd = Ns.open("/var/run/netns/" + ns, 0x80000 /* O_RDONLY | O_CLOEXEC */);
        } catch (LastErrorException e) {
            throw new IOException("cannot open namespace " + ns + ": errno " + e.getErrorCode(), e);
        }
        try {
            Ns.setns(fd, 0x40000000 /* CLONE_NEWNET */);
        } catch (LastErrorException e) {
            throw new IOException("cannot enter namespace " + ns + ": errno " + e.getErrorCode(), e);
        } finally {
            Ns.close(fd);
        }
    }

    @Override
    public void close() {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (String ns : List.of(client, server)) {
            try {
                // killing what still runs in the namespace frees it; the veth pair goes with it
                new Commands(List.of()).run(List.of("ip", "netns", "pids", ns), null).output().lines()
                        .filter(s -> !s.isBlank()).forEach(pid -> ProcessHandle.of(Long.parseLong(pid.trim()))
                                .ifPresent(ProcessHandle::destroyForcibly));
                new Commands(List.of()).run(List.of("ip", "netns", "del", ns), null);
            } catch (IOException | RuntimeException e) {
                System.err.println("could not remove namespace " + ns + ": " + e);
            }
        }
    }

    /** setns(2) and friends, for tests only. */
    private static final class Ns {
        static {
            Native.register(Ns.class, NativeLibrary.getInstance("c"));
        }

        static native int open(String path, int flags) throws LastErrorException;

        static native int setns(int fd, int nstype) throws LastErrorException;

        static native int close(int fd);
    }
}
