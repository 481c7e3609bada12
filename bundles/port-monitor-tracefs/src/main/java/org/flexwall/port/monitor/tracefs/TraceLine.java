package org.flexwall.port.monitor.tracefs;

import org.flexwall.api.port.PortActivityListener;
import org.flexwall.api.port.Protocol;

/** Reads one line of trace_pipe text and passes what it says about ports on; ignores anything else. */
final class TraceLine {
    private TraceLine() {}

    static void dispatch(String line, PortActivityListener to) {
        if (line.contains("inet_sock_set_state:")) {
            if (line.contains("protocol=IPPROTO_TCP")) {
                to.portActivity(Protocol.TCP, number(line, "sport="));
            }
        } else if (line.contains("sys_bind") || line.contains("sys_exit_bind")) {
            to.portActivity(null, 0);
        }
    }

    /** The decimal number after {@code key}, or 0 when absent or malformed. */
    static int number(String line, String key) {
        int i = line.indexOf(key);
        if (i < 0) {
            return 0;
        }
        int value = 0;
        for (int j = i + key.length(); j < line.length() && Character.isDigit(line.charAt(j)) && value <= 65535; j++) {
            value = value * 10 + (line.charAt(j) - '0');
        }
        return value <= 65535 ? value : 0;
    }
}
