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

    @Test
    void pidfdGetfdOfFlexwallsOwnThreadsIsIgnoredAndOfOthersReported() throws Exception {
        // this JVM's thread id, as the trace's task field names it: /proc/thread-self is PID/task/TID
        String tid = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/thread-self")).getFileName()
                .toString();
        List<String> taken = new ArrayList<>();
        org.flexwall.api.port.PortActivityListener to = new org.flexwall.api.port.PortActivityListener() {
            @Override
            public void portActivity(Protocol protocol, int port) {
                taken.add("activity");
            }

            @Override
            public void socketTaken(int pid, long inode) {
                taken.add(pid + ":" + inode);
            }
        };
        TakenSockets sockets = new TakenSockets();

        assertEquals(true, sockets.dispatch("java-" + tid + " [000] ..... 1.0: sys_pidfd_getfd(pidfd: 0x5, fd: 0x7, "
                + "flags: 0x0)", to));
        sockets.dispatch("java-" + tid + " [000] ..... 1.1: sys_pidfd_getfd -> 0x8", to);
        assertEquals(List.of(), taken, "flexwall's own marker takes sockets: never a taker");

        sockets.dispatch("evil-4194000 [001] ..... 2.0: sys_pidfd_getfd -> 0x9", to);
        assertEquals(List.of("4194000:0"), taken, "another process's call is reported (socket unknown: it is gone)");
        assertEquals(false, sockets.dispatch("x-1 [000] ..... 3.0: sys_bind -> 0x0", to));
    }

    @Test
    void hexValuesAndTaskFieldsAreRead() {
        assertEquals(255, TakenSockets.hex("pidfd: 0xff, fd: 0x3", "pidfd: "));
        assertEquals(3, TakenSockets.hex("pidfd: 0xff, fd: 0x3", ", fd: "));
        assertEquals(-22, TakenSockets.hex("sys_pidfd_getfd -> 0xffffffffffffffea", "-> "));
        assertEquals(77, TakenSockets.tid("my-prog name-77 [003] d..1. 9.0: sys_pidfd_getfd -> 0x4"));
        assertEquals(78, TakenSockets.tid("  a-78 (   70) [003] d..1. 9.0: x"));
        assertEquals(12, TakenSockets.socketInode("socket:[12]"));
        assertEquals(-1, TakenSockets.socketInode("/dev/null"));
    }
}
