package org.flexwall.api.port;

import java.util.List;
import java.util.Objects;

/**
 * A listening TCP socket or a bound UDP socket in flexwall's network namespace, with its owners.
 *
 * @param protocol TCP or UDP
 * @param family   the socket's own family
 * @param address  the local address in text form ("0.0.0.0", "::", "127.0.0.1")
 * @param port     the local port
 * @param inode    the socket inode: the identity of the socket while it lives
 * @param v6Only   for an IPv6 socket, whether IPV6_V6ONLY is set (an unset one on :: serves IPv4 too)
 * @param owners   every process holding the socket, and every process that took it from another through pidfd_getfd
 *                 ({@link SocketOwner#taken()}: it may no longer hold it); empty when none could be resolved
 */
public record ListeningSocket(Protocol protocol, AddressFamily family, String address, int port, long inode,
        boolean v6Only, List<SocketOwner> owners) {

    public ListeningSocket {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(address, "address");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        owners = List.copyOf(owners);
    }

    /** Whether packets of {@code f} can reach this socket: a dual-stack IPv6 socket also receives IPv4. */
    public boolean serves(AddressFamily f) {
        return family == f || (family == AddressFamily.IPV6 && f == AddressFamily.IPV4 && !v6Only);
    }
}
