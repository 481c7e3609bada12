package org.flexwall.api.packet;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A read-only view of one raw IP packet as a hook received it. A hook reuses one view over its receive buffer, so
 * a decider must not keep it past {@link PacketDecider#decide}. Nothing here is trusted: a decider parses the bytes
 * itself and drops what does not parse.
 */
@ConsumerType
public interface PacketView {

    /** Where the packet travels. */
    Direction direction();

    /** Number of valid bytes, starting with the IP header. */
    int length();

    /** The byte at {@code index} (0 ≤ index &lt; length()), unsigned. */
    int byteAt(int index);
}
