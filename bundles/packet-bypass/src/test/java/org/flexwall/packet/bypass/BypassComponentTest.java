package org.flexwall.packet.bypass;

import static org.flexwall.api.packet.Direction.INBOUND;
import static org.flexwall.api.packet.Direction.OUTBOUND;
import static org.flexwall.api.packet.Verdict.ACCEPT;
import static org.flexwall.api.packet.Verdict.DROP;
import static org.flexwall.packet.testing.PacketBuilder.ACK;
import static org.flexwall.packet.testing.PacketBuilder.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.flexwall.api.packet.BypassTableListener;
import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.PacketDecider;
import org.flexwall.api.packet.Verdict;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.Protocol;
import org.flexwall.icf.StatefulIcf;
import org.flexwall.packet.parse.ByteView;
import org.flexwall.packet.testing.PacketBuilder;
import org.junit.jupiter.api.Test;

/** The DS component's references and the port store's events, driven as SCR and the store would call them. */
class BypassComponentTest {
    static final PortKey SSH = new PortKey(Protocol.TCP, AddressFamily.IPV4, 22);
    static final PortKey WEB = new PortKey(Protocol.TCP, AddressFamily.IPV4, 80);

    final BypassComponent component = new BypassComponent();
    final StatefulIcf icf = new StatefulIcf(StatefulIcf.Settings.defaults());
    final PacketDecider icfStage = p -> icf.decide(p, 1);

    Verdict syn(int port) {
        return component.decide(ByteView.of(PacketBuilder.v4("198.51.100.7", "192.0.2.1").tcp(50000, port, SYN)
                .build(), INBOUND));
    }

    @Test
    void theStoresSnapshotAndItsChangesMakeTheTable() {
        component.snapshot(Set.of(SSH));
        assertEquals(ACCEPT, syn(22));
        assertEquals(DROP, syn(80));

        component.opened(WEB);
        assertEquals(ACCEPT, syn(80));
        component.closed(SSH);
        assertEquals(DROP, syn(22));
        assertEquals(1L, component.counters().get("ports in the table"));
    }

    @Test
    void theEmptySnapshotOfAStoppingStoreClosesEveryPort() {
        component.snapshot(Set.of(SSH, WEB));
        component.snapshot(Set.of());
        assertEquals(DROP, syn(22));
        assertEquals(DROP, syn(80));
    }

    @Test
    void firstPacketsAreVerifiedByTheBoundStoreAndDroppedWithoutOne() {
        BypassTest.StoreAnswering store = new BypassTest.StoreAnswering((protocol, family, port) -> port == 22);
        assertFalse(component.firstPacket(Protocol.TCP, AddressFamily.IPV4, 22), "no store: nothing verified");
        component.bindStore(store);
        assertTrue(component.firstPacket(Protocol.TCP, AddressFamily.IPV4, 22));
        assertFalse(component.firstPacket(Protocol.TCP, AddressFamily.IPV4, 80));
        component.unbindStore(store);
        assertFalse(component.firstPacket(Protocol.TCP, AddressFamily.IPV4, 22));

        assertEquals(1L, component.counters().get("first packets admitted: socket verified"));
        assertEquals(2L, component.counters().get("first packets dropped: no port store"));
    }

    @Test
    void withoutTheIcfEverythingButPermittedPortsIsDroppedAndWithItRepliesPass() {
        component.snapshot(Set.of(SSH));
        byte[] out = PacketBuilder.v4("192.0.2.1", "198.51.100.7").tcp(40000, 443, SYN).seq(1).build();
        byte[] reply = PacketBuilder.v4("198.51.100.7", "192.0.2.1").tcp(443, 40000, SYN | ACK).seq(9).ack(2)
                .build();
        assertEquals(DROP, decide(out, OUTBOUND));
        assertEquals(ACCEPT, syn(22));
        component.bindIcf(icfStage);
        assertEquals(ACCEPT, decide(out, OUTBOUND));
        assertEquals(ACCEPT, decide(reply, INBOUND));
        component.unbindIcf(icfStage);
        assertEquals(DROP, decide(reply, INBOUND));
        assertEquals(ACCEPT, syn(22));
    }

    /** What a follower of the table heard, in order. */
    static class Heard implements BypassTableListener {
        final List<String> calls = new ArrayList<>();

        @Override
        public void snapshot(Set<PortKey> open) {
            calls.add("snapshot " + open.stream().map(k -> k.protocol() + "/" + k.family() + "/" + k.port()).sorted()
                    .toList());
        }

        @Override
        public void opened(PortKey port) {
            calls.add("opened " + port.port());
        }

        @Override
        public void closed(PortKey port) {
            calls.add("closed " + port.port());
        }
    }

