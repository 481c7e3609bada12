package org.flexwall.hook.pcap;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

import org.flexwall.api.packet.BypassTable;
import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.PacketDecider;
import org.flexwall.api.packet.Verdict;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.flexwall.packet.parse.ByteView;
import org.flexwall.packet.parse.Ip;
import org.pcap4j.core.NotOpenException;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.PcapNativeException;
import org.pcap4j.core.RawPacketListener;

/**
 * One direction of the bridge (or of the monitor): a thread takes each frame captured on one interface, decides it
 * and, if it passes, sends it out of the other ({@code to}; none in monitor mode, which only counts). ARP and
 * neighbour discovery pass; IP meets the engine's {@link PacketDecider}, and is dropped while none is bound (fail
 * closed); any other frame is dropped.
 */
final class Leg implements Runnable {
    static final int PASSED = 0, FIRST_PACKET_ADMITTED = 1, ARP = 2, NEIGHBOUR_DISCOVERY = 3,
            DROPPED_BY_ENGINE = 4, DROPPED_MALFORMED = 5, DROPPED_UNBOUND = 6, DROPPED_NOT_IP = 7,
            DROPPED_DECISION_ERROR = 8, SEND_ERRORS = 9;
    private static final String[] BRIDGE_NAMES = { "IP forwarded", "first packets forwarded: socket verified now",
            "ARP forwarded", "neighbour discovery forwarded", "dropped by the engine", "dropped malformed",
            "dropped: no packet decider", "dropped: neither IP nor ARP", "dropped: decision error", "send errors" };
    private static final String[] MONITOR_NAMES = { "IP would pass", "first packets would pass: socket verified now",
            "ARP seen", "neighbour discovery seen", "would drop: the engine", "would drop: malformed",
            "would drop: no packet decider", "would drop: neither IP nor ARP", "would drop: decision error",
            "send errors" };

    final String name;
    private final PcapHandle from;
    private final PcapHandle to;
    private final Direction direction;
    private final ByteView view = new ByteView();
    private final Supplier<PacketDecider> decider;
    private final Supplier<BypassTable> firstPackets;
    private final TokenBucket firstPacketRate;
    private final RecentDrops drops;
    private final Problems problems;
    private final LongAdder[] counters = new LongAdder[SEND_ERRORS + 1];
    private volatile boolean running = true;
    private volatile String failure;
    private Thread thread;

    /** Reports trouble on the packet path, at most once per kind and interval. */
    interface Problems {
        void report(String kind, String message);
    }

    /**
     * @param firstPackets asked about the first packet of a new inbound flow the engine dropped, or null not to ask
     * @param firstPacketRate how many of them it is asked about at most
     */
    Leg(String name, PcapHandle from, PcapHandle to, Direction direction, Supplier<PacketDecider> decider,
            Supplier<BypassTable> firstPackets, TokenBucket firstPacketRate, RecentDrops drops, Problems problems) {
        this.name = name;
        this.from = from;
        this.to = to;
        this.direction = direction;
        this.decider = decider;
        this.firstPackets = firstPackets;
        this.firstPacketRate = firstPacketRate;
        this.drops = drops;
        this.problems = problems;
        for (int i = 0; i < counters.length; i++) {
            counters[i] = new LongAdder();
        }
    }

    void start() {
        thread = new Thread(this, "flexwall-pcap-" + name.replace(' ', '-'));
        thread.setDaemon(true);
        thread.start();
    }

    /** Asks the thread to stop and waits for it up to {@code millis}; true when it stopped. */
    boolean stop(long millis) throws InterruptedException {
        running = false;
        breakLoop();
        if (thread != null) {
            thread.join(millis);
            return !thread.isAlive();
        }
        return true;
    }

    boolean alive() {
        return thread != null && thread.isAlive();
    }

    /** Why the thread ended by itself, or null. */
    String failure() {
        return failure;
    }

