package org.flexwall.console.firewall;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.flexwall.api.packet.DropCount;
import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.DroppedPacket;

/**
 * Dropped inbound attempts aggregated per (source, protocol, port): from the kernel's drop record (cumulative counters,
 * read as they are), or, without one, from the user-space hooks' recent drops (each packet once, by time). Bounded whatever the attack: beyond {@link #capacity} keys the least recently seen is forgotten.
 */
final class DropTally {
    /** One aggregated row. */
    record Row(String source, int protocol, int port, long count, Instant firstSeen, Instant lastSeen) {}

    private record Key(String source, int protocol, int port) {}

    private static final class Entry {
        long kernel;     // the kernel record's counter, as last read
        long userSpace;  // user-space drops counted here
        Instant first;
        Instant last;
    }

    private final int capacity;
    private final LinkedHashMap<Key, Entry> entries = new LinkedHashMap<>(16, 0.75f, true); // access order: LRU
    private Instant userSpaceCursor = Instant.EPOCH;  // the newest user-space drop counted
    private int atCursor;                            // how many drops at exactly that instant were counted
    private long total;                              // every drop counted since start

    DropTally(int capacity) {
        this.capacity = capacity;
    }

    /** Takes the kernel record as it is now: counters only grow while an element lives; a new element starts again. */
    synchronized void kernel(List<DropCount> counts) {
        for (DropCount c : counts) {
            Key k = new Key(c.source(), c.protocol(), c.port());
            Entry e = entry(k, c.lastSeen());
            long delta = c.packets() >= e.kernel ? c.packets() - e.kernel : c.packets(); // timed out and back
            if (delta > 0) {
                total += delta;
                e.last = max(e.last, c.lastSeen());
            }
            e.kernel = c.packets();
        }
        trim();
    }

    /** Counts the user-space drops newer than the last ones counted ({@code drops} oldest first, possibly overlapping). */
    synchronized void userSpace(List<DroppedPacket> drops) {
        Instant newest = userSpaceCursor;
        int newestCount = atCursor;
        int seenAtCursor = 0;
        for (DroppedPacket d : drops) {
            int c = d.time().compareTo(userSpaceCursor);
            if (c < 0 || c == 0 && seenAtCursor++ < atCursor) {
                continue; // counted at an earlier look
            }
            if (d.time().equals(newest)) {
                newestCount++;
            } else if (d.time().isAfter(newest)) {
                newest = d.time();
                newestCount = 1;
            }
            if (d.protocol() < 0 || d.direction() != Direction.INBOUND) {
                continue;
            }
            Entry e = entry(new Key(d.source(), d.protocol(), d.port()), d.time());
            e.userSpace++;
            e.last = max(e.last, d.time());
            total++;
        }
        userSpaceCursor = newest;
        atCursor = newestCount;
        trim();
    }

    /** Every drop counted since the start: its change per second is the drop rate. */
    synchronized long total() {
        return total;
    }

    /** The rows, most recently seen first, at most {@code limit}. */
    synchronized List<Row> rows(int limit) {
        List<Row> rows = new ArrayList<>(entries.size());
        entries.forEach((k, e) -> {
            if (e.kernel + e.userSpace > 0) {
                rows.add(new Row(k.source(), k.protocol(), k.port(), e.kernel + e.userSpace, e.first, e.last));
            }
        });
        rows.sort(Comparator.comparing(Row::lastSeen).reversed());
        return rows.size() > limit ? rows.subList(0, limit) : rows;
    }

    /** Drops counted at {@code port} of {@code protocol}, from any source. */
    synchronized long atPort(int protocol, int port) {
        long n = 0;
        for (Map.Entry<Key, Entry> e : entries.entrySet()) {
            if (e.getKey().protocol() == protocol && e.getKey().port() == port) {
                n += e.getValue().kernel + e.getValue().userSpace;
            }
        }
        return n;
    }

    synchronized int size() {
        return entries.size();
    }

    private Entry entry(Key k, Instant seen) {
        Entry e = entries.get(k);
        if (e == null) {
            e = new Entry();
            e.first = seen;
            e.last = seen;
            entries.put(k, e);
        }
        return e;
    }

    private void trim() {
        Iterator<Entry> it = entries.values().iterator();
        while (entries.size() > capacity && it.hasNext()) {
            it.next();
            it.remove();
        }
    }

    private static Instant max(Instant a, Instant b) {
        return a == null || b.isAfter(a) ? b : a;
    }
}
