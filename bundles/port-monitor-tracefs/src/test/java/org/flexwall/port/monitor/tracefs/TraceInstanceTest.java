package org.flexwall.port.monitor.tracefs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.flexwall.api.port.PortActivityListener;
import org.flexwall.api.port.Protocol;
import org.flexwall.testing.Await;
import org.flexwall.testing.SystemTests;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Real tracepoints, real sockets: needs root (CI runs as root; elsewhere the tests are skipped, saying why). */
class TraceInstanceTest {
    record Activity(Protocol protocol, int port) {}

    private final BlockingQueue<Activity> seen = new LinkedBlockingQueue<>();
    record Taken(int pid, long inode) {}

    private final BlockingQueue<Taken> taken = new LinkedBlockingQueue<>();
    private TraceInstance trace;
    private Thread reader;

    @BeforeEach
    void startTracing() throws Exception {
        SystemTests.requireRoot("kernel tracepoints need root");
        trace = TraceInstance.create(TraceInstance.locate(), "flexwall-test");
        PortActivityListener to = new PortActivityListener() {
            @Override
            public void portActivity(Protocol protocol, int port) {
                seen.add(new Activity(protocol, port));
            }

            @Override
            public void socketTaken(int pid, long inode) {
                taken.add(new Taken(pid, inode));
            }
        };
        TakenSockets takenSockets = new TakenSockets();
        reader = new Thread(() -> {
            try {
                trace.read(line -> {
                    if (!takenSockets.dispatch(line, to)) {
                        TraceLine.dispatch(line, to);
                    }
                });
            } catch (Exception e) {
                seen.add(new Activity(null, -1));
            }
        });
        reader.start();
    }

    @AfterEach
    void stopTracing() throws Exception {
        if (trace != null) {
            trace.close();
            reader.join(2000);
            trace.remove();
            assertFalse(Files.exists(trace.directory()), "the test's tracefs instance is removed");
        }
    }

    @Test
    void tcpListenAndCloseAreReportedWithTheirPort() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
            awaitTcp(port, "listen() on " + port + " reported");
        }
        awaitTcp(port, "close() of the listener on " + port + " reported");
    }

    @Test
    void udpBindIsReportedWithoutAPort() throws Exception {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            Activity a = seen.poll(5, TimeUnit.SECONDS);
            while (a != null && a.protocol() != null) {
                a = seen.poll(5, TimeUnit.SECONDS);
            }
            assertEquals(new Activity(null, 0), a, "a successful bind wakes the monitor");
        }
    }

    @Test
    void anInstanceLeftByADeadProcessIsRemovedWhenANewOneIsMade() throws Exception {
        java.nio.file.Path instances = trace.directory().getParent();
        java.nio.file.Path abandoned = Files.createDirectory(instances.resolve("flexwall-other-4194303"));
        assumeTrue(ProcessHandle.of(4194303).isEmpty(), "pid 4194303 happens to be alive");

        TraceInstance second = TraceInstance.create(instances.getParent(), "flexwall-other");
        try {
            assertFalse(Files.exists(abandoned), "the dead process's instance is gone");
            assertTrue(Files.exists(second.directory()), "the new instance exists");
        } finally {
            second.close();
            second.remove();
            Files.deleteIfExists(abandoned);
        }
    }

    @Test
    void instancesInUseOrOfAnotherPidNamespaceAreLeftAlone() throws Exception {
        java.nio.file.Path instances = trace.directory().getParent();
        assumeTrue(ProcessHandle.of(4194303).isEmpty(), "pid 4194303 happens to be alive");
        // Read by an appliance in another PID namespace, where 4194303 is alive: removing it fails with EBUSY.
        java.nio.file.Path busy = Files.createDirectory(instances.resolve("flexwall-other-4194303"));
        java.nio.file.Path foreign = Files.createDirectory(instances.resolve(
                "flexwall-other-" + (TraceInstance.pidNamespace() + 1) + "-4194303"));
        TraceInstance second = null;
        try (var reading = Files.newByteChannel(busy.resolve("trace_pipe"))) {
            second = TraceInstance.create(instances.getParent(), "flexwall-other");
            assertTrue(Files.exists(busy), "an instance someone reads stays");
            assertTrue(Files.exists(foreign), "an instance of another PID namespace stays");
            assertTrue(second.directory().getFileName().toString()
                    .equals("flexwall-other-" + TraceInstance.pidNamespace() + "-" + ProcessHandle.current().pid()));
        } finally {
            if (second != null) {
                second.close();
                second.remove();
            }
            Files.deleteIfExists(busy);
            Files.deleteIfExists(foreign);
        }
    }

    /** Takes descriptor FD of process PID with pidfd_getfd, prints the new descriptor, waits for a line, exits. */
    static final String TAKER = String.join("\n",
            "import ctypes, os, sys",
            "libc = ctypes.CDLL(None, use_errno=True)",
            "pidfd = os.pidfd_open(int(sys.argv[1]))",
            "fd = libc.syscall(438, pidfd, int(sys.argv[2]), 0)",
            "print(fd if fd >= 0 else -ctypes.get_errno(), flush=True)",
            "sys.stdin.readline()");

    @Test
    void socketTakenThroughPidfdGetfdIsReportedWithTheTakerAndTheSocket() throws Exception {
        // the holder: a python process with a listening socket; the taker: another that duplicates it
        Process holder = new ProcessBuilder("python3", "-c", String.join("\n", "import socket, os, sys",
                "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()",
                "print(s.fileno(), os.fstat(s.fileno()).st_ino, flush=True)", "sys.stdin.readline()")).start();
        Process taker = null;
        try {
            String[] said = new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream()))
                    .readLine().split(" ");
            long inode = Long.parseLong(said[1]);
            taker = new ProcessBuilder("python3", "-c", TAKER, Long.toString(holder.pid()), said[0]).start();
            String fd = new java.io.BufferedReader(new java.io.InputStreamReader(taker.getInputStream())).readLine();
            assertTrue(Integer.parseInt(fd) >= 0, "pidfd_getfd worked: " + fd);

            // tracepoints see the whole machine: other processes' pidfd_getfd calls are passed over
            int takerPid = (int) taker.pid();
            Taken t = Await.value("a pidfd_getfd by the taker", Duration.ofSeconds(5), () -> {
                Taken next = taken.poll(100, TimeUnit.MILLISECONDS);
                return next != null && next.pid() == takerPid ? next : null;
            });
            assertEquals(new Taken(takerPid, inode), t, "the taker and the socket it took");
        } finally {
            holder.destroyForcibly();
            if (taker != null) {
                taker.destroyForcibly();
            }
        }
    }

    @Test
    void closingWakesTheReaderSoItStops() throws Exception {
        trace.close();
        reader.join(5000);
        assertFalse(reader.isAlive(), "the reader returns once the instance is closed");
    }

    private void awaitTcp(int port, String what) {
        Await.until(what, Duration.ofSeconds(5), () -> {
            Activity a = seen.poll(100, TimeUnit.MILLISECONDS);
            return a != null && a.protocol() == Protocol.TCP && a.port() == port;
        });
    }
}
