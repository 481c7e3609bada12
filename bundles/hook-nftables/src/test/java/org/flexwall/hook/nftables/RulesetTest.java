package org.flexwall.hook.nftables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import org.flexwall.api.packet.Marks;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.flexwall.testing.Configs;
import org.junit.jupiter.api.Test;

/** The generated nft files, as text. The system tests apply them to a real kernel. */
class RulesetTest {
    private static final Settings DEFAULTS = Settings.defaults(Origin.NONE);
    private static final String VERIFIED = "socket mark & 0x10000000 == 0x10000000";

    private static Settings settings(boolean antiLockout, String management, List<String> lans) {
        return settings(antiLockout, management, lans, true);
    }

    private static Settings settings(boolean antiLockout, String management, List<String> lans, boolean untrack) {
        return new Settings(antiLockout, management, 22, lans, 42, "nft", untrack, Origin.NONE);
    }

    private static Settings startedFrom(Origin origin) {
        return new Settings(true, "", 22, List.of(), 42, "nft", true, origin);
    }

    private static List<String> rules(String ruleset, String chain) {
        String prefix = "add rule inet flexwall " + chain + " ";
        return ruleset.lines().filter(l -> l.startsWith(prefix)).map(l -> l.substring(prefix.length())).toList();
    }

    @Test
    void bothChainsDropByPolicyAndNothingIsRejected() {
        String r = Ruleset.baseline(settings(true, "", List.of("lan0")));
        assertTrue(r.contains("input { type filter hook input priority filter; policy drop; }"), r);
        assertTrue(r.contains("forward { type filter hook forward priority filter; policy drop; }"), r);
        assertFalse(r.contains("reject"), r);
        // only the chains that drop or mark single kinds of packets accept by policy: prerouting (untracks, drops IP
        // options), unsolicited (drops new packets not for this host), verify (marks), output (holds back ICMP
        // errors), postrouting (masquerade, only where configured)
        assertEquals(List.of("prerouting", "unsolicited", "verify", "output", "postrouting"), r.lines()
                .filter(l -> l.contains("policy accept")).map(l -> l.split(" ")[4]).toList(), r);
    }

    @Test
    void baselineKeepsPermittedElementsAndReplacesOnlyRules() {
        String r = Ruleset.baseline(DEFAULTS);
        assertFalse(r.contains("flush set"), r);
        assertFalse(r.contains("flush table"), r);
        assertFalse(r.contains("delete set") || r.contains("delete element") || r.contains("delete table"), r);
        assertTrue(r.contains("add set inet flexwall permitted4 { type inet_proto . inet_service; counter; }"), r);
        assertTrue(r.contains("add set inet flexwall permitted6 { type inet_proto . inet_service; counter; }"), r);
        // chains are flushed before their rules are added again, in the same file (one transaction)
        assertTrue(r.indexOf("flush chain inet flexwall input") < r.indexOf("add rule inet flexwall input"), r);
    }

    @Test
    void tableHasNoOwnerFlagSoItOutlivesTheJvm() {
        assertFalse(Ruleset.baseline(DEFAULTS).contains("owner"));
    }

    @Test
    void inputOrderLoopbackThenVerifiedPermitsThenConntrackThenNeighbourDiscoveryThenCountedDrop() {
        List<String> in = rules(Ruleset.baseline(settings(true, "", List.of(), false)), "input");
        assertEquals("iif \"lo\" accept", in.get(0));
        assertEquals(Ruleset.PERMITTED_AND_VERIFIED + " accept", in.get(1));
        assertEquals("ct state established,related accept", in.get(2));
        assertEquals("ct state invalid drop", in.get(3));
        assertEquals("icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept", in.get(4));
        assertEquals("icmpv6 type nd-router-advert ip6 saddr fe80::/10 ip6 hoplimit 255 accept", in.get(5));
        String queued = Ruleset.HAS_ACCEPTED_MARK + " " + VERIFIED + " accept";
        assertTrue(in.indexOf(queued) > 3, "what user space accepted, at a verified socket, after the invalid drop");
        assertEquals("counter comment \"dropped: unsolicited\"", in.get(in.size() - 1));
    }

