package org.flexwall.hook.pcap.replay;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.PrivateBypassFactory;
import org.flexwall.api.packet.PrivateIcfFactory;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.replay.ReplayException;
import org.flexwall.api.replay.ReplayReport;
import org.flexwall.packet.parse.ByteView;
import org.flexwall.packet.parse.Ip;

/**
 * One replay: reads a capture ({@link CaptureReader}: pcap, or pcapng through libpcap), finds each frame's IP
 * packet, gives it a direction from the appliance's addresses, has a fresh {@link ReplayEngine} decide it at the
 * frame's capture time, and counts it into its flow. Streams: one frame in memory at a time.
 *
 * <p>Direction: a packet to one of the appliance's addresses is inbound, one from them outbound; one between two of
 * them (loopback) is never filtered and one between two other hosts is not the appliance's: both are only counted.
 */
final class Replayer {
    /** Flows remembered at most: about 170 bytes each, so at most about 3.5 MB of the appliance's small heap. */
    static final int TRACKED_FLOWS = 20_000;

    private final Set<PortKey> ports;
    private final long[] localHigh, localLow;
    private final PrivateBypassFactory bypasses;
    private final PrivateIcfFactory icfs;
    private final int trackedFlows;

    Replayer(Set<PortKey> ports, List<InetAddress> local, PrivateBypassFactory bypasses, PrivateIcfFactory icfs,
            int trackedFlows) {
        this.ports = ports;
        this.bypasses = bypasses;
        this.icfs = icfs;
        this.trackedFlows = trackedFlows;
        localHigh = new long[local.size()];
        localLow = new long[local.size()];
        for (int i = 0; i < local.size(); i++) {
            ByteBuffer b = ByteBuffer.wrap(local.get(i).getAddress());
            if (local.get(i) instanceof Inet4Address) {
                localLow[i] = 0xffff_0000_0000L | b.getInt() & 0xffff_ffffL; // as the ICF keys hold IPv4
            } else {
                localHigh[i] = b.getLong();
                localLow[i] = b.getLong();
            }
        }
    }

    /** Replays {@code capture}; {@code portsFrom}, {@code local} and {@code localFrom} are for the report. */
    ReplayReport replay(Path capture, String portsFrom, List<String> local, String localFrom, int flowLimit)
            throws ReplayException {
        if (!Files.exists(capture)) {
            throw new ReplayException("no such file: " + capture);
        }
        if (!Files.isRegularFile(capture) || !Files.isReadable(capture)) {
            throw new ReplayException(capture + " is not a file flexwall can read");
        }
        long started = System.nanoTime();
        try (CaptureReader reader = CaptureReader.open(capture)) {
            int dlt = reader.linkType();
            String linkType = LinkLayer.name(dlt);
            if (!LinkLayer.supported(dlt)) {
                throw new ReplayException(capture + " is a capture of link type " + dlt
                        + "; replay reads Ethernet, Linux cooked (tcpdump -i any) and raw IP captures");
            }
            ReplayEngine engine = new ReplayEngine(ports, bypasses, icfs);
            Flows flows = new Flows(trackedFlows);
            ByteView view = new ByteView();
            long packets = 0, bytes = 0, passed = 0, dropped = 0, notIp = 0, transit = 0, betweenLocal = 0, clock = 0;
            while (reader.next()) {
                packets++;
                byte[] frame = reader.buffer();
                int start = reader.start(), end = start + reader.captured(), wire = reader.wire();
                bytes += wire;
                clock = Math.max(clock, reader.nanos()); // -i any interleaves: time never runs back
                int ip = LinkLayer.ipOffset(dlt, frame, start, reader.captured());
                if (ip == LinkLayer.NOT_IP) {
                    notIp++;
                    continue;
                }
                int length = start + wire - ip; // as on the wire: the capture may have cut it short
                view.set(frame, ip, length, end, Direction.INBOUND);
                long d = Ip.parse(view);
                boolean v6 = d >= 0 ? Ip.isV6(d) : (frame[ip] & 0xf0) == 0x60;
                if (end - ip < (v6 ? 40 : 20)) { // no addresses to give it a direction: decided inbound
                    int rule = engine.decide(view, clock);
                    passed += ReplayEngine.passes(rule) ? 1 : 0;
                    dropped += ReplayEngine.passes(rule) ? 0 : 1;
                    continue;
                }
                long sh = Ip.sourceHigh(view, 0, v6), sl = Ip.sourceLow(view, 0, v6);
                long dh = Ip.destinationHigh(view, 0, v6), dl = Ip.destinationLow(view, 0, v6);
                boolean toUs = local(dh, dl), fromUs = local(sh, sl);
                if (toUs && fromUs) {
                    betweenLocal++;
                    continue;
                }
                if (!toUs && !fromUs) {
                    transit++;
                    continue;
                }
                Direction direction = toUs ? Direction.INBOUND : Direction.OUTBOUND;
                view.set(frame, ip, length, end, direction);
                int rule = engine.decide(view, clock);
                if (ReplayEngine.passes(rule)) {
                    passed++;
                } else {
                    dropped++;
                }
                int protocol = -1, sp = 0, dp = 0;
                if (d >= 0) {
                    protocol = Ip.protocol(d);
                    if (Ip.hasPorts(d)) {
                        sp = Ip.sourcePort(view, d);
                        dp = Ip.destinationPort(view, d);
                    } else if (!Ip.nonFirstFragment(d) && (protocol == Ip.ICMP || protocol == Ip.ICMPV6)) {
                        sp = view.byteAt(Ip.transportOffset(d));
                        dp = view.byteAt(Ip.transportOffset(d) + 1);
                    }
                }
                flows.count(new Flows.Key(sh, sl, dh, dl, protocol, sp, dp), direction, wire, rule);
            }
            return new ReplayReport(capture.toString(), linkType, names(ports), portsFrom, local, localFrom, packets,
                    bytes, passed, dropped, notIp, transit, betweenLocal, flows.size(), flows.report(flowLimit),
                    flows.untracked(), System.nanoTime() - started);
        } catch (java.io.IOException e) {
            throw new ReplayException(capture + " cannot be read: " + e.getMessage());
        }
    }

    /** The address without an IPv6 scope (fe80::1%eth0): the scope is not in a packet. */
    static InetAddress withoutScope(InetAddress a) {
        try {
            return InetAddress.getByAddress(a.getAddress());
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException("4 or 16 bytes are always an address", e);
        }
    }

    private boolean local(long high, long low) {
        for (int i = 0; i < localLow.length; i++) {
            if (localLow[i] == low && localHigh[i] == high) {
                return true;
            }
        }
        return false;
    }

    /** "tcp/5400", "udp6/53": the permitted ports as an operator writes them, sorted. */
    static List<String> names(Set<PortKey> ports) {
        return ports.stream().sorted(java.util.Comparator.comparing(PortKey::protocol)
                .thenComparing(PortKey::family).thenComparingInt(PortKey::port)).map(Replayer::name).toList();
    }

    static String name(PortKey k) {
        return k.protocol().name().toLowerCase() + (k.family() == AddressFamily.IPV6 ? "6" : "") + "/" + k.port();
    }
}
