package org.flexwall.hook.pcap;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

/**
 * Runs code in a network namespace of {@code ip netns}: on a thread of its own that enters it (setns) and ends after.
 * A packet socket belongs to the namespace of the thread that made it, and keeps working from any thread later.
 */
final class Netns {
    private static final int O_RDONLY_CLOEXEC = 0x80000, CLONE_NEWNET = 0x40000000;

    private Netns() {}

    /** {@code work}'s result, computed in namespace {@code name}; in this thread's own when {@code name} is empty. */
    static <T> T call(String name, Callable<T> work) throws Exception {
        if (name.isEmpty()) {
            return work.call();
        }
        FutureTask<T> task = new FutureTask<>(() -> {
            enter(name);
            return work.call();
        });
        Thread t = new Thread(task, "flexwall-pcap-netns-" + name);
        t.setDaemon(true);
        t.start();
        try {
            return task.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception x ? x : new IllegalStateException(e.getCause());
        }
    }

    private static void enter(String name) throws IOException {
        Path target = Path.of("/run/netns", name);
        if (!Files.exists(target)) {
            throw new IOException("network namespace " + name + " does not exist (no " + target + ")");
        }
        try {
            int fd = Libc.open(target.toString(), O_RDONLY_CLOEXEC);
            try {
                Libc.setns(fd, CLONE_NEWNET);
            } finally {
                Libc.close(fd);
            }
        } catch (LastErrorException e) {
            throw new IOException("cannot enter network namespace " + name + " (" + e.getMessage() + ")", e);
        }
        if (!Files.getAttribute(Path.of("/proc/thread-self/ns/net"), "unix:ino")
                .equals(Files.getAttribute(target, "unix:ino"))) {
            throw new IOException("this thread did not enter network namespace " + name);
        }
    }

    /** libc through JNA direct mapping. */
    static final class Libc {
        static {
            Native.register(Libc.class, NativeLibrary.getInstance("c"));
        }

        private Libc() {}

        static native int open(String path, int flags) throws LastErrorException;

        static native int setns(int fd, int nstype) throws LastErrorException;

        static native int close(int fd);
    }
}
