package org.flexwall.packet.bypass;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.Protocol;

/**
 * The internal permitted port storage as the packet path needs it (Table 2, S709/S707): which sockets make each
 * (protocol, family, port) permitted. A port stays open while any of its permitted sockets does (SO_REUSEPORT,
 * a v4 and a dual-stack socket), so one socket's revocation does not close it for the others. Updates are
 * idempotent (a replay of what is already known changes nothing) and serialised; reads go to the bitmap.
 */
final class PermittedPorts {
    private record Port(Protocol protocol, AddressFamily family, int port) {
    }

    private final PortBitmap bitmap;
    private final Map<Port, Set<Long>> sockets = new HashMap<>();

    PermittedPorts(PortBitmap bitmap) {
        this.bitmap = bitmap;
    }

    synchronized void permit(PermittedPort p) {
        Port key = new Port(p.protocol(), p.family(), p.port());
        if (sockets.computeIfAbsent(key, k -> new HashSet<>()).add(p.inode())) {
            bitmap.set(p.protocol(), p.family(), p.port(), true);
        }
    }

    synchronized void revoke(PermittedPort p) {
        Port key = new Port(p.protocol(), p.family(), p.port());
        Set<Long> s = sockets.get(key);
        if (s != null && s.remove(p.inode()) && s.isEmpty()) {
            sockets.remove(key);
            bitmap.set(p.protocol(), p.family(), p.port(), false);
        }
    }

    /** Forgets everything, then permits exactly {@code ports}. */
    synchronized void replaceAll(List<PermittedPort> ports) {
        clear();
        ports.forEach(this::permit);
    }

    synchronized void clear() {
        sockets.clear();
        bitmap.clear();
    }

    synchronized int size() {
        return sockets.size();
    }
}
