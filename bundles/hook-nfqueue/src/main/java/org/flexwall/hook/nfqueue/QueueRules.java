package org.flexwall.hook.nfqueue;

import java.io.IOException;
import java.util.List;

import org.flexwall.api.packet.Marks;
import org.flexwall.api.port.AddressFamily;

/**
 * The kernel side of the queue: the rules that send packets to our queue number.
 *
 * <p>They hook input (and output in userspace mode) at mangle priority -150, before flexwall's nft input chain at
 * filter priority 0, so the mark an accept sets is on the packet when that chain looks ({@code Marks}). No
 * {@code bypass}: while no consumer is bound the kernel drops what these rules queue (fail closed). In firstPacket
 * mode they queue only a new (or untracked) flow's first TCP SYN or UDP datagram that the kernel cannot accept by
 * itself, under a kernel rate limit: packets over it are dropped here, never passed on (a later accept, such as
 * anti-lockout, must not take what the queue path would have dropped), so a flood cannot starve the appliance.
 * Loopback is left to the baseline, and so are packets the nft baseline marked before these rules run:
 * {@link Marks#VERIFIED_SOCKET} (its verify chain found the destination socket verified) and
 * {@link Marks#OPERATOR_RULE} (an operator rule decides it on its own match). The rules therefore never change with
 * the permitted ports.
 *
 * <p>Two backends with the same rules. Where the kernel has nft's own {@code queue} statement (nft_queue), one nft
 * table ({@value #NFT_TABLE}); where it has not (the appliance's kernel), iptables-nft's {@code NFQUEUE} target (xt
 * compat) in table mangle, chains {@value #CHAIN} and friends. Each install detects which one works by loading a
 * throwaway table with a queue rule and deleting it in the same transaction, so the probe leaves nothing behind.
 */
final class QueueRules {
    static final String CHAIN = "FLEXWALL-QUEUE";
    static final String CHAIN_NEW = "FLEXWALL-QUEUE-NEW";
    static final String CHAIN_OUT = "FLEXWALL-QUEUE-OUT";
    static final String NFT_TABLE = "flexwall_queue";
    static final String NFT_PROBE_TABLE = "flexwall_queue_probe";
    private static final List<String> CHAINS = List.of(CHAIN, CHAIN_NEW, CHAIN_OUT);
    /** Our jumps as {@code -S} lists them: into our chains from the built-in ones. */
    private static final List<String> JUMPS = List.of(jump("INPUT", CHAIN), jump("OUTPUT", CHAIN_OUT));

    /** Which kernel mechanism queues. */
    enum Backend {
        IPTABLES("iptables-nft NFQUEUE"), NFT("nft queue");

        final String label;

        Backend(String label) {
            this.label = label;
        }
    }

    /** What the rules do. */
    record Settings(Mode mode, int queueNum, int ratePerSecond, int burst) {
    }

    /** Which backend a probe chose, and why (for the log). */
    record Detection(Backend backend, String reason) {
    }

    private final Commands commands;
    private final Settings settings;
    private Detection known; // the probe's answer, asked once: the kernel does not change under us
    private Backend backend; // of the last install; null before

    QueueRules(Commands commands, Settings settings) {
        this(commands, settings, null);
    }

    /** With {@code known} from an earlier probe in this kernel (null: probe at the first install). */
    QueueRules(Commands commands, Settings settings, Detection known) {
        this.commands = commands;
        this.settings = settings;
        this.known = known;
    }

    /** The backend of the last install, or null before the first. */
    synchronized Backend backend() {
        return backend;
    }

    /** The probe file: a throwaway table with a queue rule, deleted again in the same transaction. */
    static String probe(int queueNum) {
        return "table inet " + NFT_PROBE_TABLE + " {\n"
                + "  chain probe {\n"
                + "    type filter hook input priority mangle; policy accept;\n"
                + "    meta l4proto 253 queue num " + queueNum + "\n" // 253 (RFC 3692 experiments): no traffic
                + "  }\n}\n"
                + "delete table inet " + NFT_PROBE_TABLE + "\n";
    }

