package org.flexwall.hook.nfqueue;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.DroppedPacket;
import org.flexwall.api.packet.PacketView;
import org.flexwall.packet.parse.Ip;

/**
 * The most recent drops, for the console. One writer (the receive thread) fills preallocated slots without allocating
 * or locking; readers copy slots under a per-slot sequence number (a seqlock) and skip slots overwritten meanwhile.
 */
final class DropRing {
    private static final VarHandle SEQ = MethodHandles.arrayElementVarHandle(long[].class);
    private static final Direction[] DIRECTIONS = Direction.values();

    private final int capacity;
    private final long[] seq;       // 2 * (records written to the slot), odd while one is being written
    private final long[] time;
    private final byte[] direction;
    private final byte[] version;   // 4, 6, or 0 when the addresses did not parse
    private final byte[] addresses; // 32 bytes a slot: source, then destination (IPv4 uses the first 4 of each)
    private final int[] protocol;
    private final int[] port;
    private long written;           // only the writer touches it
    private volatile long published;

    DropRing(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1: " + capacity);
        }
        this.capacity = capacity;
        seq = new long[capacity];
        time = new long[capacity];
        direction = new byte[capacity];
        version = new byte[capacity];
        addresses = new byte[capacity * 32];
        protocol = new int[capacity];
        port = new int[capacity];
    }

    /** Records a dropped packet. Writer thread only. */
    void record(long epochMillis, PacketView p) {
        int i = (int) (written % capacity);
        long s = seq[i];
        SEQ.setOpaque(seq, i, s + 1);
        VarHandle.storeStoreFence();
        time[i] = epochMillis;
        direction[i] = (byte) p.direction().ordinal();
        int destination = Ip.destination(p, false);
        protocol[i] = destination == Ip.NO_DESTINATION ? -1 : Ip.protocolOf(destination);
        port[i] = destination == Ip.NO_DESTINATION ? 0 : Ip.portOf(destination);
        version[i] = copyAddresses(p, i * 32);
        SEQ.setRelease(seq, i, s + 2);
        published = ++written;
    }

    private byte copyAddresses(PacketView p, int at) {
        int len = p.length();
        int v = len > 0 ? p.byteAt(0) >>> 4 : 0;
        if (v == 4 && len >= 20) {
            for (int k = 0; k < 4; k++) {
                addresses[at + k] = (byte) p.byteAt(12 + k);
                addresses[at + 16 + k] = (byte) p.byteAt(16 + k);
            }
            return 4;
        }
        if (v == 6 && len >= 40) {
            for (int k = 0; k < 16; k++) {
                addresses[at + k] = (byte) p.byteAt(8 + k);
                addresses[at + 16 + k] = (byte) p.byteAt(24 + k);
            }
            return 6;
        }
        return 0;
    }

    /** The kept drops, oldest first. Any thread. */
    List<DroppedPacket> snapshot() {
        long end = published;
        long start = Math.max(0, end - capacity);
        List<DroppedPacket> out = new ArrayList<>((int) (end - start));
        byte[] a = new byte[32];
        for (long k = start; k < end; k++) {
            int i = (int) (k % capacity);
            long expected = 2 * (k / capacity + 1);
            long before = (long) SEQ.getAcquire(seq, i);
            if (before != expected) {
                continue; // overwritten by a newer drop (or being written): that one is reported instead
            }
            long t = time[i];
            int d = direction[i];
            int v = version[i];
            int proto = protocol[i];
            int dport = port[i];
            System.arraycopy(addresses, i * 32, a, 0, 32);
            VarHandle.loadLoadFence();
            if ((long) SEQ.getOpaque(seq, i) != before) {
                continue;
            }
            out.add(new DroppedPacket(Instant.ofEpochMilli(t), DIRECTIONS[d], address(a, 0, v), address(a, 16, v),
                    proto, dport));
        }
        return out;
    }

    /** How many drops were recorded since start. */
    long total() {
        return published;
    }

    private static String address(byte[] a, int from, int version) {
        if (version == 0) {
            return "?";
        }
        try {
            return InetAddress.getByAddress(Arrays.copyOfRange(a, from, from + (version == 4 ? 4 : 16)))
                    .getHostAddress();
        } catch (UnknownHostException e) {
            return "?"; // cannot happen for 4 or 16 bytes
        }
    }
}
