package org.flexwall.osgitests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.flexwall.api.port.PortEvent;
import org.flexwall.api.port.PortEventListener;
import org.flexwall.api.port.PortMonitor;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.ServiceRegistration;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The socket-diag port monitor as shipped, in the appliance's framework with JNA as a bundle of its own: its component
 * activates by itself, registers PortMonitor with flexwall.monitor=sockdiag and tells a PortEventListener service
 * about a real socat listener, with the listener's pid.
 */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class PortMonitorInTheApplianceTest {
    @InjectBundleContext
    BundleContext context;

    @Test
    void theSockdiagMonitorActivatesAndReportsARealListenerWithItsProcess(
            @InjectService(filter = "(flexwall.monitor=sockdiag)", timeout = 20_000) PortMonitor monitor)
            throws Exception {
        Bundle bundle = FrameworkUtil.getBundle(monitor.getClass());
        assertEquals("org.flexwall.port-monitor-sockdiag", bundle.getSymbolicName());
        assertEquals(Bundle.ACTIVE, bundle.getState());

        BlockingQueue<PortEvent> events = new LinkedBlockingQueue<>();
        ServiceRegistration<PortEventListener> registration = context.registerService(PortEventListener.class,
                events::add, null);
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Process socat = new ProcessBuilder("socat", "-u", "TCP4-LISTEN:" + port + ",bind=127.0.0.1", "STDOUT")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            PortEvent event;
            long self = ProcessHandle.current().pid();
            do { // events for other sockets come first: the start-up snapshot, the framework's own, and this JVM's
                // socket that found the free port, which the monitor may see listening before it closes
                event = events.poll(20, TimeUnit.SECONDS);
                assertNotNull(event, "no event for the socat listener on " + port + " within 20 s");
            } while (event.socket().port() != port || event.socket().owners().stream().allMatch(o -> o.pid() == self));
            assertEquals(PortEvent.Kind.OPEN, event.kind(), event.toString());
            assertTrue(event.socket().owners().stream().anyMatch(o -> o.pid() == socat.pid()), event.toString());
        } finally {
            socat.destroyForcibly();
            registration.unregister();
        }
    }
}