    @Test
    void permittedPortsAreMarkedOnceInTheRawChainAndTheirSocketLookedUpOnceBeforeTheQueue() {
        for (boolean untrack : new boolean[] { true, false }) {
            String r = Ruleset.baseline(settings(false, "", List.of(), untrack));
            String notrack = untrack ? " notrack" : "";
            assertEquals(List.of(Ruleset.IP_OPTIONS_DROP,
                    "meta nfproto ipv4 meta l4proto . th dport @permitted4 meta mark set meta mark | 0x20000000" + notrack,
                    "meta nfproto ipv6 meta l4proto . th dport @permitted6 meta mark set meta mark | 0x20000000" + notrack),
                    rules(r, "prerouting"));
            assertTrue(r.contains("verify { type filter hook input priority -160; policy accept; }"),
                    "before the NFQUEUE rules at mangle (-150): " + r);
            assertEquals(List.of("meta mark set meta mark & 0xefffffff",
                    "ct state new,untracked " + Ruleset.HAS_ACCEPTED_MARK + " " + VERIFIED
                            + " meta mark set meta mark | 0x10000000"), rules(r, "verify").subList(0, 2),
                    "a verified bit nobody but this chain set");
            assertTrue(rules(r, "verify").stream().skip(2).noneMatch(l -> l.contains("meta mark set")),
                    "the drop record's rules after them mark nothing");
            assertEquals(1, rules(r, "input").stream().filter(l -> l.contains("socket mark")).count(),
                    "one more socket lookup, only for what user space accepted");
        }
        List<String> in = rules(Ruleset.baseline(DEFAULTS), "input");
        assertEquals("ct state untracked " + Ruleset.HAS_ACCEPTED_MARK + " tcp flags ! syn socket transparent 0 accept",
                in.get(2), "the handshake's last ACK reaches the request socket of a verified listener");
        assertFalse(in.stream().anyMatch(l -> l.startsWith("ct state untracked accept")), "untracked alone: no");
    }

    @Test
    void theDropRecordCountsNewPacketsFromOutsideThatNothingAdmitsInBoundedSets() {
        String r = Ruleset.baseline(DEFAULTS);
        assertTrue(r.contains("add set inet flexwall drops4 { type ipv4_addr . inet_proto . inet_service; size 4096; "
                + "flags dynamic,timeout; timeout 10m; counter; }"), r);
        assertTrue(r.contains("add set inet flexwall drops6 { type ipv6_addr . inet_proto . inet_service; size 4096; "
                + "flags dynamic,timeout; timeout 10m; counter; }"), r);
        List<String> record = rules(r, "verify").stream().filter(l -> l.contains("@drops")).toList();
        // not loopback, not established, not to a permitted port (accepted mark), not an operator rule's (anti-lockout)
        assertEquals(List.of("iif != \"lo\" ct state new meta mark & 0x28000000 == 0 meta nfproto ipv4 meta l4proto "
                + "{ tcp, udp } update @drops4 { ip saddr . meta l4proto . th dport }",
                "iif != \"lo\" ct state new meta mark & 0x28000000 == 0 meta nfproto ipv6 meta l4proto "
                + "{ tcp, udp } update @drops6 { ip6 saddr . meta l4proto . th dport }"), record);
        assertEquals(0x28000000, Marks.ACCEPTED | Marks.OPERATOR_RULE);
        assertFalse(record.stream().anyMatch(l -> l.contains("accept") || l.contains("drop ")), "it decides nothing");
    }

    @Test
    void ipv4PacketsWithOptionsFromOutsideAreDroppedBeforeTheKernelCouldAnswerThem() {
        for (Settings s : List.of(DEFAULTS, settings(false, "", List.of("lan0"), false))) {
            List<String> pre = rules(Ruleset.baseline(s), "prerouting");
            assertEquals("iif != \"lo\" ip hdrlength != 5 drop", pre.get(0), "first, before notrack: " + pre);
        }
    }

    @Test
    void icmpErrorsAboutNoKnownFlowNeverLeaveButLoopbackAndRelatedOnesDo() {
        for (Settings s : List.of(DEFAULTS, settings(false, "", List.of("lan0"), false))) {
            String r = Ruleset.baseline(s);
            assertTrue(r.contains("output { type filter hook output priority filter; policy accept; }"), r);
            List<String> out = rules(r, "output");
            assertEquals(2, out.size(), out.toString());
            assertTrue(out.stream().allMatch(l -> l.startsWith("oif != \"lo\" ") && l.contains(" ct state != related ")
                    && l.contains(" drop ")), out.toString());
            assertTrue(out.get(0).contains("icmp type { destination-unreachable, time-exceeded, parameter-problem }"));
            assertTrue(out.get(1).contains("icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, "
                    + "parameter-problem }"));
            assertTrue(r.indexOf("flush chain inet flexwall output") < r.indexOf("add rule inet flexwall output"));
        }
    }

