package org.flexwall.api.port;

import java.util.Objects;

/**
 * A socket whose port stays closed although a trusted program is involved, and why, in words for the operator.
 *
 * @param socket the socket, with its owners
 * @param reason why it is refused; never empty
 * @since 1.2
 */
public record RefusedSocket(ListeningSocket socket, String reason) {
    public RefusedSocket {
        Objects.requireNonNull(socket, "socket");
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("a refused socket needs a reason");
        }
    }
}
