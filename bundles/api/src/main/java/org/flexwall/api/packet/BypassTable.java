package org.flexwall.api.packet;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The bypass table of FIG. 8 (S805) as a kernel hook asks it about the first packet of a new inbound flow that the
 * kernel could not accept by itself: its port was not in the kernel's sets yet (this table as the nftables hook
 * renders it, see {@link BypassTableListener}), or its destination socket was not verified yet. Provided by
 * packet-bypass, which follows the port store.
 *
 * @since 1.3
 */
@ProviderType
public interface BypassTable {

    /**
     * Looks ({@code protocol}, {@code family}, {@code port}) up and has the port store verify, now, the socket that
     * will receive the packet (S703–S709 ahead of the port monitor's event). Returns whether the packet may pass; the
     * kernel still lets it reach only a verified socket. Called on a hook's receive thread, for first packets only:
     * the port store's check asks the port monitor about one port and may wait for its answer.
     */
    boolean firstPacket(Protocol protocol, AddressFamily family, int port);
}
