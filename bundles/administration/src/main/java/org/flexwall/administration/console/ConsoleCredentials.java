package org.flexwall.administration.console;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Where the console password comes from, in this order: a hash given in configuration, the environment variable
 * {@value #ENV_PASSWORD}, the hash stored in the data directory, or, on a fresh install, a random password whose hash
 * is stored and whose text is written once to a root-only file for the operator.
 */
final class ConsoleCredentials {
    static final String ENV_PASSWORD = "FLEXWALL_CONSOLE_PASSWORD";
    static final String HASH_FILE = "console-password.hash";
    static final String INITIAL_PASSWORD_FILE = "console-initial-password";

    /** The hash to check against, or null when the console must refuse everyone; and what to tell the operator. */
    record Outcome(PasswordHash hash, String message, boolean problem) {}

    private ConsoleCredentials() {}

    static Outcome establish(Path dataDir, String username, String configuredHash, String envPassword) {
        if (configuredHash != null && !configuredHash.isBlank()) {
            try {
                return new Outcome(PasswordHash.parse(configuredHash), "console user '" + username
                        + "' authenticates against the hash in configuration (password.hash)", false);
            } catch (IllegalArgumentException e) {
                return refuseAll("the console password hash in configuration (PID " + ConsoleSecurity.PID
                        + ", setting password.hash) is malformed: " + e.getMessage()
                        + ". Fix it in runtime-config/ or remove it; until then the console refuses every login");
            }
        }
        Path hashFile = dataDir.resolve(HASH_FILE);
        try {
            if (envPassword != null && !envPassword.isEmpty()) {
                PasswordHash hash = PasswordHash.of(envPassword.toCharArray());
                writeAtomically(hashFile, hash.format() + "\n");
                return new Outcome(hash, "console password for user '" + username + "' set from " + ENV_PASSWORD
                        + "; its hash is stored in " + hashFile, false);
            }
            if (Files.exists(hashFile)) {
                PasswordHash hash = PasswordHash.parse(Files.readString(hashFile, StandardCharsets.UTF_8));
                Path initial = dataDir.resolve(INITIAL_PASSWORD_FILE);
                String reminder = Files.exists(initial)
                        ? "; the generated password is still in " + initial + ": delete that file once you have it"
                        : "";
                return new Outcome(hash, "console user '" + username + "' authenticates against " + hashFile
                        + reminder, false);
            }
            String password = PasswordHash.randomPassword();
            PasswordHash hash = PasswordHash.of(password.toCharArray());
            Path initial = dataDir.resolve(INITIAL_PASSWORD_FILE);
            writeAtomically(initial, password + "\n");
            writeAtomically(hashFile, hash.format() + "\n");
            return new Outcome(hash, "generated a console password for user '" + username + "'. Read it from "
                    + initial + " (root only), then delete that file. To choose your own, start flexwall once with "
                    + ENV_PASSWORD + " set", false);
        } catch (IllegalArgumentException e) {
            return refuseAll("the stored console password hash " + hashFile + " is malformed (" + e.getMessage()
                    + "). Delete it to have a new password generated at the next start, or start with "
                    + ENV_PASSWORD + " set; until then the console refuses every login");
        } catch (AccessDeniedException | NoSuchFileException e) {
            return refuseAll("cannot use the data directory " + dataDir + " (setting flexwall.data) for the console "
                    + "password: " + e.getMessage() + " is missing or not writable; until then the console refuses "
                    + "every login");
        } catch (IOException e) {
            return refuseAll("cannot read or write the console password in " + dataDir + ": " + e
                    + "; until then the console refuses every login");
        }
    }

    private static Outcome refuseAll(String message) {
        return new Outcome(null, message, true);
    }

    /**
     * Temp file, fsync, atomic rename, fsync of the directory: a crash leaves the old file or the new one. The temp
     * file is created new, 0600 from the start, and never opened through a link planted at its name.
     */
    static void writeAtomically(Path file, String content) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = dir.resolve(file.getFileName() + ".tmp");
        try (FileChannel ch = createPrivate(tmp)) {
            ByteBuffer bytes = StandardCharsets.UTF_8.encode(content);
            while (bytes.hasRemaining()) {
                ch.write(bytes);
            }
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    private static FileChannel createPrivate(Path tmp) throws IOException {
        Set<OpenOption> options = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS);
        FileAttribute<Set<PosixFilePermission>> ownerOnly =
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
        try {
            return FileChannel.open(tmp, options, ownerOnly);
        } catch (FileAlreadyExistsException e) {
            Files.delete(tmp); // left by a crash, or planted: removed (a link itself, not its target), never written
            return FileChannel.open(tmp, options, ownerOnly);
        }
    }
}
