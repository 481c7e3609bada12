package org.flexwall.hook.pcap;

import java.lang.reflect.Proxy;
import java.util.Arrays;
import java.util.Map;

import org.flexwall.testing.Await;
import org.osgi.service.log.Logger;

/**
 * Runs the hook outside OSGi in a JVM of its own, in bridge mode between the interfaces given, and prints its problem
 * and status once it has tried to open them, then what it logged. For {@link CapturePermissionSystemTest}, which
 * starts it without the right to capture.
 */
public final class CaptureProbe {
    private CaptureProbe() {}

    public static void main(String[] args) throws Exception {
        StringBuilder logged = new StringBuilder();
        Logger log = (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[] { Logger.class },
                (proxy, method, a) -> {
                    if (method.getName().equals("error") || method.getName().equals("warn")
                            || method.getName().equals("info")) {
                        logged.append(method.getName()).append(": ").append(a[0]);
                        for (int i = 1; i < a.length; i++) {
                            logged.append(" | ").append(a[i] instanceof Object[] o ? Arrays.toString(o) : a[i]);
                        }
                        logged.append('\n');
                    }
                    return method.getReturnType() == boolean.class ? Boolean.TRUE : null;
                });
        Map<String, Object> values = Map.of("mode", "bridge", "outsideInterface", args[0], "insideInterface", args[1]);
        PcapHook.Config config = (PcapHook.Config) Proxy.newProxyInstance(PcapHook.Config.class.getClassLoader(),
                new Class<?>[] { PcapHook.Config.class },
                (proxy, method, a) -> values.getOrDefault(method.getName(), method.getDefaultValue()));
        PcapHook hook = new PcapHook(log);
        hook.activate(config);
        Await.until("the hook trying its interfaces", Await.DEFAULT,
                () -> !hook.problem().orElse("").endsWith("not started"), () -> "problem: " + hook.problem());
        System.out.println("problem: " + hook.problem().orElse("(none)"));
        System.out.println("status: " + hook.status());
        hook.deactivate();
        System.out.print(logged);
    }
}
