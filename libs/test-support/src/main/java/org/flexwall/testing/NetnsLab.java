package org.flexwall.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

/**
 * Network namespaces made by a test, joined by veth pairs, and always removed with whatever runs in them. Names are
 * {@code <prefix>-<6 random hex digits>-<suffix>}, so tests running at once never meet; {@link #subnet} is a random
 * number in 1..250 for the addresses a test gives its links. A topology (the itests' outside network, the nftables
 * hook's three-namespace lab, the queue's client and server) is built from these steps.
 */
public class NetnsLab implements AutoCloseable {
    /** The random part shared by this lab's namespace names. */
    public final String name;
    /** A random number in 1..250 for this lab's addresses (10.x.subnet.y, fdxx:subnet::y). */
    public final int subnet;
    private final List<String> namespaces = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();

    /** An empty lab whose namespaces will be named {@code <prefix>-<random>-<suffix>}. */
    public NetnsLab(String prefix) {
        Random r = new Random();
        this.name = prefix + "-" + Integer.toHexString(0x1000000 | r.nextInt(0x1000000)).substring(1);
        this.subnet = 1 + r.nextInt(250);
    }

    /** Makes the namespace {@code <name>-<suffix>} with its loopback up; it is removed on close. */
    public String namespace(String suffix) throws IOException {
        String ns = name + "-" + suffix;
        Commands.ok(null, "ip", "netns", "add", ns);
        namespaces.add(ns);
        Commands.ok(ns, "ip", "link", "set", "lo", "up");
        return ns;
    }

    /**
     * Joins {@code nsA} and {@code nsB} (null: this process's namespace) by a veth pair, {@code devA} in the one and
     * {@code devB} in the other; both ends are left down, without addresses. It goes when either namespace goes.
     */
    public void veth(String nsA, String devA, String nsB, String devB) throws IOException {
        List<String> argv = new ArrayList<>(List.of("ip", "link", "add", devA));
        if (nsA != null) {
            argv.addAll(List.of("netns", nsA));
        }
        argv.addAll(List.of("type", "veth", "peer", "name", devB));
        if (nsB != null) {
            argv.addAll(List.of("netns", nsB));
        }
        Commands.ok(null, argv.toArray(String[]::new));
    }

    /** Gives {@code dev} in {@code ns} the address {@code cidr} (IPv6 without duplicate address detection). */
    public void address(String ns, String dev, String cidr) throws IOException {
        if (cidr.contains(":")) {
            Commands.ok(ns, "ip", "addr", "add", cidr, "dev", dev, "nodad");
        } else {
            Commands.ok(ns, "ip", "addr", "add", cidr, "dev", dev);
        }
    }

    /** Brings {@code dev} in {@code ns} up. */
    public void up(String ns, String dev) throws IOException {
        Commands.ok(ns, "ip", "link", "set", dev, "up");
    }

    /** Runs a command in {@code ns} and waits for it, whatever its exit. */
    public Commands.Result run(String ns, String... argv) throws IOException {
        return Commands.run(ns, null, argv);
    }

    /** Runs a command in {@code ns}; its output, or an IOException unless it exits with 0. */
    public String ok(String ns, String... argv) throws IOException {
        return Commands.ok(ns, argv);
    }

    /** Starts a long-running command in {@code ns}, output discarded; it is killed on close. */
    public Process start(String ns, String... argv) throws IOException {
        return track(new ProcessBuilder(Commands.command(ns, argv)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
    }

    /** Starts a long-running command in {@code ns}, output (and errors) to {@code output}; it is killed on close. */
    public Process start(String ns, Path output, String... argv) throws IOException {
        return track(new ProcessBuilder(Commands.command(ns, argv)).redirectErrorStream(true)
                .redirectOutput(output.toFile()).start());
    }

    /** Kills {@code p} and its descendants on close. */
    public Process track(Process p) {
        processes.add(p);
        return p;
    }

    /** Runs {@code task} on a fresh thread that has entered {@code ns}; sockets it opens belong to {@code ns}. */
    public static <T> T call(String ns, Callable<T> task) throws Exception {
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

    /** Daemon threads that enter {@code ns} before they run anything. */
    public static ThreadFactory threadsIn(String ns) {
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
    public static void enter(String ns) throws IOException {
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

    /** Kills the processes started here and everything left in this lab's namespaces, then deletes the namespaces. */
    @Override
    public void close() {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (String ns : namespaces) {
            try {
                // whatever still runs in the namespace keeps it alive: end it, then delete the namespace
                Commands.run(null, null, "ip", "netns", "pids", ns).output().lines().filter(s -> s.matches("\\d+"))
                        .forEach(pid -> ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly));
                Commands.run(null, null, "ip", "netns", "del", ns); // takes its veth pairs with it
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