    @Test
    void aGatewayOrUntrackPermittedFalseTracksEverything() {
        for (Settings s : List.of(settings(true, "", List.of("lan0"), true), settings(true, "", List.of(), false))) {
            String r = Ruleset.baseline(s);
            assertFalse(r.contains("notrack"), r);
            assertFalse(rules(r, "input").stream().anyMatch(l -> l.contains("untracked")), r);
            assertTrue(r.contains("flush chain inet flexwall prerouting"), "rules of an earlier apply go: " + r);
        }
        assertFalse(settings(true, "", List.of("lan0"), true).untracksPermitted());
        assertTrue(DEFAULTS.untracksPermitted());
    }

    @Test
    void noIcmpEchoIsAcceptedSoPingFindsNothing() {
        String r = Ruleset.baseline(settings(true, "", List.of("lan0")));
        assertFalse(r.contains("echo-request"), r);
        assertFalse(rules(r, "input").stream().anyMatch(l -> l.contains("icmp type")), r);
    }

    @Test
    void everyAcceptOfAnUnsolicitedPacketNeedsTheVerifiedSocketButLoopbackNeighbourDiscoveryAndOperatorRules() {
        for (Settings s : List.of(DEFAULTS, settings(false, "", List.of("lan0"), false))) {
            for (String rule : rules(Ruleset.baseline(s), "input")) {
                if (rule.endsWith("accept") && !rule.startsWith("ct state established") && !rule.startsWith("iif \"lo\"")
                        && !rule.startsWith("icmpv6 type") && !rule.contains("icmpv6 type nd-router-solicit")) {
                    assertTrue(rule.contains(VERIFIED) || rule.startsWith(Ruleset.PERMITTED_AND_VERIFIED)
                            || rule.contains("tcp flags ! syn socket transparent 0"), rule);
                }
            }
        }
    }

    @Test
    void onAnApplianceStartedAtBootAntiLockoutOpensNothing() {
        String r = Ruleset.baseline(DEFAULTS);
        assertFalse(r.contains("anti-lockout"), r);
        assertFalse(r.contains("dport 22"), r);
        assertFalse(r.contains("dport 8080"), r);
    }

    @Test
    void antiLockoutOpensSshOnTheManagementInterfaceOnly() {
        String r = Ruleset.baseline(settings(true, "eth1", List.of()));
        assertTrue(rules(r, "input").contains("iifname \"eth1\" tcp dport 22 accept comment \"anti-lockout\""), r);
        // marked before the queue so the NFQUEUE hook leaves it to the rule above
        assertTrue(rules(r, "prerouting").contains("iifname \"eth1\" tcp dport 22 " + Ruleset.MARK_OPERATOR_RULE), r);
        assertFalse(r.contains("8080"), "the console listens on loopback: no rule for it");
    }

    @Test
    void startedOverSshAntiLockoutOpensThatSessionsServerPortToItsClientOnly() {
        assertEquals(List.of("ip saddr 192.0.2.7 tcp dport 2222"),
                startedFrom(new Origin("192.0.2.7", 2222, "127.0.0.1", 8080)).managementRules());
        assertEquals(List.of("ip6 saddr 2001:db8::7 tcp dport 22"),
                startedFrom(new Origin("2001:db8::7", 22, null, 0)).managementRules());
        assertEquals(List.of("ip saddr 192.0.2.7 tcp dport 22"),
                startedFrom(new Origin("::ffff:192.0.2.7", 22, null, 0)).managementRules());
    }

