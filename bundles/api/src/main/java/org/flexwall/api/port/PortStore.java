package org.flexwall.api.port;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/** The permitted-port storage (Table 2). Changes go to every {@link PortStoreListener} service. */
@ProviderType
public interface PortStore {

    /** Every permitted port now. */
    List<PermittedPort> permitted();

    /**
     * S703–S709 on demand, for the first packet of a new flow that the kernel could not accept: asks the port monitor
     * who listens on ({@code protocol}, {@code family}, {@code port}) right now, permits that socket when every owner
     * is trusted and marks it verified ({@link SocketMarker}). Returns whether that very socket is permitted and marked
     * afterwards: the kernel lets the packet reach only a verified socket.
     */
    boolean permitNow(Protocol protocol, AddressFamily family, int port);

    /**
     * Sockets a trusted program listens on that are not permitted because an untrusted process holds them too
     * (inherited socket, SO_REUSEPORT): reported to the operator, never opened.
     */
    List<ListeningSocket> refused();

    /**
     * The {@link #refused()} sockets, each with the reason it is refused (an untrusted sharer, a tampered holder, a
     * holder of another user or unit, a process that took the socket).
     *
     * @since 1.2
     */
    default List<RefusedSocket> refusals() {
        return refused().stream().map(s -> new RefusedSocket(s, "refused by the port store (no reason given)")).toList();
    }
}
