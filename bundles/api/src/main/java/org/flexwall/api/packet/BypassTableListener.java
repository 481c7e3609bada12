package org.flexwall.api.packet;

import java.util.Set;

import org.flexwall.api.port.PortKey;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Follows the bypass table of FIG. 8 (S805) as packet-bypass holds it: the ports whose packets bypass the stateful
 * firewall. A kernel hook registers one to render that table into its own kernel objects (the nftables hook's
 * permitted sets), so the table the kernel looks up is packet-bypass's and no other.
 *
 * <p>Calls come in order, never two at once, on the thread that changed the table (the one that brought the port
 * store's change, most often the port monitor's, which read the kernel's event; the listener may send it to the
 * kernel right there): first {@link #snapshot} with the table at the time the listener was bound (or, bound before
 * packet-bypass heard its port store's snapshot, with that one; until then the listener keeps what it holds), then
 * {@link #opened} and {@link #closed} for every change after it, none missing and none twice, each as soon as
 * packet-bypass's own table has it. When
 * its port store stops, packet-bypass sends {@code snapshot} of the empty set. When packet-bypass itself stops it
 * sends nothing: the listener keeps what it holds until the next packet-bypass's snapshot, so it must render the table
 * only where the lookup admits nothing but sockets the port store verified (the nftables hook's sets with their
 * {@code socket mark} check), never as a permission of its own.
 *
 * @since 1.5
 */
@ConsumerType
public interface BypassTableListener {

    /** Replaces whatever the listener held: exactly {@code open} bypasses now. */
    void snapshot(Set<PortKey> open);

    /** {@code port} bypasses now; it did not before this call. */
    void opened(PortKey port);

    /** {@code port} no longer bypasses; it did before this call. */
    void closed(PortKey port);
}
