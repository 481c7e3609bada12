package org.flexwall.hook.nfqueue;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.flexwall.api.packet.BypassTable;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.osgi.service.log.Logger;

/**
 * Stand-ins for the parts other bundles provide (the real bypass table lives in bundles/packet-bypass): a table that
 * admits a fixed set of (protocol, port), and a Logger that keeps lines.
 */
final class Fixtures {
    private Fixtures() {
    }

    /**
     * Packet bypass's {@link BypassTable} as the hook asks it: yes for the (protocol, port) pairs it was told (as if
     * the port store verified their sockets), and records the asks.
     */
    static final class TrustingTable implements BypassTable {
        final Set<String> trusted = ConcurrentHashMap.newKeySet();
        final List<String> asked = new CopyOnWriteArrayList<>();

        TrustingTable trust(Protocol protocol, int port) {
            trusted.add(protocol + "/" + port);
            return this;
        }

        @Override
        public boolean firstPacket(Protocol protocol, AddressFamily family, int port) {
            asked.add(protocol + "/" + family + "/" + port);
            return trusted.contains(protocol + "/" + port);
        }
    }
}
