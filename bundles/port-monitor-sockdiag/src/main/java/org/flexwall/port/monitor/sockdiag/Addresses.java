package org.flexwall.port.monitor.sockdiag;

/** Text forms of addresses as operators read them: dotted quad, and RFC 5952 for IPv6 ("::", "::1", "fe80::1"). */
final class Addresses {
    private Addresses() {}

    static String text(byte[] a) {
        if (a.length == 4) {
            return (a[0] & 0xFF) + "." + (a[1] & 0xFF) + "." + (a[2] & 0xFF) + "." + (a[3] & 0xFF);
        }
        if (a.length != 16) {
            throw new IllegalArgumentException("not an IP address: " + a.length + " bytes");
        }
        int[] w = new int[8];
        for (int i = 0; i < 8; i++) {
            w[i] = ((a[2 * i] & 0xFF) << 8) | (a[2 * i + 1] & 0xFF);
        }
        if (w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0xFFFF) {
            return "::ffff:" + text(new byte[] { a[12], a[13], a[14], a[15] });
        }
        // The longest run of two or more zero words becomes "::" (the first one on a tie).
        int bestAt = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; ) {
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

    /** Whether a socket bound to this address can receive packets from the network (not only from this host). */
    static boolean isLoopback(String address) {
        return address.startsWith("127.") || address.equals("::1") || address.startsWith("::ffff:127.");
    }

    static boolean isWildcard(String address) {
        return address.equals("0.0.0.0") || address.equals("::");
    }
}
