package org.flexwall.hook.nftables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

import org.flexwall.testing.Await;
import org.flexwall.testing.Commands;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

/**
 * The built bundle in a real Felix with SCR and ConfigAdmin, as in the appliance: configured through ConfigAdmin, the
 * component activates by itself, applies the baseline, renders the table of the real packet-bypass bundle (told by the
 * port store's calls, as the store makes them) into its sets, empties them when packet bypass stops, and its table
 * stays when the framework stops. The framework runs on a thread that entered the lab's
 * appliance namespace, so every thread it makes, and every nft it runs, acts there and never on this machine's own
 * ruleset.
 */
@Tag("system")
class OsgiBundleIT {
    private static final List<String> BUNDLES = List.of("org.osgi.util.function", "org.osgi.util.promise",
            "org.osgi.service.component-", "org.osgi.service.log", "org.apache.felix.log", "org.apache.felix.scr",
            "org.apache.felix.configadmin", "jna-", "flexwall-api", "flexwall-packet-bypass");

    @TempDir
    Path cache;

    @Test
    void bundleInFelixAppliesTheConfiguredBaselineAndRendersPacketBypassUntilItStops() throws Exception {
        Lab.require("nft", "socat", "ss");
        Path jar = Files.list(Path.of("target")).filter(p -> p.getFileName().toString()
                .matches("flexwall-hook-nftables-.*\\.jar") && !p.toString().contains("sources")).findFirst()
                .orElseThrow(() -> new AssertionError("run `mvn package` first: no bundle jar in target"));
        try (Lab lab = Lab.create()) {
            lab.verifiedTcpEcho(lab.appliance, 8443); // its socket marked as the port store would
            lab.tcpEcho(lab.appliance, 22);
            inNamespace(lab.appliance, () -> {
                Framework f = ServiceLoader.load(FrameworkFactory.class).iterator().next().newFramework(Map.of(
                        "org.osgi.framework.storage", cache.toString(),
                        "org.osgi.framework.storage.clean", "onFirstInit",
                        // as the launcher does: the JSON API on the class path (the drop record reads nft -j)
                        "org.osgi.framework.system.packages.extra",
                        "jakarta.json;version=2.1.3,jakarta.json.spi;version=2.1.3,jakarta.json.stream;version=2.1.3"));
                f.start();
                try {
                    runIn(f.getBundleContext(), jar, lab);
                } finally {
                    f.stop();
                    f.waitForStop(10_000);
                }
                return null;
            });
            // the framework is gone; the kernel keeps the table and its ports
            assertTrue(Commands.ok(lab.appliance, "nft", "list", "set", "inet", "flexwall", "permitted4")
                    .contains("tcp . 8443"));
            assertTrue(lab.connects(lab.outside, lab.applianceV4, 8443));
            assertTrue(lab.blocked(lab.outside, lab.applianceV4, 22), "anti-lockout was configured off");
        }
    }

