package org.flexwall.api.port;

/** The transport protocols a program can open a server port on. */
public enum Protocol {
    TCP(6), UDP(17);

    /** The IP protocol number, as in the IPv4 protocol field and the IPv6 next header. */
    public final int number;

    Protocol(int number) {
        this.number = number;
    }
}
