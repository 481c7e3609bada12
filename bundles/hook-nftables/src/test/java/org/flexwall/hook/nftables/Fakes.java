package org.flexwall.hook.nftables;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import org.flexwall.api.packet.BypassTableListener;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.PortStore;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.program.TrustedProgram;

/**
 * Stand-ins for what other bundles provide (the real store is bundles/port-store): a port store that tells its
 * listener in order, as the real one does, and a Logger that keeps its lines.
 */
final class Fakes {
    private static final AtomicLong INODES = new AtomicLong(100_000);

    private Fakes() {
    }

    /**
     * A port store holding entries the test adds, and packet bypass behind it telling the hook as the real pair does
     * (packet bypass passes each change of the store on, on the store's thread): the snapshot when bound, a port
     * opened with its first entry and closed with its last, and the empty snapshot when either stops.
     */
    static final class Store implements PortStore {
        final List<PermittedPort> entries = new CopyOnWriteArrayList<>();
        BypassTableListener listener;

        /** Binds {@code l}, which hears the ports open now first. */
        void bind(BypassTableListener l) {
            listener = l;
            l.snapshot(entries.stream().map(PortKey::of).collect(Collectors.toSet()));
        }

        /** The store (or packet bypass) stops: the hook hears that nothing is open. */
        void stop() {
            if (listener != null) {
                listener.snapshot(Set.of());
            }
        }

        PermittedPort permit(Protocol protocol, AddressFamily family, int port) {
            PermittedPort p = permittedPort(protocol, family, port);
            boolean first = !serves(PortKey.of(p));
            entries.add(p);
            if (listener != null && first) {
                listener.opened(PortKey.of(p));
            }
            return p;
        }

        void revoke(PermittedPort p) {
            entries.remove(p);
            if (listener != null && !serves(PortKey.of(p))) {
                listener.closed(PortKey.of(p));
            }
        }

        private boolean serves(PortKey k) {
            return entries.stream().anyMatch(e -> PortKey.of(e).equals(k));
        }

        @Override
        public List<PermittedPort> permitted() {
            return List.copyOf(entries);
        }

        boolean isPermitted(Protocol protocol, AddressFamily family, int port) {
            return entries.stream().anyMatch(p -> p.protocol() == protocol && p.family() == family && p.port() == port);
        }

        @Override
        public boolean permitNow(Protocol protocol, AddressFamily family, int port) {
            return isPermitted(protocol, family, port);
        }

        @Override
        public List<ListeningSocket> refused() {
            return List.of();
        }
    }

    /** An entry as the store announces it, with a socket inode of its own. */
    static PermittedPort permittedPort(Protocol protocol, AddressFamily family, int port) {
        TrustedProgram socat = new TrustedProgram("socat", Path.of("/usr/bin/socat"), "0".repeat(64), "0".repeat(32),
                Instant.now(), false);
        return new PermittedPort(socat, protocol, family, port, INODES.incrementAndGet(), List.of(), Instant.now());
    }
}
