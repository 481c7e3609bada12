package org.flexwall.port.store;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLongArray;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.port.RefusedSocket;
import org.flexwall.api.port.SocketOwner;
import org.flexwall.api.program.TrustedProgram;

/**
 * The permitted-port storage of the patent's Table 2 (FIG. 7), without OSGi: a mirror of every listening socket the
 * port monitor reported, keyed by socket inode, and the entries of those whose every owner is trusted.
 *
 * <p>Mutations must be serialized by the caller. {@link #isPermitted} and {@link #knows} may be called from any
 * thread at any time: they read bit sets, take no lock and allocate nothing.
 */
final class PermittedPorts {
    private static final AddressFamily[] FAMILIES = AddressFamily.values();
    private static final int KEYS = 2 * 2 * 65536;

    private final boolean permitLoopback;
    private Trust trust = Trust.NOTHING;

    private final Map<Long, ListeningSocket> sockets = new LinkedHashMap<>();
    private final Map<Long, List<PermittedPort>> entries = new LinkedHashMap<>();
    private final Map<Long, RefusedSocket> refused = new LinkedHashMap<>();
    // Every socket serving each (protocol, family, port): a port opens only when all of them are trusted.
    private final Map<Integer, Set<Long>> inodesByKey = new HashMap<>();
    // How many entries (sockets) serve each (protocol, family, port); the bit says "at least one".
    private final Map<Integer, Integer> permittedCount = new HashMap<>();
    private final Map<Integer, Integer> knownCount = new HashMap<>();
    private final AtomicLongArray permittedBits = new AtomicLongArray(KEYS / 64);
    private final AtomicLongArray knownBits = new AtomicLongArray(KEYS / 64);

