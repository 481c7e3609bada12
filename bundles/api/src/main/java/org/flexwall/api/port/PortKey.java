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

    // Written out, with the meaning of the generated ones: those go through method handles, which the appliance's
    // only compiler (C1) does not inline, and keys are hashed and compared many times on every port change.
    @Override
    public boolean equals(Object o) {
        return o instanceof PortKey k && k.port == port && k.protocol == protocol && k.family == family;
    }

    @Override
    public int hashCode() {
        return (protocol.ordinal() * AddressFamily.values().length + family.ordinal()) << 16 | port;
    }
}
