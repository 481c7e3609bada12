package org.flexwall.api.port;

import java.util.Objects;

/**
 * A server port was opened or closed (FIG. 7, S701).
 *
 * @param kind   OPEN when a socket starts listening (TCP) or is bound (UDP), CLOSE when it goes away
 * @param socket the socket, with the owners known at the time of the event
 */
public record PortEvent(Kind kind, ListeningSocket socket) {
    public enum Kind { OPEN, CLOSE }

    public PortEvent {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(socket, "socket");
    }
}
