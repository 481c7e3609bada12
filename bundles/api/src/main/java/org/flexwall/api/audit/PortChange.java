package org.flexwall.api.audit;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Objects;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;

/**
 * flexwall opened a port to inbound packets or closed it again (a row of Table 2 added or removed).
 *
 * @param time       when
 * @param kind       OPENED or CLOSED
 * @param protocol   TCP or UDP
 * @param family     the family packets may arrive in
 * @param port       the local port
 * @param program    the trusted program's display name
 * @param executable the path of the running image of the process holding the socket, or null when none is known
 * @param sha256     the hash of the trusted program's bytes
 * @param pid        the process holding the socket, or 0 when none is known
 * @param user       the user that process runs as (name, or uid in digits), or null when unknown
 * @param why        why it opened or closed, in words ("a trusted program listens", "the socket closed",
 *                   "the program is no longer trusted")
 */
public record PortChange(Instant time, Kind kind, Protocol protocol, AddressFamily family, int port, String program,
        Path executable, String sha256, int pid, String user, String why) implements AuditEntry {

    public enum Kind { OPENED, CLOSED }

    public PortChange {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(program, "program");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        if (why == null || why.isBlank()) {
            throw new IllegalArgumentException("a port change needs a reason");
        }
    }

    @Override
    public String summary() {
        return (kind == Kind.OPENED ? "opened " : "closed ") + protocol + " port " + port + " ("
                + (family == AddressFamily.IPV4 ? "IPv4" : "IPv6") + ") for '" + program + "'"
                + (pid == 0 ? "" : ", pid " + pid) + (user == null ? "" : ", user " + user)
                + (executable == null ? "" : ", " + executable) + (sha256 == null ? "" : ", SHA-256 " + sha256)
                + ": " + why;
    }
}
