package org.flexwall.api.packet;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A stateful ICF of one caller's own ({@link PrivateIcfFactory}), on a clock the caller drives, that says why it
 * decided each packet. For one thread at a time.
 */
@ProviderType
public interface PrivateIcf {

    /** Decides {@code packet} at monotonic time {@code nanos} (never earlier than the previous call's). */
    IcfDecision decide(PacketView packet, long nanos);
}
