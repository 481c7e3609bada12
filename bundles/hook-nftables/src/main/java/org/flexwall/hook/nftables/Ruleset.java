package org.flexwall.hook.nftables;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.TreeSet;

import org.flexwall.api.packet.Marks;

/**
 * The nft files flexwall applies, as pure functions of the configuration and the permitted elements. Each file is
 * applied with one {@code nft -f}: one kernel transaction, so packets see the old ruleset or the new one, never a
 * mix, and a file that fails changes nothing.
 *
 * <p>Table {@value #TABLE} (family inet: IPv4 and IPv6) in short:
 * <pre>
 * prerouting  (raw, before conntrack): IPv4 with options → drop; permitted (protocol . port) → accepted mark,
 *             and notrack (not on a gateway); anti-lockout, LAN services → operator-rule mark
 * unsolicited (prerouting, after conntrack): new packets from outside not for this host → drop
 * verify      (input, -160, before the NFQUEUE rules): a new or untracked packet with the accepted mark whose
 *             destination socket carries the verified mark → the packet's verified bit; a new packet from outside
 *             with neither the accepted nor the operator-rule mark → the drop record (source . protocol . port,
 *             counted in the bounded sets drops4/drops6)
 * input       (filter, policy drop): lo; permitted and verified; the handshake's last ACK; established,related;
 *             invalid → drop; IPv6 neighbour discovery on the link; packets a user-space hook accepted (mark) to a
 *             verified socket; anti-lockout, LAN services; drop
 * forward (filter, policy drop): established,related; invalid → drop; new flows entering on a LAN interface; drop
 * output  (filter, policy accept): ICMP/ICMPv6 errors this host would send about no known flow → drop
 * postrouting (nat, only with masqueradeInterface): IPv4 from the LAN leaving it → masquerade
 * </pre>
 * Nothing is ever rejected: a dropped packet gets no RST and no ICMP, so a scan finds nothing. ICMP errors
 * (fragmentation needed, packet too big, time exceeded, parameter problem) about tracked flows are {@code related};
 * the kernel found the flow they quote, so they pass. Errors that quote no tracked flow are {@code invalid} and
 * dropped: they can only be forged (or stale), and a forged packet-too-big would shrink a path MTU for nothing.
 *
 * <p>Untracked permitted packets (FIG. 8's bypass reaching past conntrack): the port alone decides, so an inbound
 * packet to a permitted port needs no connection entry. The raw chain decides once: it looks the port up, gives the
 * packet {@link Marks#ACCEPTED} (flexwall accepted it, as the NFQUEUE hook marks what it accepts) and untracks it; the
 * input chain accepts an untracked packet only with that mark, so a packet another table untracked still meets the
 * drop. A port leaving the sets drops its next packet (tracked again, {@code new}, not permitted); a flow whose
 * service has sent since is found by conntrack from that outgoing packet (the service's own packets stay tracked, so
 * ICMP errors about them stay {@code related}). Only when nothing new is forwarded (no LAN interfaces): on a gateway, forwarded flows
 * and NAT need conntrack, and telling local from forwarded packets before routing ({@code fib daddr type local})
 * cost more than conntrack saves (measured), so a gateway tracks everything.
 *
 * <p>The permission lives on the socket (principle 7): every rule that accepts an unsolicited packet also asks the
 * kernel's socket lookup whether the packet's destination socket carries {@link Marks#VERIFIED_SOCKET}, which the
 * port store puts on a socket it verified (through a duplicate of a holder's descriptor). The mark dies with the
 * socket, so with the JVM dead or this bundle stopped and the sets frozen, a program that takes a port over has an
 * unmarked socket and is dropped, and a port whose listener is gone has no socket to match: no RST answers.
 *
 * <p>The table has no {@code owner} flag: it stays in the kernel when the JVM dies (principle 1).
 */
