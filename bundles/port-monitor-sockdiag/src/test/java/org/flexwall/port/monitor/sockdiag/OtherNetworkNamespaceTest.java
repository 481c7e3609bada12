package org.flexwall.port.monitor.sockdiag;

import static org.flexwall.port.monitor.sockdiag.Listeners.SOCAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Optional;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.flexwall.testing.Await;
import org.flexwall.testing.Commands;
import org.flexwall.testing.NetnsLab;
import org.flexwall.testing.RecordingLogger;
import org.flexwall.testing.SystemTests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A socat in a network namespace of its own (made with iproute2's `ip netns`) listens where flexwall's packets never
 * arrive: the monitor must not report it, although its process is visible in /proc.
 */
class OtherNetworkNamespaceTest {
    private static NetnsLab lab;
    private static Listeners.Listener listener;

    @BeforeAll
    static void listenInAnotherNamespace() throws Exception {
        SystemTests.requireRootAndTools("ip", "ss");
        lab = new NetnsLab("fwts");
        String ns = lab.namespace("sockdiag");
        listener = Listeners.socat(Commands.command(ns), SOCAT, Protocol.TCP, "TCP4-LISTEN:%d,bind=0.0.0.0");
        Await.until("socat listening in " + ns,
                () -> lab.ok(ns, "ss", "-Htln", "sport = :" + listener.port).contains(":"));
    }

    @AfterAll
    static void removeNamespace() throws Exception {
        if (listener != null) {
            listener.close();
        }
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void socketInAnotherNetworkNamespaceIsNotSeen() throws Exception {
        SockDiagPortMonitor monitor = new SockDiagPortMonitor(RecordingLogger.into(new ArrayList<>()));
        monitor.start(3_600_000, 1000);
        try {
            assertTrue(monitor.listening().stream().noneMatch(s -> s.port() == listener.port));
            assertEquals(Optional.empty(), monitor.ownerOf(Protocol.TCP, AddressFamily.IPV4, listener.port));
        } finally {
            monitor.deactivate();
        }
    }
}
