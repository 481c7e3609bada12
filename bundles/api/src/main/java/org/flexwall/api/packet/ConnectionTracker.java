package org.flexwall.api.packet;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The stateful ICF's connection table as a hook that starts deciding in Java sees it. While the kernel path runs,
 * the kernel's connection tracking (conntrack) keeps the flows; a hook that hands every packet to the Java ICF from
 * now on (NFQUEUE's userspace mode, the pcap bridge) first has the ICF take over what conntrack knows, so established
 * sessions survive the swap.
 *
 * @since 1.5
 */
@ProviderType
public interface ConnectionTracker {

    /**
     * Takes into the connection table every established flow (TCP connections, answered UDP flows) that the kernel's
     * connection tracking of this network namespace knows, and returns how many it took. A flow the table knew from an
     * earlier time Java decided is taken again: the kernel carried it since. Their sequence windows are learnt from
     * their next segment.
     *
     * @throws java.io.IOException when the kernel's table could not be read; the connection table is unchanged
     */
    int adoptKernelConnections() throws java.io.IOException;
}