final class Ruleset {
    static final String TABLE = "flexwall";
    static final String SET4 = "permitted4";
    static final String SET6 = "permitted6";
    /** The drop record (sources, protocols and ports of dropped unsolicited packets), per family; see DropRecorder. */
    static final String DROPS4 = "drops4";
    static final String DROPS6 = "drops6";
    static final int DROP_RECORD_SIZE = 4096;
    static final int DROP_RECORD_TIMEOUT_MINUTES = 10;
    static final String IP_OPTIONS_DROP = "iif != \"lo\" ip hdrlength != 5 drop";
    static final List<String> ICMP_ERRORS_DROP = List.of(
            "oif != \"lo\" icmp type { destination-unreachable, time-exceeded, parameter-problem } ct state != related "
                    + "counter drop comment \"ICMP error about no known flow\"",
            "oif != \"lo\" icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem } "
                    + "ct state != related counter drop comment \"ICMPv6 error about no known flow\"");
    private static final String T = "inet " + TABLE;
    /** Gives a packet flexwall's accepted bit, keeping the mark's other bits. */
    static final String MARK_ACCEPTED = String.format("meta mark set meta mark | 0x%08x", Marks.ACCEPTED);
    /** Matches a packet whose destination socket flexwall verified and marked (SO_MARK, {@link Marks#VERIFIED_SOCKET}). */
    static final String TO_VERIFIED_SOCKET = String.format("socket mark & 0x%08x == 0x%08x", Marks.VERIFIED_SOCKET,
            Marks.VERIFIED_SOCKET);
    /** Gives a packet the operator-rule bit: the NFQUEUE hook leaves it to the rule that matched it. */
    static final String MARK_OPERATOR_RULE = String.format("meta mark set meta mark | 0x%08x", Marks.OPERATOR_RULE);
    /** Matches a packet to a permitted port whose destination socket the verify chain found verified. */
    static final String PERMITTED_AND_VERIFIED = String.format("meta mark & 0x%08x == 0x%08x",
            Marks.ACCEPTED | Marks.VERIFIED_SOCKET, Marks.ACCEPTED | Marks.VERIFIED_SOCKET);
    /** Matches a packet carrying flexwall's accepted bit (never enough alone to accept it: anyone can set a mark). */
    static final String HAS_ACCEPTED_MARK = String.format("meta mark & 0x%08x == 0x%08x", Marks.ACCEPTED, Marks.ACCEPTED);

    private Ruleset() {
    }

