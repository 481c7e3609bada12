package org.flexwall.icf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Field;
import java.util.Map;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.Verdict;
import org.flexwall.packet.parse.ByteView;
import org.flexwall.packet.testing.PacketBuilder;
import org.flexwall.testing.Configs;
import org.flexwall.testing.RecordingLogger;
import org.junit.jupiter.api.Test;

/** The component's counters as {@code flexwall status} reads them: decisions by reason and the table's use. */
class IcfComponentTest {

    @Test
    void countersShowTheFlowItRemembersAndTheUnsolicitedPacketItDropped() throws Exception {
        IcfComponent component = new IcfComponent();
        Field log = IcfComponent.class.getDeclaredField("log");
        log.setAccessible(true);
        log.set(component, RecordingLogger.silent());
        component.activate(Configs.config(IcfComponent.Config.class));
        try {
            byte[] out = PacketBuilder.v4("192.0.2.1", "198.51.100.7").tcp(40000, 443, PacketBuilder.SYN).seq(1)
                    .build();
            byte[] scan = PacketBuilder.v4("198.51.100.7", "192.0.2.1").tcp(50000, 8080, PacketBuilder.SYN).build();
            assertEquals(Verdict.ACCEPT, component.decide(ByteView.of(out, Direction.OUTBOUND)));
            assertEquals(Verdict.DROP, component.decide(ByteView.of(scan, Direction.INBOUND)));

            Map<String, Long> counters = component.counters();
            assertEquals(1L, counters.get("new flows"));
            assertEquals(1L, counters.get("dropped unsolicited"));
            assertEquals(1L, counters.get("connection table: flows now"));
            assertEquals(0L, counters.get("connection table: established TCP flows now"));
            assertEquals(65536L, counters.get("connection table: slots"));
            assertEquals("stateful ICF", component.part());
        } finally {
            component.deactivate();
        }
    }
}
