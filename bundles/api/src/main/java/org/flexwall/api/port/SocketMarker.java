package org.flexwall.api.port;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Puts flexwall's permission on the socket itself: sets or clears {@link org.flexwall.api.packet.Marks#VERIFIED_SOCKET}
 * on the socket's mark, so the kernel admits unsolicited packets only to sockets flexwall verified, and the
 * permission dies with the socket whether or not the JVM runs (DESIGN principle 7).
 */
@ProviderType
public interface SocketMarker {

    /**
     * Sets ({@code verified}) or clears the bit on {@code socket}, through one of its owners, after checking that the
     * owner is still the same process and the descriptor is still that socket. Returns false, changing nothing, when
     * no owner could be reached (the socket or its holders are gone): the port must then stay closed.
     */
    boolean mark(ListeningSocket socket, boolean verified);
}