    /**
     * The baseline: creates the table, sets and chains when missing and replaces the chains' rules. Set elements stay
     * as they are, so permitted ports stay open across a re-apply; conntrack is never touched, so established flows
     * keep flowing. Existing base chains are kept (only their rules change), which keeps the change atomic.
     */
    static String baseline(Settings s) {
        StringBuilder b = new StringBuilder();
        b.append("# flexwall baseline (org.flexwall.hook.nftables): default drop, independent of the JVM\n");
        b.append("add table ").append(T).append('\n');
        for (String set : List.of(SET4, SET6)) { // a counter per port: what each permitted port received
            b.append("add set ").append(T).append(' ').append(set)
                    .append(" { type inet_proto . inet_service; counter; }\n");
        }
        // bounded whatever the attack: a full set records no new source until a quiet one times out
        for (String[] d : List.of(new String[] { DROPS4, "ipv4_addr" }, new String[] { DROPS6, "ipv6_addr" })) {
            b.append("add set ").append(T).append(' ').append(d[0]).append(" { type ").append(d[1])
                    .append(" . inet_proto . inet_service; size ").append(DROP_RECORD_SIZE)
                    .append("; flags dynamic,timeout; timeout ").append(DROP_RECORD_TIMEOUT_MINUTES)
                    .append("m; counter; }\n");
        }
        // raw priority runs before conntrack (-200): the only place where notrack can still take effect
        b.append("add chain ").append(T)
                .append(" prerouting { type filter hook prerouting priority raw; policy accept; }\n");
        // after conntrack (-200), before routing and DNAT (-100): the kernel's forward path answers on its own
        b.append("add chain ").append(T)
                .append(" unsolicited { type filter hook prerouting priority -150; policy accept; }\n");
        // before the NFQUEUE hook's rules (mangle, -150): they leave packets to verified sockets to the kernel
        b.append("add chain ").append(T).append(" verify { type filter hook input priority -160; policy accept; }\n");
        b.append("add chain ").append(T).append(" input { type filter hook input priority filter; policy drop; }\n");
        b.append("add chain ").append(T)
                .append(" forward { type filter hook forward priority filter; policy drop; }\n");
        b.append("add chain ").append(T).append(" output { type filter hook output priority filter; policy accept; }\n");
        b.append("add chain ").append(T)
                .append(" postrouting { type nat hook postrouting priority srcnat; policy accept; }\n");
        boolean nat = !s.masqueradeInterface().isEmpty();
        if (!nat) {
            // a nat chain, even empty, registers NAT's hooks for every packet: 6 points of the small-packet rate to a
            // permitted port (variants/run.py); added first, so the delete also works where no earlier run made it
            b.append("delete chain ").append(T).append(" postrouting\n");
        }
        for (String chain : List.of("prerouting", "unsolicited", "verify", "input", "forward", "output")) {
            b.append("flush chain ").append(T).append(' ').append(chain).append('\n');
        }
        if (nat) {
            b.append("flush chain ").append(T).append(" postrouting\n");
        }

        // the kernel answers bad IPv4 options with an ICMP parameter problem after this hook and before input drops
        // anything, which would show a scanner the host is there; nothing here needs IP options
        prerouting(b, IP_OPTIONS_DROP);
        input(b, "iif \"lo\" accept");
        // FIG. 8, S803-S805: a registered destination (protocol, port) bypasses the stateful firewall: one set lookup
        // per packet, in the raw chain, which also untracks it when nothing is forwarded (see the class comment)
        for (String[] f : List.of(new String[] { "ipv4", SET4 }, new String[] { "ipv6", SET6 })) {
            prerouting(b, "meta nfproto " + f[0] + " meta l4proto . th dport @" + f[1] + " " + MARK_ACCEPTED
                    + (s.untracksPermitted() ? " notrack" : ""));
        }
        // ...towards the socket flexwall verified only (principle 7): a program that took the port over is not that
        // socket. Marked here, before the NFQUEUE hook, which sends a permitted port's packet to an unverified socket
        // (a trusted program's new socket, not verified yet) to user space instead of letting it meet the drop
        b.append("add rule ").append(T).append(" verify meta mark set meta mark & ")
                .append(String.format("0x%08x", ~Marks.VERIFIED_SOCKET)).append('\n');
        b.append("add rule ").append(T).append(" verify ct state new,untracked ").append(HAS_ACCEPTED_MARK).append(' ')
                .append(TO_VERIFIED_SOCKET).append(String.format(" meta mark set meta mark | 0x%08x", Marks.VERIFIED_SOCKET))
                .append('\n');
        // The drop record: a new packet from outside that no permitted port or operator rule admits is dropped (by the
        // queue or by input's policy) unless the queue finds a trusted listener the sets do not hold yet. Counted here,
        // before the queue, so packets over its rate limit count too; one rule each, so a full set records nothing
        // more and leaves the packet alone
        for (String[] d : List.of(new String[] { "ipv4", "ip", DROPS4 }, new String[] { "ipv6", "ip6", DROPS6 })) {
            b.append("add rule ").append(T).append(" verify iif != \"lo\" ct state new ").append(String.format(
                    "meta mark & 0x%08x == 0 ", Marks.ACCEPTED | Marks.OPERATOR_RULE)).append("meta nfproto ")
                    .append(d[0]).append(" meta l4proto { tcp, udp } update @").append(d[2]).append(" { ").append(d[1])
                    .append(" saddr . meta l4proto . th dport }\n");
        }
        input(b, PERMITTED_AND_VERIFIED + " accept");
        if (s.untracksPermitted()) {
            // the handshake's last ACK finds the request socket, which carries no mark of its own (its listener's
            // was checked at the SYN); a packet no socket would take matches nothing, so no RST answers it
            input(b, "ct state untracked " + HAS_ACCEPTED_MARK + " tcp flags ! syn socket transparent 0 accept");
        }
        input(b, "ct state established,related accept");
        input(b, "ct state invalid drop");
        // neighbour discovery: hop limit 255 proves the sender is on the link (RFC 4861); without it IPv6 stops
        input(b, "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept");
        input(b, "icmpv6 type nd-router-advert ip6 saddr fe80::/10 ip6 hoplimit 255 accept");
        // MLD queries keep snooping switches forwarding our solicited-node multicast
        input(b, "icmpv6 type mld-listener-query ip6 saddr fe80::/10 ip6 hoplimit 1 accept");
        if (!s.lanInterfaces().isEmpty()) {
            input(b, "iifname " + names(s.lanInterfaces()) + " icmpv6 type nd-router-solicit ip6 hoplimit 255 accept");
        }
        // the NFQUEUE hook accepted this packet in user space (the port store marked its socket before): without
        // this rule our policy would still drop it. The mark alone proves nothing, anyone can set it: the socket's does
        input(b, HAS_ACCEPTED_MARK + " " + TO_VERIFIED_SOCKET + " accept");
        for (String management : s.managementRules()) {
            // marked in prerouting so the NFQUEUE hook leaves it to this rule, which decides on the match itself
            prerouting(b, management + " " + MARK_OPERATOR_RULE);
            input(b, management + " accept comment \"anti-lockout\"");
        }
        for (String service : s.lanServiceRules()) {
            prerouting(b, service + " " + MARK_OPERATOR_RULE);
            input(b, service + " accept comment \"LAN service\"");
        }
        input(b, "counter comment \"dropped: unsolicited\"");

        // A new packet from outside that is not for this host (to forward, or to a prefix with no route) would make the
        // kernel answer before the forward chain sees it: time exceeded (TTL 1), net unreachable, fragmentation
        // needed. Dropped here, before routing; what flows from the LAN need (their traceroute, PMTU) still goes.
        b.append("add rule ").append(T).append(" unsolicited ct state new,invalid iifname != ")
                .append(names(withLoopback(s.lanInterfaces())))
                .append(" fib daddr type { unicast, unreachable, blackhole, prohibit } counter drop comment ")
                .append("\"unsolicited, not for this host\"\n");

        forward(b, "ct state established,related accept");
        forward(b, "ct state invalid drop");
        if (!s.lanInterfaces().isEmpty()) {
            forward(b, "iifname " + names(s.lanInterfaces()) + " accept comment \"from the LAN\"");
        }
        forward(b, "counter comment \"dropped: not from the LAN\"");

        if (!s.masqueradeInterface().isEmpty()) {
            b.append("add rule ").append(T).append(" postrouting oifname ").append(quote(s.masqueradeInterface()))
                    .append(" meta nfproto ipv4 masquerade comment \"IPv4 NAT of the LAN\"\n");
        }

        // The kernel answers some packets before or beside input's drop: fragments that never completed (reassembly
        // time exceeded), bad IP options, bad IPv6 headers. An error about a flow conntrack knows is related and goes
        // (PMTU, time exceeded for forwarded flows); any other would show a scanner the host is there.
        for (String rule : ICMP_ERRORS_DROP) {
            b.append("add rule ").append(T).append(" output ").append(rule).append('\n');
        }
        return b.toString();
    }

