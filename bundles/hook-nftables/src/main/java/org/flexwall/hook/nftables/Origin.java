package org.flexwall.hook.nftables;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Facts from outside the configuration that anti-lockout needs: the SSH session flexwall was started from (its
 * client's address and the server's port, from {@code SSH_CONNECTION} in the environment of the JVM or of an
 * ancestor: sudo drops it from the JVM's own), and where the console listens.
 *
 * @param sshClient     the SSH client's address, or null when flexwall was not started from an SSH session
 * @param sshServerPort the SSH server's port of that session
 * @param consoleHost   the address the console listens on, or null when it is not known
 * @param consolePort   the console's TCP port
 */
record Origin(String sshClient, int sshServerPort, String consoleHost, int consolePort) {
    /** Numeric IPv4 or IPv6 literals only: they go into the nft file, and nothing here may resolve a name. */
    private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    static final Origin NONE = new Origin(null, 0, null, 0);

    Origin {
        sshClient = literal(sshClient);
        consoleHost = consoleHost == null ? null : consoleHost.strip();
    }

    /** The origin of this JVM: SSH_CONNECTION from its environment or its ancestors', and the console's address. */
    static Origin of(String consoleHost, int consolePort) {
        String[] ssh = sshConnection();
        return ssh == null ? new Origin(null, 0, consoleHost, consolePort)
                : new Origin(ssh[0], Integer.parseInt(ssh[3]), consoleHost, consolePort);
    }

    /** Whether the console listens where other hosts can reach it: anything but loopback (or an unknown host). */
    boolean consoleReachable() {
        if (consoleHost == null || consolePort < 1 || consolePort > 65535) {
            return false;
        }
        return consoleWildcard() || (literal(consoleHost) != null && !consoleHost.startsWith("127.")
                && !consoleHost.equals("::1"));
    }

    /** Whether the console listens on every address. */
    boolean consoleWildcard() {
        return consoleHost != null && (consoleHost.isEmpty() || consoleHost.equals("0.0.0.0")
                || consoleHost.equals("::"));
    }

    /** "ip" or "ip6", for an nft address match. */
    static String family(String literal) {
        return literal.contains(":") ? "ip6" : "ip";
    }

    private static String literal(String address) {
        if (address == null) {
            return null;
        }
        String a = address.strip();
        if (a.startsWith("::ffff:") && IPV4.matcher(a.substring(7)).matches()) {
            a = a.substring(7); // sshd reports IPv4 clients of a dual-stack socket this way
        }
        if (IPV4.matcher(a).matches()) {
            return java.util.Arrays.stream(a.split("\\.")).allMatch(o -> Integer.parseInt(o) <= 255) ? a : null;
        }
        if (!IPV6.matcher(a).matches()) {
            return null;
        }
        try {
            java.net.InetAddress.getByName("[" + a + "]"); // brackets: parsed as an IPv6 literal, never looked up
            return a;
        } catch (java.net.UnknownHostException e) {
            return null;
        }
    }

    /** "client port server port" split, from the JVM's environment or the nearest ancestor's; null when none. */
    private static String[] sshConnection() {
        String own = System.getenv("SSH_CONNECTION");
        if (own != null) {
            return split(own);
        }
        long pid = ProcessHandle.current().pid();
        for (int depth = 0; depth < 32 && pid > 1; depth++) {
            pid = parent(pid);
            String found = environ(pid).get("SSH_CONNECTION");
            if (found != null) {
                return split(found);
            }
        }
        return null;
    }

    private static String[] split(String value) {
        String[] p = value.strip().split("\\s+");
        return p.length == 4 && literal(p[0]) != null && p[3].matches("\\d{1,5}") ? p : null;
    }

    private static long parent(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.US_ASCII);
            return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static Map<String, String> environ(long pid) {
        try {
            String all = Files.readString(Path.of("/proc/" + pid + "/environ"), StandardCharsets.ISO_8859_1);
            Map<String, String> env = new java.util.HashMap<>();
            for (String entry : all.split("\0")) {
                int eq = entry.indexOf('=');
                if (eq > 0) {
                    env.put(entry.substring(0, eq), entry.substring(eq + 1));
                }
            }
            return env;
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
    }
}