    @Test
    void theConsolePortOpensOnlyToTheAddressTheConsoleListensOn() {
        assertEquals(List.of("ip daddr 192.0.2.1 tcp dport 8443"),
                startedFrom(new Origin(null, 0, "192.0.2.1", 8443)).managementRules());
        assertEquals(List.of("tcp dport 8443"), startedFrom(new Origin(null, 0, "0.0.0.0", 8443)).managementRules());
        for (String loopback : List.of("127.0.0.1", "::1", "localhost")) {
            assertEquals(List.of(), startedFrom(new Origin(null, 0, loopback, 8080)).managementRules(), loopback);
        }
    }

    @Test
    void addressesFromTheEnvironmentThatAreNotNumericLiteralsAreIgnored() {
        for (String bad : List.of("evil\" accept", "1.2.3.4 }", "999.1.1.1", "host.example", "::g")) {
            assertEquals(null, new Origin(bad, 22, null, 0).sshClient(), bad);
            assertEquals(List.of(), startedFrom(new Origin(null, 0, bad, 8080)).managementRules(), bad);
        }
    }

    @Test
    void antiLockoutOffLeavesNoManagementRule() {
        String r = Ruleset.baseline(new Settings(false, "eth1", 22, List.of(), 42, "nft", true,
                new Origin("192.0.2.7", 22, "0.0.0.0", 8080)));
        assertFalse(r.contains("anti-lockout"), r);
        assertFalse(r.contains("dport 22"), r);
    }

    @Test
    void newPacketsFromOutsideThatAreNotForThisHostAreDroppedBeforeRouting() {
        assertEquals(List.of("ct state new,invalid iifname != { \"lo\", \"lan0\" } fib daddr type { unicast, "
                + "unreachable, blackhole, prohibit } counter drop comment \"unsolicited, not for this host\""),
                rules(Ruleset.baseline(settings(true, "", List.of("lan0"))), "unsolicited"));
        assertTrue(rules(Ruleset.baseline(DEFAULTS), "unsolicited").get(0).contains("iifname != { \"lo\" }"),
                "a host that is no gateway: everything but loopback");
        String r = Ruleset.baseline(DEFAULTS);
        assertTrue(r.contains("unsolicited { type filter hook prerouting priority -150; policy accept; }"),
                "after conntrack (-200), before routing: " + r);
    }

    @Test
    void masqueradeIsOffByDefaultAndOnlyIpv4LeavingTheOutsideInterface() {
        assertEquals(List.of(), rules(Ruleset.baseline(DEFAULTS), "postrouting"));
        // no NAT chain at all without masquerade (its hooks would cost every packet), one left by an earlier run deleted
        assertTrue(Ruleset.baseline(DEFAULTS).contains("delete chain inet flexwall postrouting\n"));
        assertFalse(Ruleset.baseline(DEFAULTS).contains("flush chain inet flexwall postrouting"));
        Settings s = new Settings(false, "", 22, List.of("lan0"), 42, "nft", true, Origin.NONE, "wan0", List.of());
        assertEquals(List.of("oifname \"wan0\" meta nfproto ipv4 masquerade comment \"IPv4 NAT of the LAN\""),
                rules(Ruleset.baseline(s), "postrouting"));
        assertFalse(Ruleset.baseline(s).contains("delete chain"));
        assertThrows(IllegalArgumentException.class, () -> new Settings(false, "", 22, List.of(), 42, "nft", true,
                Origin.NONE, "wan0", List.of()), "masquerade without a LAN");
        assertThrows(IllegalArgumentException.class, () -> new Settings(false, "", 22, List.of("wan0"), 42, "nft",
                true, Origin.NONE, "wan0", List.of()), "the LAN is not the outside");
    }

    @Test
    void lanServicesAreAcceptedFromLanInterfacesOnlyAndSkipTheQueue() {
        Settings s = new Settings(false, "", 22, List.of("lan0", "wlan0"), 42, "nft", true, Origin.NONE, "",
                List.of(" UDP/53", "tcp/22", "udp/53"));
        String r = Ruleset.baseline(s);
        List<String> in = rules(r, "input");
        assertTrue(in.contains("iifname { \"lan0\", \"wlan0\" } udp dport 53 accept comment \"LAN service\""), in.toString());
        assertTrue(in.contains("iifname { \"lan0\", \"wlan0\" } tcp dport 22 accept comment \"LAN service\""), in.toString());
        assertEquals(2, in.stream().filter(l -> l.contains("LAN service")).count(), "each once: " + in);
        assertTrue(rules(r, "prerouting").contains("iifname { \"lan0\", \"wlan0\" } udp dport 53 " + Ruleset.MARK_OPERATOR_RULE));
        for (String bad : List.of("udp/0", "icmp/1", "tcp/65536", "tcp 22", "udp/53; flush ruleset")) {
            assertThrows(IllegalArgumentException.class, () -> new Settings(false, "", 22, List.of("lan0"), 42, "nft",
                    true, Origin.NONE, "", List.of(bad)), bad);
        }
    }

