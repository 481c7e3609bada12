package org.flexwall.api.port;

import java.util.Objects;

/**
 * A destination inbound packets may be permitted to: one row of the bypass table (FIG. 8, S805). Many sockets may
 * serve one key (SO_REUSEPORT, an IPv4 and a dual-stack socket); the key is open while any permitted socket serves it.
 *
 * @param protocol TCP or UDP
 * @param family   the family packets arrive in
 * @param port     the destination port, 1-65535
 * @since 2.0
 */
public record PortKey(Protocol protocol, AddressFamily family, int port) {
    public PortKey {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(family, "family");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    /** The key a permitted socket's entry opens. */
    public static PortKey of(PermittedPort p) {
        return new PortKey(p.protocol(), p.family(), p.port());
    }
}
