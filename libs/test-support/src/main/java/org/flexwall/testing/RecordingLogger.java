package org.flexwall.testing;

import java.lang.reflect.Proxy;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import org.osgi.service.log.Logger;

/** OSGi Loggers for components under test, outside a framework. */
public final class RecordingLogger {
    private static final Set<String> LEVELS = Set.of("trace", "debug", "info", "warn", "error", "audit");

    private RecordingLogger() {
    }

    /**
     * A Logger that adds each message to {@code lines} as "LEVEL message" with its {} filled in, and prints it for the
     * test report. Every level is enabled.
     */
    public static Logger into(List<String> lines) {
        return logger(line -> {
            lines.add(line);
            System.out.println(line);
        });
    }

    /** A Logger that drops everything. */
    public static Logger silent() {
        return logger(line -> {
        });
    }

    private static Logger logger(Consumer<String> sink) {
        return (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[] { Logger.class },
                (proxy, method, args) -> {
                    String name = method.getName();
                    if (name.startsWith("is")) {
                        return true;
                    }
                    switch (name) {
                        case "getName": return "test";
                        case "toString": return "RecordingLogger";
                        case "hashCode": return System.identityHashCode(proxy);
                        case "equals": return proxy == args[0];
                        default: break;
                    }
                    if (!LEVELS.contains(name) || args == null || !(args[0] instanceof String format)) {
                        return null;
                    }
                    sink.accept(name.toUpperCase() + " " + format(format, values(args)));
                    return null;
                });
    }

    private static Object[] values(Object[] args) {
        // log(String, Object...) arrives as one Object[]
        return args.length == 2 && args[1] instanceof Object[] v ? v : Arrays.copyOfRange(args, 1, args.length);
    }

    private static String format(String format, Object[] values) {
        StringBuilder b = new StringBuilder();
        int from = 0;
        for (Object value : values) {
            int at = format.indexOf("{}", from);
            if (at < 0) {
                break;
            }
            b.append(format, from, at).append(value);
            from = at + 2;
        }
        return b.append(format.substring(from)).toString();
    }
}