    /** Asks the thread to stop: libpcap's breakloop wakes its wait for a frame (libpcap 1.10 and later). */
    private void breakLoop() {
        try {
            from.breakLoop();
        } catch (NotOpenException e) {
            // closed already: the loop has ended
        }
    }

    @Override
    public void run() {
        try {
            // a read with a timeout would not do: on Linux, libpcap waits for the first frame however long it takes
            from.loop(-1, (RawPacketListener) this::handle);
        } catch (InterruptedException e) {
            return; // breakLoop: asked to stop
        } catch (PcapNativeException | NotOpenException | RuntimeException e) {
            if (running) {
                failure = "capture on " + name + " failed: " + e.getMessage();
            }
        }
    }

    private void handle(byte[] frame) {
        int verdict = decide(frame);
        counters[verdict].increment();
        if (verdict < DROPPED_BY_ENGINE) {
            forward(frame);
        } else {
            drops.record(frame, direction);
        }
    }

    /** One of PASSED ... DROPPED_DECISION_ERROR. Leg thread only. */
    int decide(byte[] frame) {
        switch (Frames.kind(frame, frame.length)) {
            case Frames.ARP:
                return ARP;
            case Frames.NEIGHBOUR_DISCOVERY:
                return NEIGHBOUR_DISCOVERY;
            case Frames.IPV4:
            case Frames.IPV6:
                break;
            default:
                return DROPPED_NOT_IP;
        }
        PacketDecider d = decider.get();
        if (d == null) {
            return DROPPED_UNBOUND;
        }
        int ip = Frames.networkOffset(frame, frame.length);
        view.set(frame, ip, frame.length - ip, frame.length, direction);
        try {
            if (d.decide(view) == Verdict.ACCEPT) {
                return PASSED;
            }
            if (firstPackets != null && direction == Direction.INBOUND && admitFirstPacket()) {
                return FIRST_PACKET_ADMITTED;
            }
        } catch (RuntimeException e) {
            problems.report("decision", name + ": the packet decider failed (" + e + "); the frame is dropped");
            return DROPPED_DECISION_ERROR;
        }
        return Ip.parse(view) < 0 ? DROPPED_MALFORMED : DROPPED_BY_ENGINE;
    }

    /**
     * The first packet of a new inbound flow (a bare SYN, a datagram) that the engine dropped may be meant for a
     * trusted program's socket the port monitor has not reported yet: packet bypass has the port store verify the
     * receiving socket now, as it does for the kernel path's first packets (no race between listen() and the first
     * packet). At most {@code firstPacketRate} such questions; the rest stay dropped.
     */
    private boolean admitFirstPacket() {
        int destination = Ip.destination(view, true);
        BypassTable table = firstPackets.get();
        if (destination == Ip.NO_DESTINATION || table == null || !firstPacketRate.take(System.nanoTime())) {
            return false;
        }
        return table.firstPacket(Ip.protocolOf(destination) == Ip.TCP ? Protocol.TCP : Protocol.UDP,
                Ip.isV6Destination(destination) ? AddressFamily.IPV6 : AddressFamily.IPV4, Ip.portOf(destination));
    }

    private void forward(byte[] frame) {
        if (to == null) {
            return;
        }
        try {
            to.sendPacket(frame, frame.length);
        } catch (PcapNativeException | NotOpenException | RuntimeException e) {
            counters[SEND_ERRORS].increment();
            problems.report("send", name + ": a frame of " + frame.length + " bytes could not be sent ("
                    + e.getMessage() + ")");
        }
    }

    /** The counts by name, prefixed with this leg's name. */
    void counters(boolean monitor, java.util.Map<String, Long> into) {
        String[] names = monitor ? MONITOR_NAMES : BRIDGE_NAMES;
        for (int i = 0; i < counters.length; i++) {
            if (monitor && i == SEND_ERRORS) {
                continue;
            }
            into.put(name + ": " + names[i], counters[i].sum());
        }
    }

    long count(int counter) {
        return counters[counter].sum();
    }
}
