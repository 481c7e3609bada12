package org.flexwall.hook.pcap;

/**
 * What an Ethernet frame carries, read from its header only: the bridge passes ARP and IPv6 neighbour discovery
 * itself (an inline bridge that dropped them would cut every host off), sends IP to the engine and drops the rest.
 */
final class Frames {
    static final int ARP = 0, NEIGHBOUR_DISCOVERY = 1, IPV4 = 2, IPV6 = 3, OTHER = 4;

    private static final int ETHERNET_HEADER = 14, VLAN_TAG = 4;
    private static final int ETHERTYPE_IPV4 = 0x0800, ETHERTYPE_ARP = 0x0806, ETHERTYPE_IPV6 = 0x86dd,
            ETHERTYPE_VLAN = 0x8100;
    private static final int ICMPV6 = 58, ROUTER_SOLICITATION = 133, REDIRECT = 137;

    private Frames() {}

    /** Where the frame's network header starts: after the Ethernet header and one 802.1Q tag, if any. */
    static int networkOffset(byte[] frame, int length) {
        return length >= ETHERNET_HEADER + VLAN_TAG && etherTypeAt(frame, 12) == ETHERTYPE_VLAN
                ? ETHERNET_HEADER + VLAN_TAG : ETHERNET_HEADER;
    }

    /** One of the constants above. */
    static int kind(byte[] frame, int length) {
        if (length < ETHERNET_HEADER) {
            return OTHER;
        }
        int l3 = networkOffset(frame, length);
        switch (etherTypeAt(frame, l3 - 2)) {
            case ETHERTYPE_ARP:
                return ARP;
            case ETHERTYPE_IPV4:
                return IPV4;
            case ETHERTYPE_IPV6:
                return isNeighbourDiscovery(frame, l3, length) ? NEIGHBOUR_DISCOVERY : IPV6;
            default:
                return OTHER;
        }
    }

    /**
     * ICMPv6 router/neighbour solicitation and advertisement or redirect (types 133-137) right after the fixed
     * header, with hop limit 255: RFC 4861 has hosts discard any other, so nothing routed from afar passes as one.
     */
    private static boolean isNeighbourDiscovery(byte[] frame, int l3, int length) {
        if (length < l3 + 40 + 4) {
            return false;
        }
        int type = frame[l3 + 40] & 0xff;
        return (frame[l3 + 6] & 0xff) == ICMPV6 && (frame[l3 + 7] & 0xff) == 255
                && type >= ROUTER_SOLICITATION && type <= REDIRECT;
    }

    private static int etherTypeAt(byte[] frame, int at) {
        return (frame[at] & 0xff) << 8 | frame[at + 1] & 0xff;
    }
}
