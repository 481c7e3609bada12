package org.flexwall.hook.nftables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a scanner in the outside namespace learns about the appliance (real nmap, tcpdump, socat against the real
 * kernel): nothing, except the port a trusted program holds open. Anti-lockout is off unless a test says otherwise,
 * so tcp 22 and 8080 count as ordinary closed ports.
 */
class StealthSystemTest extends LabTest {
    private static final String PORTS = "22,80,443,8080," + TCP_PERMITTED + "," + TCP_UNPERMITTED + ",9002";
    /** nmap's states for a probe that got no answer at all. */
    private static final Set<String> SILENT = Set.of("filtered", "open|filtered");

    @Test
    void scannerWithoutPnFindsTheHostDownOverIpv4AndIpv6() throws Exception {
        activate(); // the shipped defaults: anti-lockout on tcp 22, 8080
        store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
        store.permit(Protocol.TCP, AddressFamily.IPV6, TCP_PERMITTED);
        hook.awaitSync();
        Map<String, String> v4 = Lab.nmap(lab.outside, "-sS", "-p", PORTS, lab.applianceV4);
        assertEquals("false", v4.get("up"), v4.get("raw"));
        Map<String, String> v6 = Lab.nmap(lab.outside, "-6", "-sS", "-p", PORTS, lab.applianceV6);
        assertEquals("false", v6.get("up"), v6.get("raw"));
    }

    @Test
    void synScanWithPnFindsOnlyThePermittedPortPerFamily() throws Exception {
        activate("antiLockout", false);
        store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
        hook.awaitSync();
        Map<String, String> v4 = Lab.nmap(lab.outside, "-Pn", "-sS", "-p", PORTS, lab.applianceV4);
        assertEquals("open", v4.get(TCP_PERMITTED + "/tcp"), v4.get("raw"));
        assertOnlySilentBesides(v4, TCP_PERMITTED + "/tcp", 7);

        // permitted for IPv4 only: the IPv6 set does not have it
        Map<String, String> v6 = Lab.nmap(lab.outside, "-6", "-Pn", "-sS", "-p", PORTS, lab.applianceV6);
        assertEquals("filtered", v6.get(TCP_PERMITTED + "/tcp"), v6.get("raw"));
        assertOnlySilentBesides(v6, null, 7);

        store.permit(Protocol.TCP, AddressFamily.IPV6, TCP_PERMITTED);
        hook.awaitSync();
        v6 = Lab.nmap(lab.outside, "-6", "-Pn", "-sS", "-p", PORTS, lab.applianceV6);
        assertEquals("open", v6.get(TCP_PERMITTED + "/tcp"), v6.get("raw"));
        assertOnlySilentBesides(v6, TCP_PERMITTED + "/tcp", 7);
    }

    @Test
    void ackNullFinXmasAndUdpProbesGetNoAnswerFromPortsNotPermitted() throws Exception {
        activate("antiLockout", false);
        store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
        store.permit(Protocol.UDP, AddressFamily.IPV4, UDP_PERMITTED);
        hook.awaitSync();
        String tcp = "22," + TCP_UNPERMITTED + ",9002," + TCP_PERMITTED;
        for (String scan : List.of("-sA", "-sN", "-sF", "-sX")) {
            Map<String, String> s = Lab.nmap(lab.outside, "-Pn", scan, "-p", tcp, lab.applianceV4);
            for (String port : List.of("22/tcp", TCP_UNPERMITTED + "/tcp", "9002/tcp")) {
                assertTrue(SILENT.contains(s.get(port)), scan + " " + port + ": " + s.get("raw"));
            }
            if (scan.equals("-sA")) {
                // a lone ACK to a permitted port reaches the stack, which answers RST: nmap sees it unfiltered
                assertEquals("unfiltered", s.get(TCP_PERMITTED + "/tcp"), s.get("raw"));
            }
        }
        Map<String, String> v6 = Lab.nmap(lab.outside, "-6", "-Pn", "-sA", "-p", tcp, lab.applianceV6);
        assertOnlySilentBesides(v6, null, 4);

        String udp = UDP_UNPERMITTED + ",5355," + UDP_PERMITTED;
        Map<String, String> u4 = Lab.nmap(lab.outside, "-Pn", "-sU", "-p", udp, lab.applianceV4);
        assertTrue(SILENT.contains(u4.get(UDP_UNPERMITTED + "/udp")), u4.get("raw"));
        assertTrue(SILENT.contains(u4.get("5355/udp")), u4.get("raw"));
        Map<String, String> u6 = Lab.nmap(lab.outside, "-6", "-Pn", "-sU", "-p", udp, lab.applianceV6);
        assertOnlySilentBesides(u6, null, 3); // UDP permitted for IPv4 only
    }

