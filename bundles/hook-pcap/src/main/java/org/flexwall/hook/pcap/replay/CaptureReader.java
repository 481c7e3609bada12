package org.flexwall.hook.pcap.replay;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeoutException;

import org.flexwall.api.replay.ReplayException;
import org.pcap4j.core.NotOpenException;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.PcapHandle.TimestampPrecision;
import org.pcap4j.core.PcapNativeException;
import org.pcap4j.core.Pcaps;

/**
 * The frames of a capture file, one at a time. A classic pcap file (the format tcpdump -w writes) is read here,
 * straight from the file into one buffer: through pcap4j every frame costs three native calls and several objects,
 * which made replay three times slower than tcpdump. Everything else (pcapng, and files that are no capture, for
 * libpcap's own message) goes to libpcap through pcap4j.
 */
abstract class CaptureReader implements AutoCloseable {
    /** Bytes a frame may hold at most: libpcap's own limit (MAXIMUM_SNAPLEN). */
    static final int MAX_FRAME = 262144;

    /** Opens {@code file} with the reader its first bytes call for. */
    static CaptureReader open(Path file) throws ReplayException, IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        ByteBuffer magic = ByteBuffer.allocate(4);
        while (magic.hasRemaining() && channel.read(magic) >= 0) {
            // a short file is libpcap's to judge
        }
        int m = magic.hasRemaining() ? 0 : magic.flip().getInt();
        boolean classic = m == 0xa1b2c3d4 || m == 0xd4c3b2a1 || m == 0xa1b23c4d || m == 0x4d3cb2a1;
        if (classic) {
            return new Classic(file, channel.position(0));
        }
        channel.close();
        return new Libpcap(file);
    }

    /** The file's link type (LINKTYPE or DLT number). */
    abstract int linkType();

    /** Moves to the next frame; false at the end of the file. */
    abstract boolean next() throws ReplayException;

    /** The bytes holding the frame, from {@link #start()}, {@link #captured()} of them kept by the capture. */
    abstract byte[] buffer();

    abstract int start();

    abstract int captured();

    /** The frame's length on the wire (at least {@link #captured()}). */
    abstract int wire();

    /** The frame's capture time, nanoseconds since the epoch. */
    abstract long nanos();

    @Override
    public abstract void close();

    /** Classic pcap: a 24-byte file header, then a 16-byte record header before each frame; either byte order. */
    private static final class Classic extends CaptureReader {
        private final Path file;
        private final FileChannel channel;
        private final byte[] bytes = new byte[4 * MAX_FRAME];
        private final ByteBuffer buffer = ByteBuffer.wrap(bytes);
        private final int linkType;
        private final boolean nanosecond;
        private long frames;
        private int start, captured, wire;
        private long nanos;

        Classic(Path file, FileChannel channel) throws ReplayException, IOException {
            this.file = file;
            this.channel = channel;
            buffer.limit(0);
            if (!fill(24)) {
                throw new ReplayException(file + " is damaged: its pcap file header is cut short");
            }
            int magic = buffer.getInt(0);
            if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
                buffer.order(ByteOrder.LITTLE_ENDIAN);
            }
            nanosecond = magic == 0xa1b23c4d || magic == 0x4d3cb2a1;
            if (buffer.getShort(4) != 2) {
                throw new ReplayException(file + " is a pcap file of version " + buffer.getShort(4)
                        + ", which replay does not read (2 is the one in use)");
            }
            linkType = buffer.getInt(20) & 0xffff; // the upper bits tell about frame check sequences
            buffer.position(24);
        }

        @Override
        int linkType() {
            return linkType;
        }

        @Override
        boolean next() throws ReplayException {
            try {
                if (!fill(16)) {
                    if (buffer.hasRemaining()) {
                        throw damaged("truncated dump file; a record header is cut short");
                    }
                    return false;
                }
                int at = buffer.position();
                long seconds = buffer.getInt(at) & 0xffff_ffffL, fraction = buffer.getInt(at + 4) & 0xffff_ffffL;
                captured = buffer.getInt(at + 8);
                wire = buffer.getInt(at + 12);
                if (captured < 0 || captured > MAX_FRAME) {
                    throw damaged("a record claims " + (captured & 0xffff_ffffL) + " captured bytes, more than "
                            + MAX_FRAME + " (libpcap's limit)");
                }
                buffer.position(at + 16);
                if (!fill(captured)) {
                    throw damaged("truncated dump file; the last record wants " + captured + " bytes, "
                            + buffer.remaining() + " remain");
                }
                start = buffer.position();
                buffer.position(start + captured);
                wire = wire < captured ? captured : wire; // a wire length below the captured one is a writer's bug
                nanos = seconds * 1_000_000_000L + (nanosecond ? fraction : fraction * 1000);
                frames++;
                return true;
            } catch (IOException e) {
                throw damaged("it cannot be read: " + e.getMessage());
            }
        }

        /** Whether {@code n} bytes are at the buffer's position, reading more of the file as needed. */
        private boolean fill(int n) throws IOException {
            if (buffer.remaining() >= n) {
                return true;
            }
            buffer.compact(); // moves what is left to the front; the buffer now takes more
            while (buffer.position() < n && channel.read(buffer) >= 0) {
                // a file reads in pieces
            }
            buffer.flip();
            return buffer.remaining() >= n;
        }

        private ReplayException damaged(String why) {
            return new ReplayException(file + " is damaged after " + frames + " packets: " + why);
        }

        @Override
        byte[] buffer() {
            return bytes;
        }

        @Override
        int start() {
            return start;
        }

        @Override
        int captured() {
            return captured;
        }

        @Override
        int wire() {
            return wire;
        }

        @Override
        long nanos() {
            return nanos;
        }

        @Override
        public void close() {
            try {
                channel.close();
            } catch (IOException e) {
                // read only: nothing is lost
            }
        }
    }

    /** Whatever else libpcap reads (pcapng above all), through pcap4j. */
    private static final class Libpcap extends CaptureReader {
        private final Path file;
        private final PcapHandle handle;
        private long frames;
        private byte[] frame;
        private int wire;
        private long nanos;

        Libpcap(Path file) throws ReplayException {
            this.file = file;
            try {
                handle = Pcaps.openOffline(file.toString(), TimestampPrecision.NANO);
            } catch (PcapNativeException e) {
                throw new ReplayException(file + " is not a capture libpcap can read (pcap or pcapng): "
                        + e.getMessage());
            }
        }

        @Override
        int linkType() {
            return handle.getDlt().value();
        }

        @Override
        boolean next() throws ReplayException {
            while (true) {
                try {
                    frame = handle.getNextRawPacketEx();
                    wire = Math.max(handle.getOriginalLength(), frame.length);
                    java.sql.Timestamp t = handle.getTimestamp();
                    nanos = Math.floorDiv(t.getTime(), 1000) * 1_000_000_000L + t.getNanos();
                    frames++;
                    return true;
                } catch (EOFException e) {
                    return false;
                } catch (TimeoutException e) {
                    continue; // live captures only; a file never times out
                } catch (PcapNativeException e) {
                    throw new ReplayException(file + " is damaged after " + frames + " packets: " + e.getMessage());
                } catch (NotOpenException e) {
                    throw new IllegalStateException("the capture was closed while being read", e);
                }
            }
        }

        @Override
        byte[] buffer() {
            return frame;
        }

        @Override
        int start() {
            return 0;
        }

        @Override
        int captured() {
            return frame.length;
        }

        @Override
        int wire() {
            return wire;
        }

        @Override
        long nanos() {
            return nanos;
        }

        @Override
        public void close() {
            handle.close();
        }
    }
}
