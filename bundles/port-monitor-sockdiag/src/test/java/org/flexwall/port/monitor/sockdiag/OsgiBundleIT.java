package org.flexwall.port.monitor.sockdiag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

/**
 * The built bundle in a real Felix with SCR and JNA as a bundle of its own (as in the appliance): the component
 * activates by itself, registers PortMonitor with flexwall.monitor=sockdiag and sends a start-up OPEN for a real
 * socat listener to a PortEventListener service. Runs after `package` (failsafe), on the bundle jar itself.
 */
class OsgiBundleIT {
    private static final List<String> BUNDLES = List.of("org.osgi.util.function", "org.osgi.util.promise",
            "org.osgi.service.component-", "org.osgi.service.log", "org.apache.felix.log", "org.apache.felix.scr",
            "flexwall-api", "jna-5");

    @TempDir
    Path cache;

    @Test
    void bundleActivatesInFelixWithJnaAsABundleAndReportsAListener() throws Exception {
        Path jar = Files.list(Path.of("target")).filter(p -> p.getFileName().toString()
                .matches("flexwall-port-monitor-sockdiag-.*\\.jar") && !p.toString().contains("sources"))
                .findFirst().orElseThrow(() -> new AssertionError("run `mvn package` first: no bundle jar in target"));
        List<String> classpath = Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator));
        Framework f = ServiceLoader.load(FrameworkFactory.class).iterator().next().newFramework(Map.of(
                "org.osgi.framework.storage", cache.toString(), "org.osgi.framework.storage.clean", "onFirstInit"));
        f.start();
        try (Listeners.Listener l = Listeners.socat(Listeners.SOCAT, org.flexwall.api.port.Protocol.TCP,
                "TCP4-LISTEN:%d,bind=127.0.0.1")) {
            BundleContext ctx = f.getBundleContext();
            List<Bundle> installed = new ArrayList<>();
            for (String name : BUNDLES) {
                String path = classpath.stream().filter(e -> new File(e).getName().startsWith(name)).findFirst()
                        .orElseThrow(() -> new AssertionError(name + " is not on the test class path"));
                installed.add(ctx.installBundle(new File(path).toURI().toString()));
            }
            Bundle monitor = ctx.installBundle(jar.toUri().toString());
            installed.add(monitor);
            for (Bundle b : installed) {
                b.start();
            }
            // A PortEventListener service, typed by the api bundle's class, registered before anyone asks.
            Bundle api = installed.get(BUNDLES.indexOf("flexwall-api"));
            Class<?> listener = api.loadClass("org.flexwall.api.port.PortEventListener");
            LinkedBlockingQueue<String> events = new LinkedBlockingQueue<>();
            ctx.registerService(listener.getName(), Proxy.newProxyInstance(listener.getClassLoader(),
                    new Class<?>[] { listener }, (p, m, args) -> {
                        if (m.getName().equals("portEvent")) {
                            events.add(String.valueOf(args[0]));
                        }
                        return null;
                    }), null);

            String wanted = "port=" + l.port + ",";
            String event;
            do {
                event = events.poll(20, TimeUnit.SECONDS);
                assertNotNull(event, "no event for the socat listener on " + l.port + " within 20 s");
            } while (!event.contains(wanted));
            assertTrue(event.startsWith("PortEvent[kind=OPEN"), event);
            assertTrue(event.contains("pid=" + l.pid() + ","), event);

            ServiceReference<?>[] refs = ctx.getAllServiceReferences("org.flexwall.api.port.PortMonitor",
                    "(flexwall.monitor=sockdiag)");
            assertEquals(1, refs.length);
            assertEquals(Bundle.ACTIVE, monitor.getState());
        } finally {
            f.stop();
            f.waitForStop(10_000);
        }
    }
}
