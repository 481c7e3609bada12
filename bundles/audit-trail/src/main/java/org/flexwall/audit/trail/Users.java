package org.flexwall.audit.trail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.flexwall.api.port.SocketOwner;

/** User names for uids, from /etc/passwd, read again when a uid is not known yet. */
final class Users {
    static final Path PASSWD = Path.of("/etc/passwd");

    private final Path passwd;
    private final Map<Integer, String> names = new ConcurrentHashMap<>();

    Users(Path passwd) {
        this.passwd = passwd;
    }

    /** The name of {@code uid}, its digits when it has none, or null for an unknown uid. */
    String name(int uid) {
        if (uid == SocketOwner.UNKNOWN_UID) {
            return null;
        }
        String name = names.get(uid);
        if (name == null) {
            read();
            name = names.computeIfAbsent(uid, String::valueOf); // not read again for a uid without a name
        }
        return name;
    }

    private void read() {
        try {
            for (String line : Files.readAllLines(passwd)) {
                String[] fields = line.split(":", -1);
                if (fields.length >= 3 && fields[2].matches("\\d{1,10}")) {
                    try {
                        names.putIfAbsent(Integer.parseInt(fields[2]), fields[0]);
                    } catch (NumberFormatException e) {
                        // beyond an int: no process has it
                    }
                }
            }
        } catch (IOException e) {
            // no names: uids are shown as digits
        }
    }
}
