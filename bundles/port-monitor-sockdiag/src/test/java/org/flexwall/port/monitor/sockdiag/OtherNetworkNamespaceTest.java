package org.flexwall.port.monitor.sockdiag;

import static org.flexwall.port.monitor.sockdiag.Listeners.SOCAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A socat in a network namespace of its own (made with iproute2's `ip netns`) listens where flexwall's packets never
 * arrive: the monitor must not report it, although its process is visible in /proc.
 */
class OtherNetworkNamespaceTest {
    private static final String NETNS = "fwtest-sockdiag-" + ProcessHandle.current().pid();
    private static Listeners.Listener listener;

    @BeforeAll
    static void listenInAnotherNamespace() throws Exception {
        run("ip", "netns", "add", NETNS);
        listener = Listeners.socat(List.of("ip", "netns", "exec", NETNS), SOCAT, Protocol.TCP,
                "TCP4-LISTEN:%d,bind=0.0.0.0");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!run("ip", "netns", "exec", NETNS, "ss", "-Htln", "sport = :" + listener.port).contains(":")) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("socat did not start listening in " + NETNS);
            }
            Thread.sleep(10);
        }
    }

    @AfterAll
    static void removeNamespace() throws Exception {
        if (listener != null) {
            listener.close();
        }
        run("ip", "netns", "delete", NETNS);
    }

    @Test
    void socketInAnotherNetworkNamespaceIsNotSeen() throws Exception {
        SockDiagPortMonitor monitor = new SockDiagPortMonitor(SockDiagPortMonitorTest.logger(new ArrayList<>()));
        monitor.start(3_600_000, 1000);
        try {
            assertTrue(monitor.listening().stream().noneMatch(s -> s.port() == listener.port));
            assertEquals(Optional.empty(), monitor.ownerOf(Protocol.TCP, AddressFamily.IPV4, listener.port));
        } finally {
            monitor.deactivate();
        }
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }
}
