package org.flexwall.api.packet;

/** What happens to a packet. There is no reject: flexwall drops silently so a scan finds nothing. */
public enum Verdict {
    ACCEPT, DROP
}
