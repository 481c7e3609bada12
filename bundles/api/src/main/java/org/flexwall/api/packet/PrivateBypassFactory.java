package org.flexwall.api.packet;

import java.util.Set;
import java.util.function.LongSupplier;

import org.flexwall.api.port.PortKey;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Makes packet bypass stages of their own, for a caller that decides packets apart from the live path (capture
 * replay): each shares nothing with the live stage, so deciding on it never changes the live bypass table or
 * counters. Provided by packet-bypass, so a stage made after an update of that bundle decides as the updated one.
 */
@ProviderType
public interface PrivateBypassFactory {

    /**
     * A fresh bypass stage: a packet to one of {@code permitted} passes (and the later fragments of one it passed), as
     * does a reply sent from one; any other well-formed packet is decided by {@code icf}, or dropped when it is
     * {@code null}; a malformed packet is dropped before either.
     *
     * @param permitted the permitted (protocol, family, port)s, copied: later changes to the set are not seen
     * @param clock     monotonic nanoseconds (a capture's timestamps in a replay), read for fragment tracking
     * @return a decider for one caller's thread: it neither allocates nor locks per packet
     */
    PacketDecider newBypass(Set<PortKey> permitted, PacketDecider icf, LongSupplier clock);
}
