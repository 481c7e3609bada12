package org.flexwall.hook.pcap;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.DroppedPacket;
import org.flexwall.packet.parse.ByteView;
import org.flexwall.packet.parse.Ip;

/**
 * The most recent dropped frames, for the console. Keeps the frame arrays pcap4j allocated anyway and reads them only
 * when asked, so a flood of drops costs one slot write each.
 */
final class RecentDrops {
    private final byte[][] frames;
    private final long[] times;
    private final Direction[] directions;
    private long written;

    RecentDrops(int capacity) {
        frames = new byte[capacity][];
        times = new long[capacity];
        directions = new Direction[capacity];
    }

    synchronized void record(byte[] frame, Direction direction) {
        int i = (int) (written++ % frames.length);
        frames[i] = frame;
        times[i] = System.currentTimeMillis();
        directions[i] = direction;
    }

    /** The kept drops, oldest first. */
    List<DroppedPacket> snapshot() {
        byte[][] f;
        long[] t;
        Direction[] d;
        long end;
        synchronized (this) {
            f = frames.clone();
            t = times.clone();
            d = directions.clone();
            end = written;
        }
        List<DroppedPacket> out = new ArrayList<>();
        for (long k = Math.max(0, end - f.length); k < end; k++) {
            int i = (int) (k % f.length);
            out.add(describe(f[i], t[i], d[i]));
        }
        return out;
    }

    private static DroppedPacket describe(byte[] frame, long time, Direction direction) {
        int ip = Frames.networkOffset(frame, frame.length);
        ByteView v = new ByteView().set(frame, ip, frame.length - ip, frame.length, direction);
        int destination = Ip.destination(v, false);
        int version = v.length() > 0 ? v.byteAt(0) >>> 4 : 0;
        String source = "?", target = "?";
        if (version == 4 && v.length() >= 20) {
            source = address(frame, v, 12, 4);
            target = address(frame, v, 16, 4);
        } else if (version == 6 && v.length() >= 40) {
            source = address(frame, v, 8, 16);
            target = address(frame, v, 24, 16);
        }
        return new DroppedPacket(Instant.ofEpochMilli(time), direction, source, target,
                destination == Ip.NO_DESTINATION ? -1 : Ip.protocolOf(destination),
                destination == Ip.NO_DESTINATION ? 0 : Ip.portOf(destination));
    }

    private static String address(byte[] frame, ByteView v, int at, int length) {
        int from = frame.length - v.length() + at;
        try {
            return InetAddress.getByAddress(Arrays.copyOfRange(frame, from, from + length)).getHostAddress();
        } catch (UnknownHostException e) {
            return "?";
        }
    }
}
