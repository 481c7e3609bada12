package org.flexwall.api.packet;

import java.time.Instant;
import java.util.Objects;

/**
 * One packet a hook dropped in user space, kept for the console's list of recent drops.
 *
 * @param time        when it was dropped
 * @param direction   where it travelled
 * @param source      source address in text form, or "?" when the packet did not parse
 * @param destination destination address in text form, or "?"
 * @param protocol    IP protocol number (6 TCP, 17 UDP), or -1 when the packet did not parse
 * @param port        destination port, or 0 when there is none
 */
public record DroppedPacket(Instant time, Direction direction, String source, String destination, int protocol,
        int port) {
    public DroppedPacket {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(direction, "direction");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(destination, "destination");
    }
}
