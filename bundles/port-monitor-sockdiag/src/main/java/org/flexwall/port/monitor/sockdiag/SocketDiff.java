package org.flexwall.port.monitor.sockdiag;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PortEvent;

/**
 * Turns successive scans into port events (S701), keyed by socket inode: a new inode is OPEN, a vanished one is
 * CLOSE (with the socket as last seen), and a socket whose owners changed (a process inherited it, exec'd, or one
 * of several holders exited) is OPEN again with the new owners, so a store keyed by inode re-judges it without
 * first closing it. CLOSE events come before OPEN events. Not thread-safe: one monitor thread owns it.
 */
public final class SocketDiff {
    private Map<Long, ListeningSocket> known = new LinkedHashMap<>();

    /** The events that lead from the previous scan to {@code scan}; the first call opens everything. */
    public List<PortEvent> update(Collection<ListeningSocket> scan) {
        Map<Long, ListeningSocket> now = new LinkedHashMap<>(scan.size() * 2);
        for (ListeningSocket s : scan) {
            now.put(s.inode(), s);
        }
        List<PortEvent> events = new ArrayList<>();
        for (ListeningSocket old : known.values()) {
            if (!now.containsKey(old.inode())) {
                events.add(new PortEvent(PortEvent.Kind.CLOSE, old));
            }
        }
        for (ListeningSocket s : now.values()) {
            if (!s.equals(known.get(s.inode()))) {
                events.add(new PortEvent(PortEvent.Kind.OPEN, s));
            }
        }
        known = now;
        return events;
    }

    /** Whether the last scan held this socket. */
    public boolean knows(long inode) {
        return known.containsKey(inode);
    }

    /** Whether no scan has been seen yet, or the last one found no socket. */
    public boolean isEmpty() {
        return known.isEmpty();
    }

    /** The sockets of the last scan. */
    public List<ListeningSocket> known() {
        return List.copyOf(known.values());
    }

    /** The owners of the last scan by inode. */
    Map<Long, ListeningSocket> byInode() {
        return new HashMap<>(known);
    }
}
