package org.flexwall.api.port;

/** IP address families. A dual-stack IPv6 socket bound to :: serves both. */
public enum AddressFamily {
    IPV4, IPV6
}
