package org.flexwall.api.packet;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The decision of FIG. 8: a registered destination passes, anything else meets the stateful firewall. Must not
 * allocate or block; called on a hook's receive thread for every packet the hook brings to Java.
 */
@ProviderType
public interface PacketDecider {
    Verdict decide(PacketView packet);
}
