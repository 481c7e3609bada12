package org.flexwall.packet.bypass;

import static org.flexwall.packet.testing.PacketBuilder.ACK;
import static org.flexwall.packet.testing.PacketBuilder.PSH;
import static org.flexwall.packet.testing.PacketBuilder.SYN;

import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.PacketDecider;
import org.flexwall.api.packet.PacketView;
import org.flexwall.api.packet.Verdict;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.Protocol;
import org.flexwall.icf.CoarseClock;
import org.flexwall.icf.StatefulIcf;
import org.flexwall.packet.parse.ByteView;
import org.flexwall.packet.testing.PacketBuilder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.State;

/**
 * Decisions per second of the packet engine (bypass in front of the stateful ICF), one thread, on packets as a hook
 * hands them over (a {@link PacketView} with bounds-checked byteAt). The ICF reads its time from a
 * {@link CoarseClock}, as its DS component does. Baselines in the same run: an empty decide through the same interface, and a walk over
 * the bytes a decision reads.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class EngineBenchmark {
    static final String US = "192.0.2.1", THEM = "198.51.100.7", US6 = "2001:db8::1", THEM6 = "2001:db8:ffff::7";

    Bypass bypass;
    StatefulIcf icf;
    CoarseClock clock;
    PacketDecider empty;
    PacketView permitted, permitted6, reply, reply6, closed, malformed;

    @Setup
    public void setUp() {
        PortBitmap bitmap = new PortBitmap(); // what the port store's snapshot leaves in packet bypass's table
        bitmap.replace(Set.of(new PortKey(Protocol.TCP, AddressFamily.IPV4, 22),
                new PortKey(Protocol.TCP, AddressFamily.IPV6, 22)));
        icf = new StatefulIcf(StatefulIcf.Settings.defaults());
        clock = new CoarseClock(5);
        PacketDecider stage = p -> icf.decide(p, clock.getAsLong()); // what IcfComponent.decide does
        bypass = new Bypass(bitmap, () -> stage, System::nanoTime);
        empty = p -> p.direction() == Direction.INBOUND ? Verdict.ACCEPT : Verdict.DROP;

        permitted = in(PacketBuilder.v4(THEM, US).tcp(50000, 22, ACK | PSH).seq(1).ack(1).payload(64));
        permitted6 = in(PacketBuilder.v6(THEM6, US6).tcp(50000, 22, ACK | PSH).seq(1).ack(1).payload(64));
        reply = open(PacketBuilder.v4(US, THEM), PacketBuilder.v4(THEM, US));
        reply6 = open(PacketBuilder.v6(US6, THEM6), PacketBuilder.v6(THEM6, US6));
        closed = in(PacketBuilder.v4(THEM, US).tcp(50000, 23, SYN).seq(1));
        byte[] bad = PacketBuilder.v4(THEM, US).tcp(50000, 22, SYN).build();
        bad[0] = 0x44; // IHL 4
        malformed = ByteView.of(bad, Direction.INBOUND);
        for (PacketView p : new PacketView[] { permitted, permitted6, reply, reply6 }) {
            if (bypass.decide(p) != Verdict.ACCEPT) {
                throw new IllegalStateException("set-up: a packet meant to pass was dropped");
            }
        }
        if (bypass.decide(closed) != Verdict.DROP || bypass.decide(malformed) != Verdict.DROP) {
            throw new IllegalStateException("set-up: a packet meant to be dropped passed");
        }
    }

    @TearDown
    public void tearDown() {
        clock.close();
    }

    /** Opens 40000 -> 443 through the engine and returns an in-window data segment of it. */
    PacketView open(PacketBuilder out, PacketBuilder in) {
        bypass.decide(ByteView.of(out.tcp(40000, 443, SYN).seq(1000).windowScale(7).build(), Direction.OUTBOUND));
        bypass.decide(ByteView.of(in.tcp(443, 40000, SYN | ACK).seq(5000).ack(1001).windowScale(7).build(),
                Direction.INBOUND));
        return in(in.tcp(443, 40000, ACK | PSH).seq(5001).ack(1001).payload(64));
    }

    static PacketView in(PacketBuilder b) {
        return ByteView.of(b.build(), Direction.INBOUND);
    }

    @Benchmark
    public Verdict permittedPortHit() {
        return bypass.decide(permitted);
    }

    @Benchmark
    public Verdict permittedPortHitIpv6() {
        return bypass.decide(permitted6);
    }

    @Benchmark
    public Verdict connectionTableHit() {
        return bypass.decide(reply);
    }

    @Benchmark
    public Verdict connectionTableHitIpv6() {
        return bypass.decide(reply6);
    }

    /** A SYN to a closed port: parsed, missed in the bitmap, missed in the table, dropped. */
    @Benchmark
    public Verdict closedPortDrop() {
        return bypass.decide(closed);
    }

    @Benchmark
    public Verdict malformedDrop() {
        return bypass.decide(malformed);
    }

    /** Baseline: a decider that reads one field, through the same interface call. */
    @Benchmark
    public Verdict baselineEmptyDecide() {
        return empty.decide(reply);
    }

    /** Baseline: read the 40 header bytes an IPv4 TCP decision reads at least, and nothing else. */
    @Benchmark
    public int baselineWalkHeaderBytes() {
        int sum = 0;
        for (int i = 0; i < 40; i++) {
            sum += reply.byteAt(i);
        }
        return sum;
    }

    // --- where the time goes (not baselines: parts of the engine) ---------------------------------------------------

    @Benchmark
    public long partNanoTime() {
        return System.nanoTime();
    }

    @Benchmark
    public long partParse() {
        return org.flexwall.packet.parse.Ip.parse(reply);
    }

    /** What hook-nfqueue's first-packet mode reads of a queued SYN: its destination, for the port store. */
    @Benchmark
    public int partFirstPacketDestination() {
        return org.flexwall.packet.parse.Ip.destination(closed, true);
    }

    @Benchmark
    public Verdict partIcfFixedClock() {
        return icf.decide(reply, 0);
    }
}
