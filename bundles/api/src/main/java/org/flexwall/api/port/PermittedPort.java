package org.flexwall.api.port;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

import org.flexwall.api.program.TrustedProgram;

/**
 * One row of the patent's Table 2: a port that inbound packets may reach because a trusted program listens on it.
 * Keyed on the socket, never on a PID alone.
 *
 * @param program   the trusted program every owner of the socket runs
 * @param protocol  TCP or UDP
 * @param family    the family packets may arrive in; a dual-stack socket yields one entry per family
 * @param port      the local port
 * @param inode     the socket inode
 * @param processes the processes holding the socket when it was permitted
 * @param since     when the port was permitted
 */
public record PermittedPort(TrustedProgram program, Protocol protocol, AddressFamily family, int port, long inode,
        List<SocketOwner> processes, Instant since) {
    public PermittedPort {
        Objects.requireNonNull(program, "program");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(since, "since");
        processes = List.copyOf(processes);
    }
}
