package org.flexwall.icf;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import org.flexwall.api.packet.ConnectionTracker;
import org.flexwall.api.packet.PacketCounters;
import org.flexwall.api.packet.PacketDecider;
import org.flexwall.api.packet.PacketView;
import org.flexwall.api.packet.PrivateIcf;
import org.flexwall.api.packet.PrivateIcfFactory;
import org.flexwall.api.packet.Verdict;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The stateful ICF as a {@link PacketDecider} of stage {@link PacketDecider#STAGE_ICF}: the packet-bypass stage sends it
 * what is not for a permitted port (S807). Its low ranking keeps hooks that bind any decider on the bypass stage.
 * A configuration change re-creates the component and so empties the table (flows are picked up again from their
 * next outbound segment when {@code loosePickup} is on). As the {@link PrivateIcfFactory} it makes ICFs of their own
 * with the same settings (capture replay decides on one).
 */
@Component(name = IcfComponent.PID,
        service = { PacketDecider.class, PacketCounters.class, ConnectionTracker.class, PrivateIcfFactory.class },
        configurationPolicy = ConfigurationPolicy.OPTIONAL,
        property = { PacketDecider.STAGE + "=" + PacketDecider.STAGE_ICF, "service.ranking:Integer=-100" })
@Designate(ocd = IcfComponent.Config.class)
public final class IcfComponent implements PacketDecider, PacketCounters, ConnectionTracker, PrivateIcfFactory {
    public static final String PID = "org.flexwall.stateful.icf";

    @ObjectClassDefinition(id = PID, name = "flexwall stateful ICF",
            description = "Connection table of flows the appliance or its LAN originated; only their replies come in.")
    public @interface Config {
        @AttributeDefinition(name = "Flow slots", min = "16",
                description = "Flow slots (rounded up to a power of two). Established flows are never "
                + "evicted: when the table is full of them, new outbound flows are refused.")
        int capacity() default 65536;

        @AttributeDefinition(name = "Slots probed", min = "1", description = "Slots examined per lookup or insert.")
        int maxProbe() default 16;

        @AttributeDefinition(name = "TCP SYN sent (s)", min = "1",
                description = "Seconds an unanswered outbound TCP SYN is remembered.")
        long tcpSynSentSeconds() default 60;

        @AttributeDefinition(name = "TCP established (s)", min = "1",
                description = "Seconds an idle established TCP connection is remembered.")
        long tcpEstablishedSeconds() default 86400;

        @AttributeDefinition(name = "TCP closing (s)", min = "1",
                description = "Seconds a TCP connection is remembered after a FIN.")
        long tcpClosingSeconds() default 120;

        @AttributeDefinition(name = "TCP closed (s)", min = "1",
                description = "Seconds a TCP connection is remembered after a RST.")
        long tcpClosedSeconds() default 10;

        @AttributeDefinition(name = "UDP unanswered (s)", min = "1",
                description = "Seconds an unanswered UDP flow is remembered.")
        long udpSeconds() default 30;

        @AttributeDefinition(name = "UDP answered (s)", min = "1",
                description = "Seconds an answered UDP flow is remembered after its last packet.")
        long udpRepliedSeconds() default 180;

        @AttributeDefinition(name = "ICMP echo (s)", min = "1",
                description = "Seconds an ICMP echo request waits for its reply.")
        long icmpSeconds() default 30;

        @AttributeDefinition(name = "Pick up unknown TCP connections",
                description = "Remember a TCP connection from an outbound segment of it when the table "
                + "does not know it (after a restart), so its replies keep flowing.")
        boolean loosePickup() default true;
    }

    @Reference(service = LoggerFactory.class)
    private Logger log;

    private volatile StatefulIcf icf;
    private CoarseClock clock;

    @Activate
    void activate(Config c) {
        long s = TimeUnit.SECONDS.toNanos(1);
        int capacity = Integer.highestOneBit(Math.max(16, Math.min(c.capacity(), 1 << 26)) * 2 - 1);
        StatefulIcf.Settings settings = new StatefulIcf.Settings(capacity,
                Math.max(1, Math.min(c.maxProbe(), capacity)), c.tcpSynSentSeconds() * s,
                c.tcpEstablishedSeconds() * s, c.tcpClosingSeconds() * s, c.tcpClosedSeconds() * s, c.udpSeconds() * s,
                c.udpRepliedSeconds() * s, c.icmpSeconds() * s, c.loosePickup(), 1024, 30 * s);
        clock = new CoarseClock(5);
        icf = new StatefulIcf(settings);
        log.info("stateful ICF active: {} flow slots, probe window {}, established flows kept {} s idle", capacity,
                settings.maxProbe(), c.tcpEstablishedSeconds());
    }

    @Deactivate
    void deactivate() {
        clock.close();
    }

    @Override
    public Verdict decide(PacketView packet) {
        StatefulIcf i = icf;
        return i == null ? Verdict.DROP : i.decide(packet, clock.getAsLong());
    }

    /** Seeds the table from conntrack ({@link ConntrackSeed}); a hook calls it before it hands packets to Java. */
    @Override
    public int adoptKernelConnections() throws java.io.IOException {
        StatefulIcf i = icf;
        if (i == null) {
            throw new java.io.IOException("the stateful ICF is not active");
        }
        java.util.List<ConntrackSeed.Flow> flows = ConntrackSeed.read();
        int taken = ConntrackSeed.adopt(i, flows, ConntrackSeed.localAddresses(), clock.getAsLong());
        log.info("stateful ICF took over {} of {} established flows from the kernel's connection tracking", taken,
                flows.size());
        return taken;
    }

    /** A fresh ICF with this one's settings and a table of its own: about 92 bytes a slot, 6 MB for 65536. */
    @Override
    public PrivateIcf newIcf() {
        return new PrivateStatefulIcf(icf.settings());
    }

    @Override
    public String part() {
        return "stateful ICF";
    }

    /** Accepts and drops by reason, and the connection table's use now (a walk of the table: for status only). */
    @Override
    public Map<String, Long> counters() {
        StatefulIcf i = icf;
        if (i == null) {
            return Map.of();
        }
        Map<String, Long> m = i.counters();
        int[] census = i.table().census(clock.getAsLong());
        m.put("connection table: flows now", (long) IntStream.of(census).sum());
        m.put("connection table: established TCP flows now", (long) census[ConnectionTable.ESTABLISHED]);
        m.put("connection table: slots", (long) i.table().capacity());
        return m;
    }

    /** The core, for status and tests. */
    StatefulIcf icf() {
        return icf;
    }
}
