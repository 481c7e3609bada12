package org.flexwall.port.monitor.tracefs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;

import org.flexwall.api.port.PortActivityListener;
import org.flexwall.api.port.Protocol;
import org.junit.jupiter.api.Test;

/** The lines read in one go become one hint for the monitor: it rescans once per burst, on the reader's thread. */
class HintsTest {
    private final List<String> told = new ArrayList<>();
    private final PortActivityListener monitor = (protocol, port) -> told.add(protocol + "/" + port);
    private final TracefsPortActivity.Hints hints = new TracefsPortActivity.Hints();

    @Test
    void oneLineIsToldWithItsPort() {
        hints.add(Protocol.TCP, 8443);
        hints.tell(event -> event.accept(monitor));
        assertEquals(List.of("TCP/8443"), told);
    }

    @Test
    void aBurstIsToldOnceNamingNoPort() {
        hints.add(Protocol.TCP, 8443);
        hints.add(null, 0);
        hints.add(Protocol.TCP, 9001);
        hints.tell(event -> event.accept(monitor));
        hints.tell(event -> event.accept(monitor));
        assertEquals(List.of("null/0"), told, "one rescan for the burst, none after it");
    }

    @Test
    void nothingReadIsNothingTold() {
        hints.tell(event -> event.accept(monitor));
        assertEquals(List.of(), told);
    }
}
