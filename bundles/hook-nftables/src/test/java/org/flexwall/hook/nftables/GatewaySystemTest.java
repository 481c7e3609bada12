package org.flexwall.hook.nftables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.flexwall.testing.Commands;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The appliance as a router between the lab's LAN (lan0) and the outside (wan0), IPv4 and IPv6, with real ping,
 * hping3, socat and tcpdump: unsolicited packets from outside make the router answer nothing (no time exceeded, no
 * unreachable, no fragmentation needed), while the LAN's own traceroute and path-MTU discovery still get their
 * errors; masquerade on and off; the LAN's access to services of the appliance itself.
 */
class GatewaySystemTest extends LabTest {
    /** ICMP from the appliance's outside addresses, errors only (ICMPv6 types under 128; NDP is above). */
    private String fromTheRouter() {
        return "(src host " + lab.applianceV4 + " or src host " + lab.applianceV6 + ") and (icmp or (icmp6 and "
                + "ip6[40] < 128))";
    }

    @Test
    void theLanReachesTheOutsideOverIpv4AndIpv6AndNothingUnsolicitedOrSpoofedComesBack(@TempDir Path dir)
            throws Exception {
        activate("antiLockout", false, "lanInterfaces", new String[] { "lan0" });
        Process lanServer = lab.start(lab.lan, "socat", "TCP6-LISTEN:" + (LAN_TCP + 1) + ",ipv6only=0,fork,reuseaddr",
                "EXEC:cat");
        try {
            for (String outside : List.of(lab.outsideV4, lab.outsideV6)) {
                assertTrue(lab.connects(lab.lan, outside, OUTSIDE_TCP), "LAN to " + outside + " over TCP");
                assertTrue(lab.udpAnswered(lab.lan, outside, OUTSIDE_UDP), "LAN to " + outside + " over UDP");
            }
            Lab.Session session = lab.session(lab.lan, lab.outsideV6, OUTSIDE_TCP);
            assertEquals("a reply flows", session.exchange("a reply flows"));
            for (String lanHost : List.of(lab.lanHostV4, lab.lanHostV6)) {
                assertTrue(lab.blocked(lab.outside, lanHost, LAN_TCP + 1), "outside to " + lanHost);
            }
            // near misses: what a spoofer would send as "replies" from the outside server's own port
            Lab.Capture arrived = lab.capture(lab.lan, "host0", dir.resolve("spoofed.txt"), "src host " + lab.outsideV4);
            List<String> seen;
            try {
                for (String flags : List.of("-SA", "-A", "-R", "-F", "-PA")) {
                    Commands.run(lab.outside, null, "hping3", flags, "-s", String.valueOf(OUTSIDE_TCP), "-k", "-c", "5",
                            "-i", "u20000", "-p", String.valueOf(LAN_TCP + 1), lab.lanHostV4);
                }
                Commands.run(lab.outside, null, "hping3", "-2", "-s", String.valueOf(OUTSIDE_UDP), "-k", "-c", "5", "-i",
                        "u20000", "-p", "40000", lab.lanHostV4);
            } finally {
                seen = arrived.stop();
            }
            assertEquals(List.of(), seen, "spoofed replies that reached the LAN host");
            assertEquals("still flows", session.exchange("still flows"));
        } finally {
            lanServer.destroyForcibly();
        }
    }

    @Test
    void unsolicitedPacketsFromOutsideMakeTheRouterAnswerNothing(@TempDir Path dir) throws Exception {
        activate("antiLockout", false, "lanInterfaces", new String[] { "lan0" });
        String unrouted4 = "10.250.0.1";
        String unrouted6 = "fd00:250::1";
        Commands.ok(lab.outside, "ip", "route", "add", "10.250.0.0/24", "via", lab.applianceV4);
        Commands.ok(lab.outside, "ip", "-6", "route", "add", "fd00:250::/64", "via", lab.applianceV6);
        Commands.ok(lab.appliance, "ip", "link", "set", "lan0", "mtu", "1280"); // a LAN with a smaller MTU
        Lab.Capture capture = lab.capture(lab.outside, "out0", dir.resolve("out.txt"), fromTheRouter());
        List<String> seen;
        try {
            for (String[] ping : List.of(
                    new String[] { "ping", "-4", "-t", "1", lab.lanHostV4 },              // time exceeded
                    new String[] { "ping", "-6", "-t", "1", lab.lanHostV6 },
                    new String[] { "ping", "-4", unrouted4 },                            // net unreachable
                    new String[] { "ping", "-6", unrouted6 },
                    new String[] { "ping", "-4", "-M", "do", "-s", "1400", lab.lanHostV4 }, // fragmentation needed
                    new String[] { "ping", "-6", "-s", "1400", lab.lanHostV6 })) {         // packet too big
                Commands.run(lab.outside, null, concat(ping, "-c", "2", "-i", "0.2", "-W", "1"));
            }
            Commands.run(lab.outside, null, "hping3", "-S", "-c", "3", "-i", "u100000", "-t", "1", "-p", "80",
                    lab.lanHostV4);
        } finally {
            seen = capture.stop();
            Commands.run(lab.appliance, null, "ip", "link", "set", "lan0", "mtu", "1500");
            Commands.run(lab.outside, null, "ip", "route", "del", "10.250.0.0/24");
            Commands.run(lab.outside, null, "ip", "-6", "route", "del", "fd00:250::/64");
        }
        assertEquals(List.of(), seen, "ICMP errors the router sent towards the outside");
        String counters = Commands.ok(lab.appliance, "nft", "list", "chain", "inet", "flexwall", "unsolicited");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("counter packets (\\d+) ").matcher(counters);
        assertTrue(m.find() && Long.parseLong(m.group(1)) >= 15, "the rule dropped the 15 probes: " + counters);
    }

