package org.flexwall.api.packet;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A platform-specific packet path (netfilter, libpcap, capture replay). A hook is a service so the console can show
 * and swap it. A hook that brings packets to Java (NFQUEUE) asks packet bypass, bound optionally, dynamically and
 * greedily: every packet through the entry {@link PacketDecider} ({@link PacketDecider#TARGET_BYPASS}), or only the
 * first packet of a new flow through the {@link BypassTable}; while the one it asks is not bound it drops what it would
 * have asked about (fail closed). A hook that decides in the kernel (nftables) binds no decider: it renders packet
 * bypass's table into a kernel set as a {@link BypassTableListener}, whose lookup stands for packet bypass, and the
 * kernel's connection tracking stands for the stateful ICF.
 */
@ProviderType
public interface PacketHook {

    /** A short stable name, such as "nftables" or "nfqueue". */
    String name();

    /** A one-line state for the operator, such as "active, 3 permitted ports" or the reason it is not. */
    String status();

    /**
     * The packets this hook dropped in user space most recently, oldest first; empty for a hook that drops only in
     * the kernel.
     */
    default List<DroppedPacket> recentDrops() {
        return List.of();
    }

    /**
     * Why this hook is not protecting the host right now (its baseline could not be installed, its queue is not
     * bound, ...), in words an operator can act on; empty while it is. A hook with a problem makes flexwall not
     * ready and {@code flexwall status} fail.
     */
    default Optional<String> problem() {
        return Optional.empty();
    }
}
