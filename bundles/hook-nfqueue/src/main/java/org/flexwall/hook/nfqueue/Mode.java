package org.flexwall.hook.nfqueue;

import java.util.Locale;

/** Which packets the kernel hands to Java. */
enum Mode {
    /** Only the first packet of a new inbound TCP or UDP flow to a port not permitted yet; the rest stays in kernel. */
    FIRST_PACKET("firstPacket"),
    /** Every inbound and outbound TCP and UDP packet crosses the PacketDecider: the patent's literal path. */
    USERSPACE("userspace");

    final String configName;

    Mode(String configName) {
        this.configName = configName;
    }

    /** The mode for a configuration value, with a message naming the valid values otherwise. */
    static Mode parse(String value) {
        for (Mode m : values()) {
            if (m.configName.toLowerCase(Locale.ROOT).equals(value.trim().toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        throw new IllegalArgumentException("mode must be firstPacket or userspace, not \"" + value + "\"");
    }
}
