package org.flexwall.program.registry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.flexwall.api.program.RegistryException;

/** The user and systemd unit an administrator may restrict a trusted program to, checked and written out in full. */
final class Accounts {
    static final Path PASSWD = Path.of("/etc/passwd");

    /** A user as stored: the name the administrator knows and the uid the kernel reports. */
    record User(String name, int uid) {}

    private Accounts() {}

    /** {@code user} (a name from /etc/passwd or a numeric uid) with its uid; refused when no such user exists. */
    static User user(String user, Path passwd) throws RegistryException {
        String given = user.strip();
        List<String> lines;
        try {
            lines = Files.readAllLines(passwd);
        } catch (IOException e) {
            lines = List.of();
        }
        boolean numeric = given.matches("[0-9]{1,9}");
        for (String line : lines) {
            String[] f = line.split(":", -1);
            if (f.length >= 3 && f[2].matches("[0-9]{1,9}")
                    && (numeric ? f[2].equals(String.valueOf(Integer.parseInt(given))) : f[0].equals(given))) {
                return new User(f[0], Integer.parseInt(f[2]));
            }
        }
        if (numeric) {
            return new User(String.valueOf(Integer.parseInt(given)), Integer.parseInt(given)); // a uid without a name
        }
        throw new RegistryException("there is no user '" + given + "' in " + passwd + "; give a user name from it or "
                + "a numeric uid");
    }

    /** A systemd service unit name: "nginx" becomes "nginx.service"; anything else than a service is refused. */
    static String unit(String unit) throws RegistryException {
        String u = unit.strip();
        if (!u.contains(".")) {
            u = u + ".service";
        }
        if (!u.matches("[A-Za-z0-9:_.\\\\@-]+\\.service")) {
            throw new RegistryException("'" + unit + "' is not a systemd service unit name (such as nginx or "
                    + "nginx.service): flexwall tells a process's unit by its .service cgroup");
        }
        return u;
    }
}