    @Test
    void forwardAcceptsNewFlowsOnlyFromLanInterfaces() {
        List<String> fwd = rules(Ruleset.baseline(settings(true, "", List.of("lan0", "wlan*"))), "forward");
        assertEquals(List.of("ct state established,related accept", "ct state invalid drop",
                "iifname { \"lan0\", \"wlan*\" } accept comment \"from the LAN\"",
                "counter comment \"dropped: not from the LAN\""), fwd);
    }

    @Test
    void withoutLanInterfacesOnlyRepliesAreForwarded() {
        List<String> fwd = rules(Ruleset.baseline(DEFAULTS), "forward");
        assertEquals(List.of("ct state established,related accept", "ct state invalid drop",
                "counter comment \"dropped: not from the LAN\""), fwd);
        assertFalse(Ruleset.baseline(DEFAULTS).contains("nd-router-solicit"));
    }

    @Test
    void changesAreOneBatchGroupedBySetDeletesFirst() {
        Set<Element> add = Set.of(new Element(Protocol.UDP, AddressFamily.IPV4, 53),
                new Element(Protocol.TCP, AddressFamily.IPV4, 8443),
                new Element(Protocol.TCP, AddressFamily.IPV6, 8443));
        Set<Element> delete = Set.of(new Element(Protocol.TCP, AddressFamily.IPV6, 22));
        assertEquals("delete element inet flexwall permitted6 { tcp . 22 }\n"
                + "add element inet flexwall permitted4 { tcp . 8443, udp . 53 }\n"
                + "add element inet flexwall permitted6 { tcp . 8443 }\n", Ruleset.changes(add, delete));
    }

    @Test
    void noChangesGiveAnEmptyBatch() {
        assertEquals("", Ruleset.changes(Set.of(), Set.of()));
    }

    @Test
    void replacingElementsEmptiesBothSetsAndRefillsInOneFile() {
        assertEquals("flush set inet flexwall permitted4\nflush set inet flexwall permitted6\n"
                + "add element inet flexwall permitted6 { udp . 5353 }\n",
                Ruleset.replaceElements(List.of(new Element(Protocol.UDP, AddressFamily.IPV6, 5353))));
        assertEquals("flush set inet flexwall permitted4\nflush set inet flexwall permitted6\n",
                Ruleset.replaceElements(List.of()));
    }

    @Test
    void disableSucceedsWhetherOrNotTheTableExists() {
        assertEquals("add table inet flexwall\ndelete table inet flexwall\n", Ruleset.disable());
    }

    @Test
    void interfaceNamesThatNftWouldReadAsSyntaxAreRefused() {
        for (String bad : List.of("eth0\" accept", "eth0 }", "a;flush ruleset", "sixteen-chars-xx", "-eth0", "")) {
            assertThrows(IllegalArgumentException.class, () -> settings(true, "", List.of(bad)), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> settings(true, "eth0\nflush ruleset", List.of()));
        settings(true, "enp0s31f6", List.of("br-lan", "wg0", "eth0.100", "veth*")); // real names pass
    }

    @Test
    void sshPortOutOfRangeIsRefused() {
        for (int bad : new int[] { 0, 65536 }) {
            assertThrows(IllegalArgumentException.class,
                    () -> new Settings(true, "", bad, List.of(), 42, "nft", true, Origin.NONE));
        }
    }

    @Test
    void settingsFromConfigurationTrimAndDropEmptyNames() {
        Settings s = Settings.of(Configs.config(NftablesHook.Config.class, "lanInterfaces", new String[] { " lan0 ", "" },
                "managementInterface", " eth1 ", "sshPort", 2222), Origin.NONE);
        assertEquals(List.of("lan0"), s.lanInterfaces());
        assertEquals("eth1", s.managementInterface());
        assertEquals("SSH (tcp 2222) on eth1", s.managementAccess());
    }
}
