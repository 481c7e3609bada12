package org.flexwall.api.port;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Objects;

/**
 * A listening TCP socket or a bound UDP socket in flexwall's network namespace, with its owners.
 *
 * @param protocol TCP or UDP
 * @param family   the socket's own family
 * @param address  the local address: an {@link Inet4Address} for an IPv4 socket; for an IPv6 socket an
 *                 Inet6Address, or an Inet4Address when bound to an IPv4-mapped address (::ffff:a.b.c.d, which
 *                 {@link InetAddress} always represents so)
 * @param port     the local port
 * @param inode    the socket inode: the identity of the socket while it lives
 * @param v6Only   for an IPv6 socket, whether IPV6_V6ONLY is set (an unset one on :: serves IPv4 too)
 * @param owners   every process holding the socket, and every process that took it from another through pidfd_getfd
 *                 ({@link SocketOwner#taken()}: it may no longer hold it); empty when none could be resolved
 * @since 2.0 (the address was a String)
 */
public record ListeningSocket(Protocol protocol, AddressFamily family, InetAddress address, int port, long inode,
        boolean v6Only, List<SocketOwner> owners) {

    public ListeningSocket {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(address, "address");
        if (family == AddressFamily.IPV4 && !(address instanceof Inet4Address)) {
            throw new IllegalArgumentException("an IPv4 socket with the IPv6 address " + address.getHostAddress());
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        owners = List.copyOf(owners);
    }

    /** Whether packets of {@code f} can reach this socket: a dual-stack IPv6 socket also receives IPv4. */
    public boolean serves(AddressFamily f) {
        return family == f || (family == AddressFamily.IPV6 && f == AddressFamily.IPV4 && !v6Only);
    }

    /** Whether only this host can reach the socket: bound to 127.0.0.0/8, ::1 or an IPv4-mapped 127.x address. */
    public boolean isLoopback() {
        return address.isLoopbackAddress();
    }

    /** Whether the socket is bound to every address of its family (0.0.0.0 or ::). */
    public boolean isWildcard() {
        return address.isAnyLocalAddress();
    }

    /** The address as operators read it: a dotted quad, RFC 5952 for IPv6 ("::", "::1", "::ffff:127.0.0.1"). */
    public String addressText() {
        if (address instanceof Inet4Address) {
            return (family == AddressFamily.IPV6 ? "::ffff:" : "") + address.getHostAddress();
        }
        byte[] a = address.getAddress();
        int[] w = new int[8];
        for (int i = 0; i < 8; i++) {
            w[i] = (a[2 * i] & 0xFF) << 8 | a[2 * i + 1] & 0xFF;
        }
        // The longest run of two or more zero words becomes "::" (the first one on a tie).
        int bestAt = -1;
        int bestLen = 1;
        for (int i = 0; i < 8;) {
            int j = i;
            while (j < 8 && w[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestAt = i;
                bestLen = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        StringBuilder s = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestAt) {
                s.append("::");
                i += bestLen - 1;
                continue;
            }
            if (s.length() > 0 && s.charAt(s.length() - 1) != ':') {
                s.append(':');
            }
            s.append(Integer.toHexString(w[i]));
        }
        return s.toString();
    }
}