    @Test
    void topThousandPortScanFindsOnlyThePermittedPort() throws Exception {
        activate("antiLockout", false);
        store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
        hook.awaitSync();
        Map<String, String> s = Lab.nmap(lab.outside, "-Pn", "-sS", "--top-ports", "1000", lab.applianceV4);
        assertEquals("open", s.get(TCP_PERMITTED + "/tcp"), s.get("raw"));
        assertEquals("filtered (999)", s.get("ignored"), s.get("raw"));
    }

    @Test
    void droppedProbesDrawNoRstAndNoIcmpUnreachableEvenAtPermittedPortsWithoutTheirListener(@TempDir Path dir)
            throws Exception {
        for (boolean untrack : new boolean[] { false, true }) {
            activate("antiLockout", false, "untrackPermitted", untrack);
            // permitted ports whose listener is gone (8444, 5355): before the socket-bound rules the kernel answered
            // them with RST / port unreachable until the store caught up; now no socket matches and nothing answers
            for (AddressFamily f : AddressFamily.values()) {
                store.permit(Protocol.TCP, f, 8444);
                store.permit(Protocol.UDP, f, 5355);
                // controls: the verified listeners, which answer
                store.permit(Protocol.TCP, f, TCP_PERMITTED);
                store.permit(Protocol.UDP, f, UDP_PERMITTED);
            }
            hook.awaitSync();
            Lab.Capture capture = lab.capture(lab.outside, "out0", dir.resolve("tcpdump-" + untrack + ".txt"),
                    "src host " + lab.applianceV4 + " or src host " + lab.applianceV6);
            for (String target : List.of(lab.applianceV4, lab.applianceV6)) {
                String v6 = target.contains(":") ? "-6" : "-4";
                Lab.nmap(lab.outside, v6, "-Pn", "-sS", "-p", "22,80,8444,9002," + TCP_UNPERMITTED + ","
                        + TCP_PERMITTED, target);
                Lab.nmap(lab.outside, v6, "-Pn", "-sU", "-p", "5355,5356," + UDP_UNPERMITTED, target);
                assertTrue(lab.udpAnswered(lab.outside, target, UDP_PERMITTED), target);
            }
            List<String> seen = capture.stop();
            assertTrue(seen.stream().anyMatch(l -> l.contains("." + TCP_PERMITTED + " >") && l.contains("Flags [S.]")),
                    "control SYN-ACK missing: " + seen);
            assertTrue(seen.stream().anyMatch(l -> l.contains("." + UDP_PERMITTED + " >")),
                    "control UDP answer missing: " + seen);
            assertEquals(List.of(), seen.stream().filter(l -> l.contains("Flags [R")).toList(), "untrack=" + untrack);
            assertEquals(List.of(), seen.stream().filter(l -> l.contains("unreachable")).toList(),
                    "untrack=" + untrack);
            removeTable();
        }
    }

    @Test
    void byDefaultEvenAPermittedPortWithNobodyListeningDrawsNoIcmpUnreachable(@TempDir Path dir) throws Exception {
        activate("antiLockout", false); // untracked permitted ports: the error would be about no flow conntrack knows
        store.permit(Protocol.UDP, AddressFamily.IPV4, 5355);
        store.permit(Protocol.UDP, AddressFamily.IPV6, 5355);
        hook.awaitSync();
        Lab.Capture capture = lab.capture(lab.outside, "out0", dir.resolve("tcpdump.txt"),
                "src host " + lab.applianceV4 + " or src host " + lab.applianceV6);
        for (String target : List.of(lab.applianceV4, lab.applianceV6)) {
            Lab.nmap(lab.outside, target.contains(":") ? "-6" : "-4", "-Pn", "-sU", "-p", "5355", target);
        }
        List<String> seen = capture.stop();
        assertTrue(seen.stream().noneMatch(l -> l.contains("unreachable")), "ICMP left: " + seen);
    }

    /** Every scanned port but {@code except} got no answer; {@code count} ports were scanned. */
    private static void assertOnlySilentBesides(Map<String, String> states, String except, int count) {
        long ports = states.keySet().stream().filter(k -> k.contains("/")).count();
        assertEquals(count, ports, states.get("raw"));
        states.forEach((k, v) -> {
            if (k.contains("/") && !k.equals(except)) {
                assertTrue(SILENT.contains(v), k + " is " + v + ": " + states.get("raw"));
            }
        });
        assertFalse(states.containsKey("ignored"), states.get("raw"));
    }
}