    private void runIn(BundleContext ctx, Path jar, Lab lab) throws Exception {
        List<String> classpath = Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator));
        List<Bundle> installed = new ArrayList<>();
        for (String name : BUNDLES) {
            String path = classpath.stream().filter(e -> new File(e).getName().startsWith(name)).findFirst()
                    .orElseThrow(() -> new AssertionError(name + " is not on the test class path"));
            installed.add(ctx.installBundle(new File(path).toURI().toString()));
        }
        for (Bundle b : installed) {
            b.start();
        }
        Bundle api = installed.get(BUNDLES.indexOf("flexwall-api"));

        // configuration first, as the appliance's Configurator would: anti-lockout off
        Object cm = service(ctx, "org.osgi.service.cm.ConfigurationAdmin");
        Object conf = call(cm, "getConfiguration", NftablesHook.PID, "?");
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("antiLockout", false);
        props.put("sshPort", 22);
        call(conf, "update", props);

        // a port store service (typed by the api bundle); its calls to packet bypass, below, open tcp 8443
        Class<?> storeType = api.loadClass("org.flexwall.api.port.PortStore");
        Object entry = permittedPort(api, 8443);
        ctx.registerService(storeType.getName(), Proxy.newProxyInstance(storeType.getClassLoader(),
                new Class<?>[] { storeType }, (p, m, args) -> switch (m.getName()) {
                    case "permitted", "refused" -> m.getName().equals("permitted") ? List.of(entry) : List.of();
                    case "permitNow" -> false;
                    case "hashCode" -> System.identityHashCode(p);
                    case "equals" -> p == args[0];
                    default -> "stand-in port store";
                }), null);

        Bundle hook = ctx.installBundle(jar.toUri().toString());
        hook.start();
        Object packetHook = service(ctx, "org.flexwall.api.packet.PacketHook");
        assertEquals("nftables", call(packetHook, "name"));
        Object hookService = packetHook;
        // the store tells packet bypass (its PortStoreListener), which tells the hook
        Object portKey = portKey(api, 8443);
        call(service(ctx, "org.flexwall.api.port.PortStoreListener"), "snapshot", Set.of(portKey));
        Lab.await(() -> status(hookService).startsWith("baseline active, 1 permitted ports, anti-lockout: off"),
                "status: " + status(hookService));
        assertEquals(Bundle.ACTIVE, hook.getState());
        assertTrue(lab.connects(lab.outside, lab.applianceV4, 8443));
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, 22));

        // packet bypass stops: nobody keeps its table true, so the sets admit nothing until it is back
        Bundle bypass = installed.get(BUNDLES.indexOf("flexwall-packet-bypass"));
        bypass.stop();
        Lab.await(() -> status(hookService).startsWith("baseline active, 0 permitted ports"),
                "status: " + status(hookService));
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, 8443));
        bypass.start();
        call(service(ctx, "org.flexwall.api.port.PortStoreListener"), "snapshot", Set.of(portKey)); // the store's
        Lab.await(() -> status(hookService).startsWith("baseline active, 1 permitted ports"),
                "status: " + status(hookService));
        assertTrue(lab.connects(lab.outside, lab.applianceV4, 8443));
    }

    /** The service of {@code type}, waiting up to 10 s for it (bundles register theirs asynchronously). */
    private static Object service(BundleContext ctx, String type) throws Exception {
        ServiceReference<?>[] refs = Await.value("a " + type + " service", Await.DEFAULT,
                () -> ctx.getAllServiceReferences(type, null));
        return ctx.getService(refs[0]);
    }

    private static String status(Object hook) {
        try {
            return (String) call(hook, "status");
        } catch (Exception e) {
            return e.toString();
        }
    }

    private static Object permittedPort(Bundle api, int port) throws Exception {
        Class<?> program = api.loadClass("org.flexwall.api.program.TrustedProgram");
        Object socat = program.getConstructor(String.class, Path.class, String.class, String.class, Instant.class,
                boolean.class).newInstance("socat", Path.of("/usr/bin/socat"), "0".repeat(64), "0".repeat(32),
                Instant.now(), false);
        Object tcp = enumValue(api, "org.flexwall.api.port.Protocol", "TCP");
        Object v4 = enumValue(api, "org.flexwall.api.port.AddressFamily", "IPV4");
        return api.loadClass("org.flexwall.api.port.PermittedPort").getConstructors()[0].newInstance(socat, tcp, v4,
                port, 4242L, List.of(), Instant.now());
    }

    private static Object portKey(Bundle api, int port) throws Exception {
        Object tcp = enumValue(api, "org.flexwall.api.port.Protocol", "TCP");
        Object v4 = enumValue(api, "org.flexwall.api.port.AddressFamily", "IPV4");
        return api.loadClass("org.flexwall.api.port.PortKey").getConstructors()[0].newInstance(tcp, v4, port);
    }

    @SuppressWarnings({ "unchecked", "rawtypes" })
    private static Object enumValue(Bundle api, String type, String name) throws Exception {
        return Enum.valueOf((Class<? extends Enum>) api.loadClass(type), name);
    }

    /** Calls the public method {@code name} whose parameter count matches, through its interface. */
    private static Object call(Object target, String name, Object... args) throws Exception {
        for (Class<?> type : target.getClass().getInterfaces()) {
            for (Method m : type.getMethods()) {
                if (m.getName().equals(name) && m.getParameterCount() == args.length) {
                    return m.invoke(target, args);
                }
            }
        }
        for (Method m : target.getClass().getMethods()) {
            if (m.getName().equals(name) && m.getParameterCount() == args.length) {
                return m.invoke(target, args);
            }
        }
        throw new NoSuchMethodException(name);
    }

    /**
     * Runs {@code task} on a new thread that first moves into network namespace {@code ns}; threads it starts stay
     * there, as do programs they run. Refuses to run the task if the move did not happen.
     */
    private static <T> T inNamespace(String ns, Callable<T> task) throws Exception {
        FutureTask<T> f = new FutureTask<>(() -> {
            Path target = Path.of("/var/run/netns/" + ns);
            int fd = Ns.open(target.toString(), 0x80000 /* O_RDONLY | O_CLOEXEC */);
            try {
                Ns.setns(fd, 0x40000000 /* CLONE_NEWNET */);
            } finally {
                Ns.close(fd);
            }
            Object here = Files.getAttribute(Path.of("/proc/thread-self/ns/net"), "unix:ino");
            Object there = Files.getAttribute(target, "unix:ino");
            if (!here.equals(there)) {
                throw new IllegalStateException("setns did not move the thread into " + ns);
            }
            return task.call();
        });
        Thread t = new Thread(f, "in-" + ns);
        t.start();
        try {
            return f.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception ex ? ex : e;
        }
    }

    /** setns(2) and friends, for this test only. */
    private static final class Ns {
        static {
            Native.register(Ns.class, NativeLibrary.getInstance("c"));
        }

        static native int open(String path, int flags) throws LastErrorException;

        static native int setns(int fd, int nstype) throws LastErrorException;

        static native int close(int fd);
    }
}
