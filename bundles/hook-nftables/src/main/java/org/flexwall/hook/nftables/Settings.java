package org.flexwall.hook.nftables;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The validated configuration of the baseline. Interface names and addresses go into the nft file, so they are
 * checked strictly: a value nft would read as syntax could change the ruleset.
 *
 * @param antiLockout         keep the operator's own way in open: see {@link #managementRules()}
 * @param managementInterface the interface management access is kept on, or "" when none is configured
 * @param sshPort             the SSH port anti-lockout keeps open on the management interface
 * @param lanInterfaces       interfaces whose packets may be forwarded (gateway); empty forwards nothing new
 * @param queueNum            the NFQUEUE number of the user-space hook, for coordination (this hook queues nothing)
 * @param nftBinary           the nft program
 * @param untrackPermitted    inbound packets to permitted ports skip connection tracking (not on a gateway)
 * @param origin              where flexwall was started from and where its console listens
 * @param masqueradeInterface the outside interface IPv4 from the LAN leaves masqueraded (NAT), or "" for none
 * @param lanServices         services of the appliance itself the LAN may reach ("udp/53", "tcp/22")
 */
record Settings(boolean antiLockout, String managementInterface, int sshPort, List<String> lanInterfaces, int queueNum,
        String nftBinary, boolean untrackPermitted, Origin origin, String masqueradeInterface,
        List<String> lanServices) {

    private static final Pattern SERVICE = Pattern.compile("(tcp|udp)/([0-9]{1,5})");

    /** Linux interface names: at most 15 bytes; nft's trailing '*' matches a prefix. */
    private static final Pattern INTERFACE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:@-]{0,14}\\*?");

    /** What a fresh install uses, and what an invalid configuration falls back to (with the origin found). */
    static Settings defaults(Origin origin) {
        return new Settings(true, "", 22, List.of(), 42, "nft", true, origin, "", List.of());
    }

    /** The same settings as the configuration's, before a configuration gives more (tests and the boot ruleset). */
    Settings(boolean antiLockout, String managementInterface, int sshPort, List<String> lanInterfaces, int queueNum,
            String nftBinary, boolean untrackPermitted, Origin origin) {
        this(antiLockout, managementInterface, sshPort, lanInterfaces, queueNum, nftBinary, untrackPermitted, origin,
                "", List.of());
    }

    Settings {
        lanInterfaces = List.copyOf(lanInterfaces);
        lanServices = lanServices.stream().map(String::strip).map(x -> x.toLowerCase(java.util.Locale.ROOT))
                .filter(x -> !x.isEmpty()).distinct().toList();
        check(masqueradeInterface.isEmpty() || INTERFACE.matcher(masqueradeInterface).matches(),
                "masqueradeInterface \"" + masqueradeInterface + "\" is not an interface name");
        check(masqueradeInterface.isEmpty() || !lanInterfaces.isEmpty(),
                "masqueradeInterface is set but lanInterfaces is empty: nothing would be forwarded to masquerade");
        check(!lanInterfaces.contains(masqueradeInterface), "masqueradeInterface " + masqueradeInterface
                + " is also a LAN interface: name the outside interface");
        for (String service : lanServices) {
            java.util.regex.Matcher m = SERVICE.matcher(service);
            check(m.matches() && Integer.parseInt(m.group(2)) >= 1 && Integer.parseInt(m.group(2)) <= 65535,
                    "lanServices: \"" + service + "\" is not protocol/port, such as udp/53 or tcp/22");
        }
        check(lanServices.isEmpty() || !lanInterfaces.isEmpty(), "lanServices is set but lanInterfaces is empty");
        check(managementInterface.isEmpty() || INTERFACE.matcher(managementInterface).matches(),
                "managementInterface \"" + managementInterface + "\" is not an interface name");
        for (String lan : lanInterfaces) {
            check(INTERFACE.matcher(lan).matches(), "lanInterfaces: \"" + lan + "\" is not an interface name");
        }
        check(sshPort >= 1 && sshPort <= 65535, "sshPort: " + sshPort + " is not a port (1-65535)");
        check(queueNum >= 0 && queueNum <= 65535, "queueNum must be 0-65535, not " + queueNum);
        check(!nftBinary.isBlank(), "nftBinary is empty; give the nft program, such as nft or /usr/sbin/nft");
    }

    static Settings of(NftablesHook.Config c, Origin origin) {
        List<String> lans = java.util.Arrays.stream(c.lanInterfaces()).map(String::trim).filter(s -> !s.isEmpty())
                .toList();
        return new Settings(c.antiLockout(), c.managementInterface().trim(), c.sshPort(), lans, c.queueNum(),
                c.nftBinary().trim(), c.untrackPermitted(), origin, c.masqueradeInterface().trim(),
                List.of(c.lanServices()));
    }

    /** The same settings as at boot, before anyone logs in: no SSH session to keep open. */
    Settings atBoot() {
        return new Settings(antiLockout, managementInterface, sshPort, lanInterfaces, queueNum, nftBinary,
                untrackPermitted, new Origin(null, 0, origin.consoleHost(), origin.consolePort()), masqueradeInterface,
                lanServices);
    }

    /** Whether permitted ports skip conntrack: asked for, and no gateway (forwarded flows and NAT need it). */
    boolean untracksPermitted() {
        return untrackPermitted && lanInterfaces.isEmpty();
    }

    /**
     * The anti-lockout matches (nft expressions), each accepted whatever the port store says; as narrow as keeping the
     * operator in needs:
     * <ul>
     * <li>SSH on the configured management interface; with none configured, SSH only from the client of the SSH
     * session flexwall was started from (run by hand over SSH); on an appliance started at boot, no SSH at all;</li>
     * <li>the console's port only when the console listens on an address other networks can reach, and only to that
     * address (on loopback, the default, it needs no inbound rule: tunnel to it).</li>
     * </ul>
     */
    List<String> managementRules() {
        List<String> rules = new ArrayList<>();
        if (!antiLockout) {
            return rules;
        }
        String on = managementInterface.isEmpty() ? "" : "iifname \"" + managementInterface + "\" ";
        if (!managementInterface.isEmpty()) {
            rules.add(on + "tcp dport " + sshPort);
        } else if (origin.sshClient() != null) {
            rules.add(Origin.family(origin.sshClient()) + " saddr " + origin.sshClient() + " tcp dport "
                    + origin.sshServerPort());
        }
        if (origin.consoleReachable()) {
            String to = origin.consoleWildcard() ? "" : Origin.family(origin.consoleHost()) + " daddr "
                    + origin.consoleHost() + " ";
            rules.add(on + to + "tcp dport " + origin.consolePort());
        }
        return rules;
    }

    /** The LAN's way to the appliance's own services: each configured protocol/port, from the LAN interfaces only. */
    List<String> lanServiceRules() {
        List<String> rules = new ArrayList<>();
        for (String service : lanServices) {
            String[] pp = service.split("/");
            rules.add("iifname " + interfaces(lanInterfaces) + " " + pp[0] + " dport " + pp[1]);
        }
        return rules;
    }

    private static String interfaces(List<String> names) {
        return "{ " + String.join(", ", names.stream().map(n -> "\"" + n + "\"").toList()) + " }";
    }

    /** What anti-lockout keeps open, for the operator. */
    String managementAccess() {
        if (!antiLockout) {
            return "off";
        }
        List<String> parts = new ArrayList<>();
        if (!managementInterface.isEmpty()) {
            parts.add("SSH (tcp " + sshPort + ") on " + managementInterface);
        } else if (origin.sshClient() != null) {
            parts.add("SSH (tcp " + origin.sshServerPort() + ") from " + origin.sshClient()
                    + ", the client of the SSH session flexwall was started from");
        }
        if (origin.consoleReachable()) {
            parts.add("the console (tcp " + origin.consolePort() + (origin.consoleWildcard() ? " on every address"
                    : " to " + origin.consoleHost()) + (managementInterface.isEmpty() ? "" : " on "
                            + managementInterface) + ")");
        }
        return parts.isEmpty() ? "nothing (no managementInterface configured, not started from an SSH session, "
                + "console on loopback)" : String.join(" and ", parts);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
