package org.flexwall.icf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import java.lang.reflect.Field;
import java.lang.reflect.Proxy;
import java.util.Map;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.IcfDecision;
import org.flexwall.api.packet.PrivateIcf;
import org.flexwall.api.packet.Verdict;
import org.flexwall.packet.parse.ByteView;
import org.flexwall.packet.testing.PacketBuilder;
import org.junit.jupiter.api.Test;
import org.osgi.service.log.Logger;

/** ICFs of a caller's own, as capture replay gets them from the live component's factory service. */
class PrivateStatefulIcfTest {
    static final String US = "192.0.2.1", PEER = "198.51.100.7";
    static final long S = 1_000_000_000L;

    final PrivateStatefulIcf icf = new PrivateStatefulIcf(StatefulIcf.Settings.defaults());

    static ByteView in(PacketBuilder b) {
        return ByteView.of(b.build(), Direction.INBOUND);
    }

    static ByteView out(PacketBuilder b) {
        return ByteView.of(b.build(), Direction.OUTBOUND);
    }

    @Test
    void eachDecisionNamesTheRuleThatMadeIt() {
        assertEquals(IcfDecision.OUTBOUND,
                icf.decide(out(PacketBuilder.v4(US, PEER).tcp(40000, 443, PacketBuilder.SYN).seq(1)), 1));
        assertEquals(IcfDecision.REPLY, icf.decide(in(PacketBuilder.v4(PEER, US).tcp(443, 40000,
                PacketBuilder.SYN | PacketBuilder.ACK).seq(9).ack(2)), 2));
        assertEquals(IcfDecision.UNSOLICITED,
                icf.decide(in(PacketBuilder.v4(PEER, US).tcp(50000, 8080, PacketBuilder.SYN)), 3));
        assertEquals(IcfDecision.UNKNOWN_ICMP_ERROR, icf.decide(in(PacketBuilder.v4(PEER, US).icmpError(3, 3,
                PacketBuilder.v4(US, PEER).udp(40001, 53).build())), 4));
        assertEquals(IcfDecision.UNKNOWN_FRAGMENT,
                icf.decide(in(PacketBuilder.v4(PEER, US).udp(53, 40002).payload(64).fragment(16, false, 77)), 4));
        assertEquals(IcfDecision.ON_LINK_OR_FRAGMENT,
                icf.decide(in(PacketBuilder.v6("fe80::2", "fe80::1").icmp(135, 0, 0).hopLimit(255)), 4));
        assertEquals(IcfDecision.MALFORMED, icf.decide(ByteView.of(new byte[] { 0x45, 0 }, Direction.INBOUND), 5));
        assertEquals(Verdict.DROP, IcfDecision.MALFORMED.verdict());
    }

    @Test
    void aFlowTimesOutOnTheCallersClock() {
        icf.decide(out(PacketBuilder.v4(US, PEER).udp(40000, 53)), 0);
        long later = StatefulIcf.Settings.defaults().udp() + S;
        assertEquals(IcfDecision.UNSOLICITED, icf.decide(in(PacketBuilder.v4(PEER, US).udp(53, 40000)), later));
    }

    @Test
    void aPrivateIcfFromTheComponentSharesNothingWithTheLiveOne() throws Exception {
        IcfComponent component = new IcfComponent();
        Field log = IcfComponent.class.getDeclaredField("log");
        log.setAccessible(true);
        log.set(component, Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[] { Logger.class },
                (p, m, args) -> null));
        component.activate((IcfComponent.Config) Proxy.newProxyInstance(IcfComponent.Config.class.getClassLoader(),
                new Class<?>[] { IcfComponent.Config.class },
                (p, m, args) -> m.getName().equals("udpSeconds") ? 7L : m.getDefaultValue()));
        try {
            Map<String, Long> liveBefore = component.counters();
            PrivateIcf own = component.newIcf();
            assertNotSame(component.newIcf(), own);

            assertEquals(IcfDecision.OUTBOUND, own.decide(out(PacketBuilder.v4(US, PEER).udp(40000, 53)), 0));
            assertEquals(IcfDecision.UNSOLICITED, own.decide(in(PacketBuilder.v4(PEER, US).udp(53, 40000)), 8 * S),
                    "the live settings' 7 s UDP timeout");
            assertEquals(IcfDecision.UNSOLICITED,
                    own.decide(in(PacketBuilder.v4(PEER, US).tcp(50000, 8080, PacketBuilder.SYN)), 9 * S));

            assertEquals(liveBefore, component.counters(), "the live table and counters are unchanged");
            assertEquals(0L, component.counters().get("connection table: flows now"));
            assertEquals(Verdict.DROP, component.decide(ByteView.of(PacketBuilder.v4(PEER, US).udp(53, 40000)
                    .build(), Direction.INBOUND)), "the private flow is not the live one's");
        } finally {
            component.deactivate();
        }
    }
}
