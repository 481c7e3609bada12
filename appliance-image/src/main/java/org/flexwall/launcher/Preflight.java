package org.flexwall.launcher;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/** Checks made before the framework starts, each ending in one message that names the setting to fix. */
final class Preflight {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    private Preflight() {}

    /**
     * The data directory must exist, be writable and be the runner's alone: it holds the console password hash and
     * the trusted programs. Only the image's own default is created on demand, 0700.
     */
    static void dataDirectory(Path dir, boolean isDefault, String setting) throws LaunchException {
        if (!Files.exists(dir)) {
            if (!isDefault) {
                throw new LaunchException("the data directory " + dir + " (" + setting + ") does not exist; create it "
                        + "with `install -d -m 700 " + dir + "` or choose another one");
            }
            try {
                Files.createDirectories(dir.getParent());
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            } catch (IOException e) {
                throw new LaunchException("cannot create the data directory " + dir + " (" + setting + "): " + e.getMessage());
            }
        }
        if (!Files.isDirectory(dir)) {
            throw new LaunchException("the data directory " + dir + " (" + setting + ") is not a directory");
        }
        try {
            Path probe = Files.createTempFile(dir, ".write-check", "");
            Files.delete(probe);
        } catch (AccessDeniedException e) {
            throw new LaunchException("the data directory " + dir + " (" + setting + ") is not writable (permission "
                    + "denied); run flexwall as root or give it a directory it may write");
        } catch (IOException e) {
            throw new LaunchException("the data directory " + dir + " (" + setting + ") is not writable: " + e);
        }
        privateToTheRunner(dir, setting);
    }

    private static void privateToTheRunner(Path dir, String setting) throws LaunchException {
        try {
            String owner = Files.getOwner(dir).getName();
            String runner = System.getProperty("user.name");
            if (!owner.equals(runner)) {
                throw new LaunchException("the data directory " + dir + " (" + setting + ") belongs to " + owner
                        + ", not to " + runner + " who runs flexwall: " + owner + " could change what flexwall trusts. "
                        + "Run `chown " + runner + " " + dir + "` or choose another directory");
            }
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir);
            if (!OWNER_ONLY.containsAll(mode)) {
                throw new LaunchException("the data directory " + dir + " (" + setting + ") can be reached by other "
                        + "users (mode " + PosixFilePermissions.toString(mode) + "), and it holds the console password "
                        + "hash and the trusted programs: run `chmod 700 " + dir + "`, then start again");
            }
        } catch (IOException e) {
            throw new LaunchException("cannot read the owner and mode of the data directory " + dir + " (" + setting
                    + "): " + e.getMessage());
        }
    }

    /** The console's address must be free: Jetty would otherwise only log the failure and serve nothing. */
    static void consolePortFree(String host, String port, String where) throws LaunchException {
        int number;
        try {
            number = Integer.parseInt(port.trim());
        } catch (NumberFormatException e) {
            throw new LaunchException("the console port \"" + port + "\" (" + RuntimeConfig.PORT + " in " + where
                    + ") is not a number");
        }
        if (number < 1 || number > 65535) {
            throw new LaunchException("the console port " + number + " (" + RuntimeConfig.PORT + " in " + where
                    + ") is outside 1–65535");
        }
        InetAddress address;
        try {
            address = InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new LaunchException("the console address \"" + host + "\" (" + RuntimeConfig.HOST + " in " + where
                    + ") is not an address of this machine");
        }
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(address, number));
        } catch (BindException e) {
            throw new LaunchException("the console port " + number + " on " + host + " (" + RuntimeConfig.PORT + " in "
                    + where + ") is already in use by another program; stop it (see `ss -ltnp sport = :" + number
                    + "`) or choose another port there");
        } catch (IOException e) {
            throw new LaunchException("cannot listen on " + host + ":" + number + " for the console (" + where + "): "
                    + e.getMessage());
        }
    }
}