    /** Whether nft's queue statement works in this kernel: nft's own statement if so, else iptables-nft. */
    Detection detect() {
        Commands.Result r;
        try {
            r = commands.run(List.of("nft", "-f", "-"), probe(settings.queueNum()));
        } catch (IOException e) {
            return new Detection(Backend.IPTABLES, "nft could not be run (" + e.getMessage() + ")");
        }
        if (r.ok()) {
            return new Detection(Backend.NFT, "the kernel has nft's queue statement");
        }
        // nft prints "/dev/stdin:4:27-38: Error: Could not process rule: ..." then the rule
        String error = r.output().lines().filter(l -> l.contains("Error:")).findFirst()
                .map(l -> l.substring(l.indexOf("Error:"))).orElse(r.output().strip());
        return new Detection(Backend.IPTABLES, "nft's queue statement is not in this kernel (" + error + ")");
    }

    /**
     * Detects the backend (unless known), then installs every rule, replacing what an earlier install (in either mode)
     * left. Rules of the other backend are removed (left by a boot on another kernel): never two sets of rules. With
     * iptables-nft, each family's chains and their jumps go in as one transaction.
     */
    synchronized Detection install() throws IOException {
        Detection detected = known != null ? known : detect();
        known = detected;
        backend = detected.backend();
        if (backend == Backend.NFT) {
            removeIptablesChains();
            commands.runOrThrow(List.of("nft", "-f", "-"), nftRuleset(settings, queueStatement(settings)),
                    "install the NFQUEUE rules");
            return detected;
        }
        removeNftTable();
        for (AddressFamily f : AddressFamily.values()) {
            String tool = tool(f);
            commands.runOrThrow(List.of(tool + "-restore", "--noflush"), iptablesRestore(settings, mangle(tool)),
                    "install the " + f + " NFQUEUE rules");
        }
        return detected;
    }

