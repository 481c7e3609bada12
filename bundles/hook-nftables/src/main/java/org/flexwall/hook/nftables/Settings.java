package org.flexwall.hook.nftables;

import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The validated configuration of the baseline. Interface names go into the nft file, so they are checked strictly:
 * a name nft would read as syntax could change the ruleset.
 *
 * @param antiLockout         keep management access (tcp {@code managementTcpPorts}) reachable
 * @param managementInterface the interface management access is kept on, or "" for every interface
 * @param managementTcpPorts  the TCP ports of management access (SSH, the console)
 * @param lanInterfaces       interfaces whose packets may be forwarded (gateway); empty forwards nothing new
 * @param queueNum            the NFQUEUE number of the user-space hook, for coordination (this hook queues nothing)
 * @param nftBinary           the nft program
 * @param untrackPermitted    inbound packets to permitted ports skip connection tracking (not on a gateway)
 */
record Settings(boolean antiLockout, String managementInterface, SortedSet<Integer> managementTcpPorts,
        List<String> lanInterfaces, int queueNum, String nftBinary, boolean untrackPermitted) {

    /** Linux interface names: at most 15 bytes; nft's trailing '*' matches a prefix. */
    private static final Pattern INTERFACE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:@-]{0,14}\\*?");

    /** What a fresh install uses, and what an invalid configuration falls back to. */
    static final Settings DEFAULTS = new Settings(true, "", new TreeSet<>(List.of(22, 8080)), List.of(), 42, "nft",
            true);

    Settings {
        managementTcpPorts = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(managementTcpPorts));
        lanInterfaces = List.copyOf(lanInterfaces);
        check(managementInterface.isEmpty() || INTERFACE.matcher(managementInterface).matches(),
                "managementInterface \"" + managementInterface + "\" is not an interface name");
        for (String lan : lanInterfaces) {
            check(INTERFACE.matcher(lan).matches(), "lanInterfaces: \"" + lan + "\" is not an interface name");
        }
        for (int port : managementTcpPorts) {
            check(port >= 1 && port <= 65535, "managementTcpPorts: " + port + " is not a port (1-65535)");
        }
        check(!antiLockout || !managementTcpPorts.isEmpty(), "antiLockout is on but managementTcpPorts is empty");
        check(queueNum >= 0 && queueNum <= 65535, "queueNum must be 0-65535, not " + queueNum);
        check(!nftBinary.isBlank(), "nftBinary is empty; give the nft program, such as nft or /usr/sbin/nft");
    }

    static Settings of(NftablesHook.Config c) {
        TreeSet<Integer> ports = new TreeSet<>();
        for (int p : c.managementTcpPorts()) {
            ports.add(p);
        }
        List<String> lans = java.util.Arrays.stream(c.lanInterfaces()).map(String::trim).filter(s -> !s.isEmpty())
                .toList();
        return new Settings(c.antiLockout(), c.managementInterface().trim(), ports, lans, c.queueNum(),
                c.nftBinary().trim(), c.untrackPermitted());
    }

    /** Whether permitted ports skip conntrack: asked for, and no gateway (forwarded flows and NAT need it). */
    boolean untracksPermitted() {
        return untrackPermitted && lanInterfaces.isEmpty();
    }

    /** "tcp 22, 8080 on any interface" or "... on eth0", for the operator. */
    String managementAccess() {
        StringBuilder b = new StringBuilder("tcp ");
        b.append(String.join(", ", managementTcpPorts.stream().map(String::valueOf).toList()));
        return b.append(managementInterface.isEmpty() ? " on any interface" : " on " + managementInterface)
                .toString();
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
