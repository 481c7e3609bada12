package org.flexwall.api.port;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/** The permitted-port storage (Table 2). Changes go to every {@link PortStoreListener} service. */
@ProviderType
public interface PortStore {

    /** Every permitted port now. */
    List<PermittedPort> permitted();

    /** Whether a new inbound packet of {@code family} to ({@code protocol}, {@code port}) may pass. */
    boolean isPermitted(Protocol protocol, AddressFamily family, int port);
}
