package org.flexwall.hook.nftables;

import java.util.Objects;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.Protocol;

/**
 * One element of the kernel's permitted sets: {@code permitted4} or {@code permitted6} holds {@code tcp . 8080}; the
 * kernel's copy of one {@link PortKey} of the port store.
 */
record Element(Protocol protocol, AddressFamily family, int port) implements Comparable<Element> {

    Element {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(family, "family");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    static Element of(PortKey k) {
        return new Element(k.protocol(), k.family(), k.port());
    }

    /** The set that holds this element. */
    String set() {
        return family == AddressFamily.IPV4 ? Ruleset.SET4 : Ruleset.SET6;
    }

    /** The element in nft syntax, such as {@code tcp . 8080}. */
    String nft() {
        return protocol.name().toLowerCase(java.util.Locale.ROOT) + " . " + port;
    }

    @Override
    public int compareTo(Element o) {
        int c = family.compareTo(o.family);
        if (c == 0) {
            c = protocol.compareTo(o.protocol);
        }
        return c != 0 ? c : Integer.compare(port, o.port);
    }
}
