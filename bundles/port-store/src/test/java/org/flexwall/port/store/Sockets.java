package org.flexwall.port.store;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.port.SocketOwner;
import org.flexwall.api.program.TrustedProgram;

/** Records for tests: programs, processes running them, sockets they hold. */
public final class Sockets {
    private Sockets() {}

    /** An address literal (parsed, never looked up). */
    public static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }

    public static String sha(char c) {
        return String.valueOf(c).repeat(64);
    }

    public static TrustedProgram program(String name, char sha) {
        return new TrustedProgram(name, Path.of("/usr/sbin/" + name), sha(sha), "0".repeat(32),
                Instant.parse("2025-01-01T00:00:00Z"), false);
    }

    /** A process running the image with hash {@code sha} (null: unreadable). */
    public static SocketOwner owner(int pid, String sha) {
        return new SocketOwner(pid, 1000L + pid, Path.of("/proc-test/" + pid), sha);
    }

    public static ListeningSocket tcp4(int port, long inode, SocketOwner... owners) {
        return new ListeningSocket(Protocol.TCP, AddressFamily.IPV4, ip("0.0.0.0"), port, inode, false, List.of(owners));
    }

    public static ListeningSocket tcp6(int port, long inode, boolean v6Only, SocketOwner... owners) {
        return new ListeningSocket(Protocol.TCP, AddressFamily.IPV6, ip("::"), port, inode, v6Only, List.of(owners));
    }

    public static ListeningSocket udp4(String address, int port, long inode, SocketOwner... owners) {
        return new ListeningSocket(Protocol.UDP, AddressFamily.IPV4, ip(address), port, inode, false, List.of(owners));
    }
}
