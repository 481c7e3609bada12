package org.flexwall.api.packet;

import java.time.Instant;
import java.util.Objects;

/**
 * Unsolicited inbound packets dropped from one source to one port, as a {@link DropRecord} counted them.
 *
 * @param source   the source address in text form
 * @param protocol IP protocol number (6 TCP, 17 UDP)
 * @param port     destination port
 * @param packets  packets dropped since the record first saw this source at this port (it forgets quiet ones)
 * @param lastSeen when the most recent of them arrived, as precisely as the record knows (to the second)
 * @since 1.3
 */
public record DropCount(String source, int protocol, int port, long packets, Instant lastSeen) {
    public DropCount {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(lastSeen, "lastSeen");
        if (packets < 0) {
            throw new IllegalArgumentException("a count of packets is never negative: " + packets);
        }
    }
}