    /** Whether the installed rules are still hooked in; someone flushing the ruleset would have removed them. */
    synchronized boolean present() throws IOException {
        if (backend == null) {
            return false;
        }
        if (backend == Backend.NFT) {
            return commands.run(List.of("nft", "list", "table", "inet", NFT_TABLE), null).ok();
        }
        for (AddressFamily f : AddressFamily.values()) {
            if (!commands.run(List.of(tool(f), "-t", "mangle", "-C", "INPUT", "-j", CHAIN), null).ok()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Removes every rule this class installs, of both backends (so it needs no probe, and works after a kill -9).
     * Nothing is queued afterwards: the nft baseline decides alone. Fails only when neither tool could be run.
     */
    synchronized void remove() throws IOException {
        IOException nftFailure = removeNftTable();
        IOException iptablesFailure = removeIptablesChains();
        if (nftFailure != null && iptablesFailure != null) {
            iptablesFailure.addSuppressed(nftFailure);
            throw iptablesFailure;
        }
    }

    /** Null when done or nothing was there; the failure when nft could not be run. */
    private IOException removeNftTable() {
        try {
            commands.run(List.of("nft", "delete", "table", "inet", NFT_TABLE), null); // fails when absent: fine
            return null;
        } catch (IOException e) {
            return e;
        }
    }

    /** Null when done or nothing was there; the failure when iptables-nft could not be run. */
    private IOException removeIptablesChains() {
        IOException failure = null;
        for (AddressFamily f : AddressFamily.values()) {
            String tool = tool(f);
            try {
                List<String> listed = mangle(tool);
                String removal = iptablesRemoval(listed);
                if (removal.isEmpty()) {
                    continue; // none of ours here
                }
                if (!commands.run(List.of(tool + "-restore", "--noflush"), removal).ok()) {
                    removeStepByStep(tool); // someone else jumps to our chains: remove what can go
                }
                if (listed.stream().allMatch(l -> l.startsWith("-P ") || ours(l))) {
                    // iptables-nft made the table for our chains and leaves it behind, empty: it goes with them
                    commands.run(List.of("nft", "delete", "table", f == AddressFamily.IPV4 ? "ip" : "ip6", "mangle"),
                            null);
                }
            } catch (IOException e) {
                failure = e;
            }
        }
        return failure;
    }

    /** Our jumps, flushes and chain deletions one command at a time, each allowed to fail. */
    private void removeStepByStep(String tool) throws IOException {
        deleteJumps(tool, "INPUT", CHAIN);
        deleteJumps(tool, "OUTPUT", CHAIN_OUT);
        for (String chain : CHAINS) {
            commands.run(List.of(tool, "-t", "mangle", "-F", chain), null);
        }
        for (String chain : CHAINS) {
            commands.run(List.of(tool, "-t", "mangle", "-X", chain), null);
        }
    }

    private void deleteJumps(String tool, String from, String to) throws IOException {
        for (int i = 0; i < 16 && commands.run(List.of(tool, "-t", "mangle", "-D", from, "-j", to), null).ok(); i++) {
            // one jump per run; more only if someone added duplicates
        }
    }

    /** A family's table mangle as {@code -S} lists it: policies, chains and rules, a line each (no warnings). */
    private List<String> mangle(String tool) throws IOException {
        return commands.runOrThrow(List.of(tool, "-t", "mangle", "-S"), null, "list table mangle").output().lines()
                .map(String::strip).filter(l -> l.startsWith("-")).toList();
    }

    /** Whether a listed line is one of our chains, a rule in one, or one of our jumps (not another's jump to one). */
    private static boolean ours(String listed) {
        return JUMPS.contains(listed)
                || CHAINS.stream().anyMatch(c -> listed.equals("-N " + c) || listed.startsWith("-A " + c + " "));
    }

    private static String jump(String from, String to) {
        return "-A " + from + " -j " + to;
    }

    private static String tool(AddressFamily f) {
        return f == AddressFamily.IPV4 ? "iptables-nft" : "ip6tables-nft";
    }

    /**
     * The iptables-restore input for one family whose mangle table lists as {@code listed} ({@code -S}): replaces our
     * chains' contents and leaves exactly one jump into each chain the mode uses and none into the other, in one
     * transaction.
     */
    static String iptablesRestore(Settings s, List<String> listed) {
        StringBuilder b = new StringBuilder("*mangle\n");
        b.append(':').append(CHAIN).append(" - [0:0]\n");
        b.append(':').append(CHAIN_NEW).append(" - [0:0]\n");
        b.append(':').append(CHAIN_OUT).append(" - [0:0]\n");
        String queue = "-j NFQUEUE --queue-num " + s.queueNum();
        rule(b, CHAIN, "-i lo -j RETURN");
        if (s.mode() == Mode.FIRST_PACKET) {
            // the nft baseline's verify chain found the destination socket verified: the kernel accepts it
            rule(b, CHAIN, String.format("-m mark --mark 0x%08x/0x%08x -j RETURN", Marks.VERIFIED_SOCKET,
                    Marks.VERIFIED_SOCKET));
            rule(b, CHAIN, String.format("-m mark --mark 0x%08x/0x%08x -j RETURN", Marks.OPERATOR_RULE,
                    Marks.OPERATOR_RULE));
            // untracked: to a permitted port, but not to a verified socket (a trusted program's new socket): ask
            rule(b, CHAIN, "-m conntrack ! --ctstate NEW,UNTRACKED -j RETURN");
            rule(b, CHAIN, "-p tcp --syn -j " + CHAIN_NEW);
            rule(b, CHAIN, "-p udp -j " + CHAIN_NEW);
            rule(b, CHAIN_NEW, "-m limit --limit " + s.ratePerSecond() + "/sec --limit-burst " + s.burst() + " "
                    + queue);
            rule(b, CHAIN_NEW, "-j DROP"); // over the rate limit: what the queue path would have dropped
        } else {
            rule(b, CHAIN, "-p tcp " + queue);
            rule(b, CHAIN, "-p udp " + queue);
            rule(b, CHAIN_OUT, "-o lo -j RETURN");
            rule(b, CHAIN_OUT, "-p tcp " + queue);
            rule(b, CHAIN_OUT, "-p udp " + queue);
        }
        jumps(b, listed, "INPUT", CHAIN, 1);
        jumps(b, listed, "OUTPUT", CHAIN_OUT, s.mode() == Mode.USERSPACE ? 1 : 0);
        return b.append("COMMIT\n").toString();
    }

    /** Inserts or deletes jumps from {@code from} to {@code to} until {@code wanted} (0 or 1) are left. */
    private static void jumps(StringBuilder b, List<String> listed, String from, String to, int wanted) {
        long present = listed.stream().filter(jump(from, to)::equals).count();
        if (present == 0 && wanted == 1) {
            b.append("-I ").append(from).append(" 1 -j ").append(to).append('\n'); // first: before others' rules
        }
        for (long extra = present - wanted; extra > 0; extra--) {
            b.append("-D ").append(from).append(" -j ").append(to).append('\n');
        }
    }

    /**
     * The iptables-restore input that removes our jumps and chains from a family's mangle table as listed, in one
     * transaction; empty when none of ours is there.
     */
    static String iptablesRemoval(List<String> listed) {
        StringBuilder b = new StringBuilder();
        for (String line : listed) {
            if (JUMPS.contains(line)) {
                b.append("-D").append(line.substring(2)).append('\n'); // "-A INPUT -j ..." becomes "-D INPUT -j ..."
            }
        }
        List<String> chains = CHAINS.stream().filter(c -> listed.contains("-N " + c)).toList();
        chains.forEach(c -> b.append("-F ").append(c).append('\n')); // emptied first: they jump to each other
        chains.forEach(c -> b.append("-X ").append(c).append('\n'));
        return b.isEmpty() ? "" : "*mangle\n" + b + "COMMIT\n";
    }

    private static void rule(StringBuilder b, String chain, String rest) {
        b.append("-A ").append(chain).append(' ').append(rest).append('\n');
    }

    static String queueStatement(Settings s) {
        return "queue num " + s.queueNum();
    }

    /**
     * The nft table with the same rules, replacing any earlier version in one transaction. {@code verdict} is the
     * queue statement; a test passes another verdict to check the rest on a kernel without nft queue.
     */
    static String nftRuleset(Settings s, String verdict) {
        StringBuilder b = new StringBuilder();
        b.append("table inet ").append(NFT_TABLE).append(" {\n}\n");
        b.append("delete table inet ").append(NFT_TABLE).append('\n');
        b.append("table inet ").append(NFT_TABLE).append(" {\n");
        if (s.mode() == Mode.FIRST_PACKET) {
            b.append("  limit new_flows { rate ").append(s.ratePerSecond()).append("/second burst ")
                    .append(s.burst()).append(" packets }\n");
        }
        b.append("  chain input {\n    type filter hook input priority mangle; policy accept;\n");
        b.append("    iif \"lo\" return\n");
        if (s.mode() == Mode.FIRST_PACKET) {
            int skip = Marks.VERIFIED_SOCKET | Marks.OPERATOR_RULE;
            b.append(String.format("    meta mark & 0x%08x != 0 return\n", skip));
            b.append("    ct state != { new, untracked } return\n");
            b.append("    tcp flags & (fin | syn | rst | ack) == syn limit name \"new_flows\" ").append(verdict)
                    .append('\n');
            b.append("    meta l4proto udp limit name \"new_flows\" ").append(verdict).append('\n');
            b.append("    tcp flags & (fin | syn | rst | ack) == syn drop\n"); // over the rate limit
            b.append("    meta l4proto udp drop\n");
            b.append("  }\n");
        } else {
            b.append("    meta l4proto { tcp, udp } ").append(verdict).append('\n');
            b.append("  }\n");
            b.append("  chain output {\n    type filter hook output priority mangle; policy accept;\n");
            b.append("    oif \"lo\" return\n");
            b.append("    meta l4proto { tcp, udp } ").append(verdict).append('\n');
            b.append("  }\n");
        }
        return b.append("}\n").toString();
    }
}
