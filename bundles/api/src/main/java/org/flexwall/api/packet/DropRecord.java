package org.flexwall.api.packet;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A bounded record of the unsolicited inbound packets a packet hook drops where Java does not see them (in the kernel),
 * counted per source, protocol and destination port. Bounded whatever the attack: when it is full, new sources are not
 * recorded until quiet ones are forgotten.
 *
 * @since 1.3
 */
@ProviderType
public interface DropRecord {

    /** What the record holds now, in no particular order; empty while it cannot be read. */
    List<DropCount> counts();

    /** How many (source, protocol, port) entries the record holds at most. */
    int capacity();
}