    /** Adds and deletes elements in one transaction. Empty when there is nothing to change. */
    static String changes(Collection<Element> add, Collection<Element> delete) {
        StringBuilder b = new StringBuilder();
        elements(b, "delete", delete);
        elements(b, "add", add);
        return b.toString();
    }

    /** Makes the sets hold exactly {@code all}: emptied and refilled in one transaction, so no port closes between. */
    static String replaceElements(Collection<Element> all) {
        StringBuilder b = new StringBuilder();
        for (String set : List.of(SET4, SET6)) {
            b.append("flush set ").append(T).append(' ').append(set).append('\n');
        }
        elements(b, "add", all);
        return b.toString();
    }

    /**
     * The table made anew, with {@code all} permitted, in one transaction: for a table an earlier version made, whose
     * sets lack what the baseline declares now (nft cannot change a set's kind in place). Conntrack is not touched.
     */
    static String rebuild(Settings s, Collection<Element> all) {
        StringBuilder b = new StringBuilder(disable()).append(baseline(s));
        elements(b, "add", all);
        return b.toString();
    }

    /** Removes the firewall: after this the kernel filters nothing for flexwall. Succeeds when it is gone already. */
    static String disable() {
        return "add table " + T + "\ndelete table " + T + "\n";
    }

    private static void elements(StringBuilder b, String verb, Collection<Element> elements) {
        Map<String, SortedSet<Element>> bySet = new TreeMap<>();
        for (Element e : elements) {
            bySet.computeIfAbsent(e.set(), k -> new TreeSet<>()).add(e);
        }
        bySet.forEach((set, es) -> {
            StringJoiner j = new StringJoiner(", ", " { ", " }\n");
            es.forEach(e -> j.add(e.nft()));
            b.append(verb).append(" element ").append(T).append(' ').append(set).append(j);
        });
    }

    private static void prerouting(StringBuilder b, String rule) {
        b.append("add rule ").append(T).append(" prerouting ").append(rule).append('\n');
    }

    private static void input(StringBuilder b, String rule) {
        b.append("add rule ").append(T).append(" input ").append(rule).append('\n');
    }

    private static void forward(StringBuilder b, String rule) {
        b.append("add rule ").append(T).append(" forward ").append(rule).append('\n');
    }

    private static String names(List<String> interfaces) {
        StringJoiner j = new StringJoiner(", ", "{ ", " }");
        interfaces.forEach(i -> j.add(quote(i)));
        return j.toString();
    }

    private static List<String> withLoopback(List<String> interfaces) {
        List<String> all = new java.util.ArrayList<>(List.of("lo"));
        all.addAll(interfaces);
        return all;
    }

    private static String quote(String name) {
        return "\"" + name + "\""; // Settings admits no quote, space or brace in a name
    }

    private static String ports(SortedSet<Integer> ports) {
        StringJoiner j = new StringJoiner(", ", "{ ", " }");
        ports.forEach(p -> j.add(Integer.toString(p)));
        return j.toString();
    }
}