    // Sockets closed lately, by inode: an owner query's answer applied after the CLOSE must not bring one back, since
    // no CLOSE would follow. Socket inodes come from a 32-bit counter, so a closed one does not come back soon.
    private static final int CLOSED_REMEMBERED = 4096;
    private final Set<Long> closed = Collections.newSetFromMap(new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Boolean> eldest) {
            return size() > CLOSED_REMEMBERED;
        }
    });

    // While a full scan runs, events win over it: the inodes they touched are left as the events said.
    private boolean scanning;
    private final Set<Long> touched = new HashSet<>();

    PermittedPorts(boolean permitLoopback) {
        this.permitLoopback = permitLoopback;
    }

    static int key(Protocol protocol, AddressFamily family, int port) {
        return (protocol.ordinal() << 17) | (family.ordinal() << 16) | (port & 0xffff);
    }

    /** Whether a new inbound packet of {@code family} to ({@code protocol}, {@code port}) may pass. Lock-free. */
    boolean isPermitted(Protocol protocol, AddressFamily family, int port) {
        return test(permittedBits, key(protocol, family, port));
    }

    /** Whether some socket the store knows of, trusted or not, serves ({@code protocol}, {@code family}, {@code port}). */
    boolean knows(Protocol protocol, AddressFamily family, int port) {
        return test(knownBits, key(protocol, family, port));
    }

    /** The trust the store evaluates against; {@link #trust(Trust, Instant)} replaces it. */
    Trust trust() {
        return trust;
    }

    /** A full scan of the monitor starts now: events from here on are newer than what it will report. */
    void scanStarted() {
        scanning = true;
        touched.clear();
    }

    /** The scan failed: nothing to reconcile. */
    void scanAbandoned() {
        scanning = false;
        touched.clear();
    }

    /** S701–S709 for an OPEN: remember the socket and permit it when every owner is trusted. */
    Changes open(ListeningSocket socket, Instant now) {
        if (closed.contains(socket.inode())) {
            return new Changes(); // closed meanwhile
        }
        touch(socket.inode());
        return put(socket, now);
    }

    /** S705–S707 for a CLOSE: forget the socket (by inode, whatever owners the event names) and revoke its entries. */
    Changes close(ListeningSocket socket, Instant now) {
        closed.add(socket.inode());
        touch(socket.inode());
        return remove(socket.inode(), now);
    }

    /** The trusted programs changed: evaluate every known socket again. */
    Changes trust(Trust newTrust, Instant now) {
        trust = newTrust;
        Changes c = new Changes();
        for (ListeningSocket s : new ArrayList<>(sockets.values())) {
            c.addAll(evaluate(s, now));
        }
        return c;
    }

    /**
     * Replaces the mirror with the full scan started at {@link #scanStarted()}: sockets gone from the scan are closed,
     * new or changed ones evaluated; sockets touched by an event since the scan started keep what the event said.
     */
    Changes reconcile(List<ListeningSocket> scan, Instant now) {
        Changes c = new Changes();
        Set<Long> seen = new HashSet<>();
        for (ListeningSocket s : scan) {
            seen.add(s.inode());
            if (!touched.contains(s.inode())) {
                c.addAll(put(s, now));
            }
        }
        for (Long inode : new ArrayList<>(sockets.keySet())) {
            if (!seen.contains(inode) && !touched.contains(inode)) {
                c.addAll(remove(inode, now));
            }
        }
        scanAbandoned();
        return c;
    }

    List<PermittedPort> permitted() {
        List<PermittedPort> all = new ArrayList<>();
        entries.values().forEach(all::addAll);
        return all;
    }

    /** Every key (protocol, family, port) some permitted socket serves now. */
    Set<PortKey> openKeys() {
        Set<PortKey> keys = new LinkedHashSet<>();
        for (List<PermittedPort> socket : entries.values()) {
            socket.forEach(p -> keys.add(PortKey.of(p)));
        }
        return keys;
    }

    List<RefusedSocket> refused() {
        return List.copyOf(refused.values());
    }

    /** The socket with this inode, or null when the store does not know it (any more). */
    ListeningSocket socket(long inode) {
        return sockets.get(inode);
    }

    /** The entries of the socket with this inode, or null when it is not permitted. */
    List<PermittedPort> entries(long inode) {
        return entries.get(inode);
    }

    /** Every socket the store knows of, permitted or not. */
    List<ListeningSocket> sockets() {
        return List.copyOf(sockets.values());
    }

    private void touch(long inode) {
        if (scanning) {
            touched.add(inode);
        }
    }

    private Changes put(ListeningSocket socket, Instant now) {
        ListeningSocket old = sockets.put(socket.inode(), socket);
        Changes c = new Changes();
        if (old != null) {
            count(knownCount, knownBits, old, -1);
            index(old, false);
        }
        count(knownCount, knownBits, socket, +1);
        index(socket, true);
        c.addAll(evaluate(socket, now));
        if (old != null) {
            c.addAll(evaluateSharers(old, now));
        }
        c.addAll(evaluateSharers(socket, now));
        return c;
    }

    private Changes remove(long inode, Instant now) {
        Changes c = new Changes();
        ListeningSocket old = sockets.remove(inode);
        refused.remove(inode);
        revoke(inode, c);
        if (old != null) {
            count(knownCount, knownBits, old, -1);
            index(old, false);
            c.addAll(evaluateSharers(old, now));
        }
        return c;
    }

    /** The other sockets on the ports of {@code socket} may open or close because it came, changed or went. */
    private Changes evaluateSharers(ListeningSocket socket, Instant now) {
        Changes c = new Changes();
        for (long inode : sharers(socket)) {
            c.addAll(evaluate(sockets.get(inode), now));
        }
        return c;
    }

    /** Inodes of the other known sockets serving one of the (protocol, family, port) keys {@code socket} serves. */
    private Set<Long> sharers(ListeningSocket socket) {
        Set<Long> found = new HashSet<>();
        for (AddressFamily f : FAMILIES) {
            if (socket.serves(f)) {
                found.addAll(inodesByKey.getOrDefault(key(socket.protocol(), f, socket.port()), Set.of()));
            }
        }
        found.remove(socket.inode());
        return found;
    }

    private void index(ListeningSocket s, boolean add) {
        for (AddressFamily f : FAMILIES) {
            if (s.serves(f)) {
                int k = key(s.protocol(), f, s.port());
                if (add) {
                    inodesByKey.computeIfAbsent(k, x -> new HashSet<>()).add(s.inode());
                } else if (inodesByKey.containsKey(k) && inodesByKey.get(k).remove(s.inode())
                        && inodesByKey.get(k).isEmpty()) {
                    inodesByKey.remove(k);
                }
            }
        }
    }

    /**
     * Other sockets on the same port that packets from the network can reach and that are not trusted (SO_REUSEPORT,
     * a more specific address, a connected UDP socket): they would receive what the open port lets in. Null when
     * none; otherwise the refusal of {@code socket} because of them.
     */
    private Evaluation untrustedSharers(ListeningSocket socket, TrustedProgram program) {
        List<SocketOwner> owners = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        for (long inode : sharers(socket)) {
            ListeningSocket other = sockets.get(inode);
            Evaluation e = Evaluation.of(other, trust, permitLoopback);
            if (e.outcome() == Evaluation.Outcome.UNTRUSTED || e.outcome() == Evaluation.Outcome.REFUSE) {
                owners.addAll(e.untrusted());
                reasons.add("another socket on the same port (" + where(other) + "): " + e.reason());
            }
        }
        return reasons.isEmpty() ? null
                : new Evaluation(Evaluation.Outcome.REFUSE, program, List.copyOf(owners), String.join("; ", reasons));
    }

    /** The trusted socket on the same port that an untrusted {@code socket} keeps closed, or null. */
    private ListeningSocket trustedSharer(ListeningSocket socket) {
        for (long inode : sharers(socket)) {
            ListeningSocket other = sockets.get(inode);
            if (Evaluation.of(other, trust, permitLoopback).outcome() == Evaluation.Outcome.PERMIT) {
                return other;
            }
        }
        return null;
    }

    private Changes evaluate(ListeningSocket socket, Instant now) {
        Changes c = new Changes();
        long inode = socket.inode();
        Evaluation e = Evaluation.of(socket, trust, permitLoopback);
        if (e.outcome() == Evaluation.Outcome.PERMIT) {
            Evaluation shared = untrustedSharers(socket, e.program());
            if (shared != null) {
                e = shared;
            }
        }
        if (e.outcome() == Evaluation.Outcome.PERMIT) {
            refused.remove(inode);
            List<PermittedPort> current = entries.get(inode);
            // Same socket, same image: keep the entry (and its since) rather than churn the kernel's copy.
            if (current != null && current.get(0).program().sha256().equals(e.program().sha256())
                    && current.get(0).port() == socket.port() && current.get(0).protocol() == socket.protocol()) {
                return c;
            }
            revoke(inode, c);
            List<PermittedPort> added = new ArrayList<>(2);
            for (AddressFamily f : FAMILIES) {
                if (socket.serves(f)) {
                    added.add(new PermittedPort(e.program(), socket.protocol(), f, socket.port(), inode,
                            socket.owners(), now));
                }
            }
            entries.put(inode, List.copyOf(added));
            for (PermittedPort p : added) {
                countPermitted(p, +1, c);
            }
            c.permitted.addAll(added);
            return c;
        }
        revoke(inode, c);
        ListeningSocket trustedSharer;
        if (e.outcome() == Evaluation.Outcome.REFUSE) {
            RefusedSocket before = refused.put(inode, new RefusedSocket(socket, e.reason()));
            if (before == null || !before.reason().equals(e.reason())) {
                c.refused.add(new Changes.Refusal(socket, e.program(), e.untrusted(), e.reason()));
            }
        } else if (e.outcome() == Evaluation.Outcome.UNTRUSTED && (trustedSharer = trustedSharer(socket)) != null) {
            // the untrusted sharer is what keeps a trusted program's port closed: show it
            refused.put(inode, new RefusedSocket(socket, "it shares its port with a trusted program's socket ("
                    + where(trustedSharer) + ") and " + e.reason()));
        } else {
            refused.remove(inode);
        }
        return c;
    }

    private static String where(ListeningSocket s) {
        return s.protocol() + " " + s.addressText() + " port " + s.port() + ", socket " + s.inode();
    }

    private void revoke(long inode, Changes c) {
        List<PermittedPort> gone = entries.remove(inode);
        if (gone != null) {
            for (PermittedPort p : gone) {
                countPermitted(p, -1, c);
            }
            c.revoked.addAll(gone);
        }
    }

    private static void count(Map<Integer, Integer> counts, AtomicLongArray bits, ListeningSocket s, int delta) {
        for (AddressFamily f : FAMILIES) {
            if (s.serves(f)) {
                count(counts, bits, key(s.protocol(), f, s.port()), delta);
            }
        }
    }

    /** Counts an entry in or out of its key; the key's first entry opens it, its last closes it. */
    private void countPermitted(PermittedPort p, int delta, Changes c) {
        int key = key(p.protocol(), p.family(), p.port());
        boolean before = test(permittedBits, key);
        count(permittedCount, permittedBits, key, delta);
        boolean after = test(permittedBits, key);
        if (before != after && p.port() != 0) { // no packet goes to port 0
            c.flipped(PortKey.of(p), after);
        }
    }

    private static void count(Map<Integer, Integer> counts, AtomicLongArray bits, int key, int delta) {
        int n = counts.getOrDefault(key, 0) + delta;
        if (n <= 0) {
            counts.remove(key);
            set(bits, key, false);
        } else {
            counts.put(key, n);
            set(bits, key, true);
        }
    }

    private static boolean test(AtomicLongArray bits, int key) {
        return (bits.get(key >>> 6) & (1L << key)) != 0;
    }

    private static void set(AtomicLongArray bits, int key, boolean on) {
        long mask = 1L << key;
        // Writers are serialized; readers only need each word to change atomically.
        long word = bits.get(key >>> 6);
        bits.set(key >>> 6, on ? word | mask : word & ~mask);
    }

}
