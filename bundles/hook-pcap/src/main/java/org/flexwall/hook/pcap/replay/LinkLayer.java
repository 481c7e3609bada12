package org.flexwall.hook.pcap.replay;

/**
 * Where the IP header starts in a captured frame, by the capture's link type (libpcap's DLT numbers, and the LINKTYPE
 * numbers a pcap file holds where they differ): Ethernet (with up to two VLAN tags), Linux cooked v1 and v2 (what
 * {@code tcpdump -i any} writes), raw IP, and BSD loopback.
 */
final class LinkLayer {
    static final int NULL = 0, EN10MB = 1, RAW = 12, RAW_OPENBSD = 14, LINKTYPE_RAW = 101, LOOP = 108,
            LINUX_SLL = 113, IPV4 = 228, IPV6 = 229, LINUX_SLL2 = 276;
    /** The frame carries no IP (ARP, LLDP, ...). */
    static final int NOT_IP = -1;

    private LinkLayer() {}

    /** Whether a capture of link type {@code dlt} can carry IP this class finds. */
    static boolean supported(int dlt) {
        return switch (dlt) {
            case NULL, EN10MB, RAW, RAW_OPENBSD, LINKTYPE_RAW, LOOP, LINUX_SLL, IPV4, IPV6, LINUX_SLL2 -> true;
            default -> false;
        };
    }

    /** The link type's name as libpcap writes it (pcap_datalink_val_to_name), or its number. */
    static String name(int dlt) {
        return switch (dlt) {
            case NULL -> "NULL";
            case EN10MB -> "EN10MB";
            case RAW, RAW_OPENBSD, LINKTYPE_RAW -> "RAW";
            case LOOP -> "LOOP";
            case LINUX_SLL -> "LINUX_SLL";
            case IPV4 -> "IPV4";
            case IPV6 -> "IPV6";
            case LINUX_SLL2 -> "LINUX_SLL2";
            default -> "DLT " + dlt;
        };
    }

    /**
     * Where the IP header starts in the frame at {@code start} of {@code frame}, {@code length} bytes captured: its
     * index in {@code frame}, or {@link #NOT_IP}.
     */
    static int ipOffset(int dlt, byte[] frame, int start, int length) {
        int end = start + length;
        return switch (dlt) {
            case EN10MB -> ethernet(frame, start, end);
            case LINUX_SLL -> etherType(frame, end, start + 14) ? start + 16 : NOT_IP;
            case LINUX_SLL2 -> etherType(frame, end, start) ? start + 20 : NOT_IP;
            case NULL, LOOP -> rawIp(frame, end, start + 4); // a 4-byte address family, in the writer's byte order
            default -> rawIp(frame, end, start);
        };
    }

    private static int ethernet(byte[] frame, int start, int length) {
        int at = start + 12;
        for (int tags = 0; tags < 2 && at + 2 <= length; tags++) {
            int type = u16(frame, at);
            if (type != 0x8100 && type != 0x88a8) {
                break;
            }
            at += 4; // an 802.1Q or 802.1ad tag
        }
        return etherType(frame, length, at) ? at + 2 : NOT_IP;
    }

    private static boolean etherType(byte[] frame, int length, int at) {
        if (at + 2 > length) {
            return false;
        }
        int type = u16(frame, at);
        return type == 0x0800 || type == 0x86dd;
    }

    private static int rawIp(byte[] frame, int length, int at) {
        if (at >= length) {
            return NOT_IP;
        }
        int version = (frame[at] & 0xff) >>> 4;
        return version == 4 || version == 6 ? at : NOT_IP;
    }

    private static int u16(byte[] b, int at) {
        return (b[at] & 0xff) << 8 | b[at + 1] & 0xff;
    }
}
