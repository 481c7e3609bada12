package org.flexwall.packet.bypass;

import static org.flexwall.api.packet.Direction.INBOUND;
import static org.flexwall.api.packet.Direction.OUTBOUND;
import static org.flexwall.api.packet.Verdict.ACCEPT;
import static org.flexwall.api.packet.Verdict.DROP;
import static org.flexwall.packet.testing.PacketBuilder.ACK;
import static org.flexwall.packet.testing.PacketBuilder.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.PacketDecider;
import org.flexwall.api.packet.Verdict;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.PortStore;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.program.TrustedProgram;
import org.flexwall.icf.StatefulIcf;
import org.flexwall.packet.testing.ByteView;
import org.flexwall.packet.testing.PacketBuilder;
import org.junit.jupiter.api.Test;

/** The DS component's reference handling, driven as SCR would call it. */
class BypassComponentTest {
    static final TrustedProgram SSHD = new TrustedProgram("sshd", Path.of("/usr/sbin/sshd"), "a".repeat(64),
            "b".repeat(32), Instant.EPOCH, false);
    static final PermittedPort SSH = new PermittedPort(SSHD, Protocol.TCP, AddressFamily.IPV4, 22, 7, List.of(),
            Instant.EPOCH);
    static final PermittedPort WEB = new PermittedPort(SSHD, Protocol.TCP, AddressFamily.IPV4, 80, 8, List.of(),
            Instant.EPOCH);

    /** The store's contract as the component uses it: a list of what is permitted now. */
    static final class ListStore implements PortStore {
        final List<PermittedPort> permitted = new ArrayList<>();

        @Override
        public List<PermittedPort> permitted() {
            return List.copyOf(permitted);
        }

        boolean isPermitted(Protocol protocol, AddressFamily family, int port) {
            return permitted.stream().anyMatch(p -> p.protocol() == protocol && p.family() == family
                    && p.port() == port);
        }

        @Override
        public boolean permitNow(Protocol protocol, AddressFamily family, int port) {
            return isPermitted(protocol, family, port);
        }

        @Override
        public List<ListeningSocket> refused() {
            return List.of();
        }
    }

    final BypassComponent component = new BypassComponent();
    final StatefulIcf icf = new StatefulIcf(StatefulIcf.Settings.defaults());
    final PacketDecider icfStage = p -> icf.decide(p, 1);

    Verdict syn(int port) {
        return component.decide(ByteView.of(PacketBuilder.v4("198.51.100.7", "192.0.2.1").tcp(50000, port, SYN)
                .build(), INBOUND));
    }

    @Test
    void portsPermittedWhenTheStoreIsBoundPassAndNothingElse() {
        ListStore store = new ListStore();
        store.permitted.add(SSH);
        component.bindStore(store);
        assertEquals(ACCEPT, syn(22));
        assertEquals(DROP, syn(80));
    }

    @Test
    void listenerEventsOpenAndCloseWhileAStoreIsBound() {
        ListStore store = new ListStore();
        component.permitted(WEB); // before any store: nobody could revoke it, so it is not taken
        assertEquals(DROP, syn(80));
        component.bindStore(store);
        component.permitted(WEB);
        assertEquals(ACCEPT, syn(80));
        component.revoked(WEB);
        assertEquals(DROP, syn(80));
    }

    @Test
    void unbindingTheStoreClosesEveryPort() {
        ListStore store = new ListStore();
        store.permitted.add(SSH);
        component.bindStore(store);
        component.unbindStore(store);
        assertEquals(DROP, syn(22));
    }

    @Test
    void aGreedierStoreReplacesTheOldOnesPorts() {
        ListStore old = new ListStore(), replacement = new ListStore();
        old.permitted.add(SSH);
        replacement.permitted.add(WEB);
        component.bindStore(old);
        component.bindStore(replacement); // SCR binds the new service before unbinding the old one
        component.unbindStore(old);
        assertEquals(DROP, syn(22));
        assertEquals(ACCEPT, syn(80));
    }

    @Test
    void withoutTheIcfEverythingButPermittedPortsIsDroppedAndWithItRepliesPass() {
        ListStore store = new ListStore();
        store.permitted.add(SSH);
        component.bindStore(store);
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

    Verdict decide(byte[] p, Direction d) {
        return component.decide(ByteView.of(p, d));
    }
}
