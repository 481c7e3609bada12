package org.flexwall.api.port;

import java.util.Set;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Follows the port store's permitted ports as a set of {@link PortKey}s, the one source of truth for them: the
 * store counts the sockets behind each key, a listener only holds the set. Calls come in order, never two at once,
 * outside the store's locks, most often on the thread that brought the change (the port monitor's, which read the
 * kernel's event: no hand-off on the way to the kernel), else on the store's own: first {@link #snapshot} with the
 * set at the time the listener was bound, then {@link #opened} and {@link #closed} for every change after it, none
 * missing and none twice. A listener should return soon: the thread calling it carries the port change on to the
 * kernel; one that hangs holds up its own calls only. Listeners hear a change in the order of their service ranking,
 * highest first (packet bypass, whose followers bring it to the kernel, is ranked 100). When the store stops it sends
 * {@code snapshot} of the empty set: nobody would tell of a port closing after that (fail closed).
 *
 * @since 2.0 (was per socket entry, which made every listener count sockets again)
 */
@ConsumerType
public interface PortStoreListener {

    /** Replaces whatever the listener held: exactly {@code open} is permitted now. */
    void snapshot(Set<PortKey> open);

    /** {@code port} is permitted now; it was not before this call. */
    void opened(PortKey port);

    /** {@code port} is no longer permitted; it was before this call. */
    void closed(PortKey port);
}
