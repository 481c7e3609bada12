package org.flexwall.api.packet;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Makes stateful ICFs of their own, for a caller that decides packets apart from the live path (capture replay): each
 * has its own empty connection table and shares nothing with the live ICF. Provided by stateful-icf, so an ICF made
 * after an update or a reconfiguration of that bundle decides as the live one does then.
 */
@ProviderType
public interface PrivateIcfFactory {

    /** A fresh ICF with the live ICF's settings now (table size, timeouts, loose pick-up) and an empty table. */
    PrivateIcf newIcf();
}