    @Test
    void theLansTracerouteAndPathMtuDiscoveryStillGetTheirErrors(@TempDir Path dir) throws Exception {
        activate("antiLockout", false, "lanInterfaces", new String[] { "lan0" });
        Lab.Capture capture = lab.capture(lab.lan, "host0", dir.resolve("lan.txt"), "icmp or (icmp6 and ip6[40] < 128)");
        List<String> seen;
        try {
            Commands.run(lab.lan, null, "ping", "-4", "-t", "1", "-c", "2", "-i", "0.3", "-W", "1", lab.outsideV4);
            Commands.run(lab.lan, null, "ping", "-6", "-t", "1", "-c", "2", "-i", "0.3", "-W", "1", lab.outsideV6);
            // neighbours known along the way first: a router that is still resolving one sends no packet too big
            Commands.run(lab.lan, null, "ping", "-6", "-c", "2", "-i", "0.3", "-W", "1", lab.outsideV6);
            // the outside routes the far prefixes over a 1280-byte link: it answers larger DF packets
            Commands.run(lab.lan, null, "ping", "-4", "-M", "do", "-s", "1400", "-c", "2", "-i", "0.3", "-W", "1", lab.farV4);
            Commands.run(lab.lan, null, "ping", "-6", "-s", "1400", "-c", "2", "-i", "0.3", "-W", "1", lab.farV6);
        } finally {
            seen = capture.stop();
        }
        String all = String.join("\n", seen);
        assertTrue(seen.stream().anyMatch(l -> l.contains("time exceeded in-transit")), "IPv4 traceroute: " + all);
        assertTrue(seen.stream().anyMatch(l -> l.contains("time exceeded in-transit") && l.contains("IP6")),
                "IPv6 traceroute: " + all);
        assertTrue(seen.stream().anyMatch(l -> l.contains("need to frag")), "IPv4 PMTU: " + all);
        assertTrue(seen.stream().anyMatch(l -> l.contains("packet too big")), "IPv6 PMTU: " + all);
    }

    @Test
    void withMasqueradeTheLanReachesTheOutsideAsTheGatewayAndWithoutItAsItself() throws Exception {
        Process whoAsks = lab.start(lab.outside, "socat", "TCP4-LISTEN:7200,fork,reuseaddr",
                "SYSTEM:echo $SOCAT_PEERADDR");
        try {
            Lab.await(() -> lab.said(lab.lan, lab.outsideV4, 7200) != null, "the peer-address server");
            activate("antiLockout", false, "lanInterfaces", new String[] { "lan0" });
            assertEquals(lab.lanHostV4, lab.said(lab.lan, lab.outsideV4, 7200), "routed: the LAN's address");
            removeTable();
            activate("antiLockout", false, "lanInterfaces", new String[] { "lan0" }, "masqueradeInterface", "wan0");
            assertEquals(lab.applianceV4, lab.said(lab.lan, lab.outsideV4, 7200), "masqueraded");
            assertTrue(lab.blocked(lab.outside, lab.lanHostV4, LAN_TCP), "nothing unsolicited reaches the LAN");
            assertTrue(lab.blocked(lab.outside, lab.applianceV4, LAN_TCP), "nor the gateway's own address");
        } finally {
            whoAsks.destroyForcibly();
        }
    }

    @Test
    void lanServicesAreReachableFromTheLanOnly() throws Exception {
        activate("antiLockout", false, "lanInterfaces", new String[] { "lan0" }, "lanServices",
                new String[] { "tcp/" + TCP_UNPERMITTED });
        String applianceLan = lab.lanHostV4.replaceAll("\\.2$", ".1");
        assertTrue(lab.connects(lab.lan, applianceLan, TCP_UNPERMITTED), "from the LAN");
        assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_UNPERMITTED), "not from the outside");
        assertTrue(lab.blocked(lab.lan, applianceLan, SSH), "only the services named");
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
