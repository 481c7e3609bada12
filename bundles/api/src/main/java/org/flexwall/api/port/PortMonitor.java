package org.flexwall.api.port;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Knows every listening TCP and bound UDP socket of flexwall's network namespace and who owns it. Events go to
 * every {@link PortEventListener} service.
 */
@ProviderType
public interface PortMonitor {

    /** A fresh scan: every listening socket right now, with resolved owners. */
    List<ListeningSocket> listening();

    /**
     * Who owns the socket that would receive a new inbound packet of {@code family} to ({@code protocol},
     * {@code port}) right now. Meant for the packet path's first packet; answered without a full scan.
     */
    Optional<ListeningSocket> ownerOf(Protocol protocol, AddressFamily family, int port);
}
