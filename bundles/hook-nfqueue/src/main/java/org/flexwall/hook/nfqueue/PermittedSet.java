package org.flexwall.hook.nfqueue;

import java.util.HashMap;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.Protocol;

/**
 * The ports the kernel need not queue because the port store already permits them (mirrored from its listener
 * events). Counts entries, since two sockets can hold one port (SO_REUSEPORT) and one may close first.
 * Not thread-safe: the component guards it.
 */
final class PermittedSet {
    private final Map<Integer, Integer> counts = new HashMap<>();

    private static int key(Protocol protocol, AddressFamily family, int port) {
        return (family == AddressFamily.IPV6 ? 1 << 24 : 0) | protocol.number << 16 | port;
    }

    /** Returns whether the set of ports changed. */
    boolean add(PermittedPort p) {
        return counts.merge(key(p.protocol(), p.family(), p.port()), 1, Integer::sum) == 1;
    }

    /** Returns whether the set of ports changed. */
    boolean remove(PermittedPort p) {
        int k = key(p.protocol(), p.family(), p.port());
        Integer c = counts.get(k);
        if (c == null) {
            return false;
        }
        if (c > 1) {
            counts.put(k, c - 1);
            return false;
        }
        counts.remove(k);
        return true;
    }

    /** The permitted ports of one protocol and family, sorted. */
    SortedSet<Integer> ports(Protocol protocol, AddressFamily family) {
        SortedSet<Integer> out = new TreeSet<>();
        int prefix = key(protocol, family, 0);
        for (int k : counts.keySet()) {
            if ((k & ~0xffff) == prefix) {
                out.add(k & 0xffff);
            }
        }
        return out;
    }

    /** An immutable copy for the rule writer. */
    Ports snapshot() {
        return new Ports(ports(Protocol.TCP, AddressFamily.IPV4), ports(Protocol.UDP, AddressFamily.IPV4),
                ports(Protocol.TCP, AddressFamily.IPV6), ports(Protocol.UDP, AddressFamily.IPV6));
    }

    /** Permitted ports by protocol and family. */
    record Ports(SortedSet<Integer> tcp4, SortedSet<Integer> udp4, SortedSet<Integer> tcp6, SortedSet<Integer> udp6) {
        static final Ports NONE = new Ports(new TreeSet<>(), new TreeSet<>(), new TreeSet<>(), new TreeSet<>());

        Ports {
            tcp4 = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(tcp4));
            udp4 = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(udp4));
            tcp6 = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(tcp6));
            udp6 = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(udp6));
        }

        SortedSet<Integer> tcp(AddressFamily f) {
            return f == AddressFamily.IPV4 ? tcp4 : tcp6;
        }

        SortedSet<Integer> udp(AddressFamily f) {
            return f == AddressFamily.IPV4 ? udp4 : udp6;
        }
    }
}
