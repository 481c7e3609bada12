package org.flexwall.hook.nfqueue;

import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.PortStore;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.program.TrustedProgram;
import org.osgi.service.log.Logger;

/**
 * Stand-ins for the parts other bundles provide (the real port store lives in bundles/port-store): a port store that
 * trusts a fixed set of (protocol, port), and a Logger that keeps lines.
 */
final class Fixtures {
    private Fixtures() {
    }

    /** A {@link PortStore} whose permitNow says yes for the (protocol, port) pairs it was told, and records asks. */
    static final class TrustingStore implements PortStore {
        final Set<String> trusted = ConcurrentHashMap.newKeySet();
        final List<String> asked = new CopyOnWriteArrayList<>();

        TrustingStore trust(Protocol protocol, int port) {
            trusted.add(protocol + "/" + port);
            return this;
        }

        @Override
        public List<PermittedPort> permitted() {
            return List.of();
        }

        boolean isPermitted(Protocol protocol, AddressFamily family, int port) {
            return trusted.contains(protocol + "/" + port);
        }

        @Override
        public boolean permitNow(Protocol protocol, AddressFamily family, int port) {
            asked.add(protocol + "/" + family + "/" + port);
            return isPermitted(protocol, family, port);
        }

        @Override
        public List<ListeningSocket> refused() {
            return List.of();
        }
    }

    /** A permitted-port entry as the port store would announce it. */
    static PermittedPort permittedPort(Protocol protocol, AddressFamily family, int port) {
        return new PermittedPort(program(), protocol, family, port, 1000 + port, List.of(), Instant.now());
    }

    private static TrustedProgram program() {
        return new TrustedProgram("socat", Path.of("/usr/bin/socat"), "0".repeat(64), "0".repeat(32), Instant.now(),
                false);
    }

    /** An OSGi Logger that keeps "LEVEL message" lines, with {} filled in. */
    static Logger logger(List<String> lines) {
        return (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[] { Logger.class },
                (proxy, method, args) -> {
                    String name = method.getName();
                    if (args != null && args.length == 2 && args[1] instanceof Object[] varargs) {
                        Object[] flat = new Object[varargs.length + 1];
                        flat[0] = args[0];
                        System.arraycopy(varargs, 0, flat, 1, varargs.length);
                        args = flat;
                    }
                    if (args != null && args.length > 0 && args[0] instanceof String format
                            && Set.of("trace", "debug", "info", "warn", "error", "audit").contains(name)) {
                        StringBuilder b = new StringBuilder(name.toUpperCase()).append(' ');
                        int arg = 1;
                        for (int i = 0; i < format.length(); i++) {
                            if (format.startsWith("{}", i) && arg < args.length) {
                                b.append(args[arg++]);
                                i++;
                            } else {
                                b.append(format.charAt(i));
                            }
                        }
                        lines.add(b.toString());
                        return null;
                    }
                    if (name.startsWith("is")) {
                        return true;
                    }
                    if (name.equals("getName")) {
                        return "test";
                    }
                    return null;
                });
    }
}
