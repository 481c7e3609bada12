package org.flexwall.api.port;

import org.osgi.annotation.versioning.ConsumerType;

/** Follows the port store: the packet path mirrors it into the kernel. Called in order, on the store's thread. */
@ConsumerType
public interface PortStoreListener {
    void permitted(PermittedPort port);

    void revoked(PermittedPort port);
}
