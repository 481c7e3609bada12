package org.flexwall.hook.nfqueue;

import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.flexwall.api.packet.BypassTable;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.osgi.service.log.Logger;

/**
 * Stand-ins for the parts other bundles provide (the real bypass table lives in bundles/packet-bypass): a table that
 * admits a fixed set of (protocol, port), and a Logger that keeps lines.
 */
final class Fixtures {
    private Fixtures() {
    }

    /**
     * Packet bypass's {@link BypassTable} as the hook asks it: yes for the (protocol, port) pairs it was told (as if
     * the port store verified their sockets), and records the asks.
     */
    static final class TrustingTable implements BypassTable {
        final Set<String> trusted = ConcurrentHashMap.newKeySet();
        final List<String> asked = new CopyOnWriteArrayList<>();

        TrustingTable trust(Protocol protocol, int port) {
            trusted.add(protocol + "/" + port);
            return this;
        }

        @Override
        public boolean firstPacket(Protocol protocol, AddressFamily family, int port) {
            asked.add(protocol + "/" + family + "/" + port);
            return trusted.contains(protocol + "/" + port);
        }
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
