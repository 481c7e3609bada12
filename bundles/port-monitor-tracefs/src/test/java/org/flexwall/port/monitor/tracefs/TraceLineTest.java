package org.flexwall.port.monitor.tracefs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;

import org.flexwall.api.port.Protocol;
import org.junit.jupiter.api.Test;

class TraceLineTest {
    private final List<String> got = new ArrayList<>();

    private void dispatch(String line) {
        TraceLine.dispatch(line, (p, port) -> got.add(p + ":" + port));
    }

    @Test
    void tcpStateChangeYieldsItsPort() {
        dispatch("socat-1234 [001] ..... 123.456: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=8080 "
                + "dport=0 saddr=0.0.0.0 daddr=0.0.0.0 saddrv6=:: daddrv6=:: oldstate=TCP_CLOSE newstate=TCP_LISTEN");
        assertEquals(List.of(Protocol.TCP + ":8080"), got);
    }

    @Test
    void mptcpAndSctpStateChangesAreIgnored() {
        dispatch("x-1 [000] ..... 1.0: inet_sock_set_state: family=AF_INET protocol=IPPROTO_SCTP sport=9 dport=0");
        assertEquals(List.of(), got);
    }

    @Test
    void bindExitWakesWithoutAPort() {
        dispatch("python3-99 [000] ..... 5.0: sys_bind -> 0x0");
        assertEquals(List.of("null:0"), got);
    }

    @Test
    void malformedPortsReadAsUnknown() {
        assertEquals(0, TraceLine.number("sport=99999999", "sport="));
        assertEquals(0, TraceLine.number("no port here", "sport="));
        assertEquals(53, TraceLine.number("sport=53 dport=0", "sport="));
    }

    @Test
    void unrelatedLinesAreIgnored() {
        dispatch("<idle>-0 [001] d..1. 9.0: tracing_mark_write: hello");
        assertEquals(List.of(), got);
    }
}
