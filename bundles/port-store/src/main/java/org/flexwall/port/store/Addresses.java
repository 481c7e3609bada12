package org.flexwall.port.store;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;

/** Reads the text addresses the port monitor reports, without name lookups. */
final class Addresses {
    private Addresses() {}

    /** Whether {@code address} is 127.0.0.0/8, ::1 or an IPv4-mapped 127.x address. */
    static boolean isLoopback(String address) {
        String a = address.strip().toLowerCase(Locale.ROOT);
        if (a.matches("[0-9.]+")) {
            return a.startsWith("127.");
        }
        if (!a.matches("[0-9a-f:.]+(%[0-9a-z._-]+)?") || !a.contains(":")) {
            return false; // not an address literal: never resolve names here
        }
        try {
            return InetAddress.getByName(a).isLoopbackAddress(); // an IPv6 literal is parsed, not looked up
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