    @Test
    void aFollowerBoundLaterHearsTheTableAsItIsThenEveryChangeInOrder() {
        PortKey dnsV6 = new PortKey(Protocol.UDP, AddressFamily.IPV6, 53);
        component.snapshot(Set.of(SSH, dnsV6));
        component.opened(WEB);
        Heard follower = new Heard();
        component.bindListener(follower);
        component.closed(SSH);
        component.opened(SSH);
        component.snapshot(Set.of(WEB));
        assertEquals(List.of("snapshot [TCP/IPV4/22, TCP/IPV4/80, UDP/IPV6/53]", "closed 22", "opened 22",
                "snapshot [TCP/IPV4/80]"), follower.calls);

        component.unbindListener(follower);
        component.opened(SSH);
        assertEquals(4, follower.calls.size(), "an unbound follower hears nothing more");
    }

    @Test
    void aFollowerBoundBeforeTheStoresSnapshotHearsNoEmptyTableButThatSnapshot() {
        BypassComponent starting = new BypassComponent(); // as DS activates it: its followers first, then the store
        Heard follower = new Heard();
        starting.bindListener(follower);
        assertEquals(List.of(), follower.calls, "no table yet: the follower keeps the ports it holds");
        starting.snapshot(Set.of(WEB));
        assertEquals(List.of("snapshot [TCP/IPV4/80]"), follower.calls);
    }

    @Test
    void stoppingLeavesEveryFollowerItsTableUntilTheNextComponentsSnapshot() {
        component.snapshot(Set.of(SSH));
        Heard follower = new Heard();
        component.bindListener(follower);
        component.unbindListener(follower); // what DS does when this component stops
        BypassComponent next = new BypassComponent();
        next.snapshot(Set.of(WEB));
        next.bindListener(follower);
        assertEquals(List.of("snapshot [TCP/IPV4/22]", "snapshot [TCP/IPV4/80]"), follower.calls);
    }

    @Test
    void aFailingFollowerKeepsNeitherTheTableNorTheOtherFollowersFromTheChange() {
        BypassTableListener failing = new Heard() {
            @Override
            public void opened(PortKey port) {
                throw new IllegalStateException("broken follower");
            }
        };
        Heard other = new Heard();
        component.snapshot(Set.of());
        component.bindListener(failing);
        component.bindListener(other);
        component.opened(WEB);
        assertEquals(ACCEPT, syn(80));
        assertEquals(List.of("snapshot []", "opened 80"), other.calls);
    }

    @Test
    void theTableListsEveryKeyItHoldsInAllFourProtocolAndFamilyTables() {
        Set<PortKey> keys = Set.of(new PortKey(Protocol.TCP, AddressFamily.IPV4, 1),
                new PortKey(Protocol.TCP, AddressFamily.IPV6, 65535), new PortKey(Protocol.UDP, AddressFamily.IPV4, 64),
                new PortKey(Protocol.UDP, AddressFamily.IPV6, 63), new PortKey(Protocol.UDP, AddressFamily.IPV6, 443));
        PortBitmap table = new PortBitmap();
        table.replace(keys);
        assertEquals(keys, table.keys());
    }

    @Test
    void aPrivateBypassDecidesOnItsOwnPortsAndIcfAndLeavesTheLiveTableAndCountersAlone() {
        component.snapshot(Set.of(SSH));
        component.bindIcf(icfStage);
        Map<String, Long> liveBefore = component.counters();
        List<Direction> askedPrivateIcf = new ArrayList<>();
        Set<PortKey> permitted = new HashSet<>(Set.of(WEB));
        PacketDecider own = component.newBypass(permitted, p -> {
            askedPrivateIcf.add(p.direction());
            return DROP;
        }, () -> 0);
        permitted.clear(); // copied: later changes are not seen

        byte[] toWeb = PacketBuilder.v4("198.51.100.7", "192.0.2.1").tcp(50000, 80, SYN).build();
        byte[] toSsh = PacketBuilder.v4("198.51.100.7", "192.0.2.1").tcp(50000, 22, SYN).build();
        assertEquals(ACCEPT, own.decide(ByteView.of(toWeb, INBOUND)));
        assertEquals(DROP, own.decide(ByteView.of(toSsh, INBOUND)), "SSH is the live table's, not this one's");
        assertEquals(List.of(INBOUND), askedPrivateIcf, "its own ICF, not the live one, decides what it does not pass");

        assertEquals(liveBefore, component.counters());
        assertEquals(DROP, syn(80));
        assertEquals(ACCEPT, syn(22));
    }

    Verdict decide(byte[] p, Direction d) {
        return component.decide(ByteView.of(p, d));
    }
}
