package org.flexwall.administration.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConsoleCredentialsTest {
    @TempDir
    Path data;

    @Test
    void freshInstallGeneratesARandomPasswordStoresOnlyItsHashAndTellsWhereItIs() throws Exception {
        ConsoleCredentials.Outcome outcome = ConsoleCredentials.establish(data, "admin", "", null);

        Path initial = data.resolve(ConsoleCredentials.INITIAL_PASSWORD_FILE);
        String password = Files.readString(initial).strip();
        assertEquals(20, password.length());
        assertTrue(outcome.message().contains(initial.toString()), outcome.message());
        String stored = Files.readString(data.resolve(ConsoleCredentials.HASH_FILE));
        assertFalse(stored.contains(password), "the hash file must not hold the password");
        assertTrue(PasswordHash.parse(stored).matches(password.toCharArray()));
        assertFalse(outcome.hash().matches("admin".toCharArray()));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(initial)));
    }

    @Test
    void secondStartKeepsTheStoredPasswordAndRemindsToDeleteTheInitialFile() {
        ConsoleCredentials.establish(data, "admin", "", null);
        String password = read(data.resolve(ConsoleCredentials.INITIAL_PASSWORD_FILE));

        ConsoleCredentials.Outcome again = ConsoleCredentials.establish(data, "admin", "", null);

        assertTrue(again.hash().matches(password.toCharArray()));
        assertTrue(again.message().contains("delete that file"), again.message());
    }

    @Test
    void environmentPasswordReplacesTheStoredOne() {
        ConsoleCredentials.establish(data, "admin", "", null);
        ConsoleCredentials.Outcome outcome = ConsoleCredentials.establish(data, "admin", "", "s3cret-from-env");
        assertTrue(outcome.hash().matches("s3cret-from-env".toCharArray()));
        assertTrue(ConsoleCredentials.establish(data, "admin", "", null).hash().matches("s3cret-from-env".toCharArray()));
    }

    @Test
    void corruptStoredHashRefusesEveryLoginAndNamesTheFile() throws Exception {
        Files.writeString(data.resolve(ConsoleCredentials.HASH_FILE), "pbkdf2-sha256$oops\n");
        ConsoleCredentials.Outcome outcome = ConsoleCredentials.establish(data, "admin", "", null);
        assertNull(outcome.hash());
        assertTrue(outcome.problem());
        assertTrue(outcome.message().contains(data.resolve(ConsoleCredentials.HASH_FILE).toString()), outcome.message());
    }

    @Test
    void missingDataDirectoryRefusesEveryLoginAndNamesTheSetting() {
        ConsoleCredentials.Outcome outcome = ConsoleCredentials.establish(data.resolve("absent"), "admin", "", null);
        assertNull(outcome.hash());
        assertTrue(outcome.message().contains("flexwall.data"), outcome.message());
    }

    @Test
    void configuredHashIsUsedAndAMalformedOneRefusesEveryLogin() {
        String line = PasswordHash.of("configured".toCharArray()).format();
        assertTrue(ConsoleCredentials.establish(data, "admin", line, null).hash().matches("configured".toCharArray()));

        ConsoleCredentials.Outcome bad = ConsoleCredentials.establish(data, "admin", "md5$abc", null);
        assertNull(bad.hash());
        assertTrue(bad.message().contains("password.hash"), bad.message());
    }

    private static String read(Path p) {
        try {
            return Files.readString(p).strip();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void linkPlantedAtTheTempPathIsReplacedNotWrittenThrough() throws Exception {
        Path victim = Files.writeString(Files.createTempFile("victim", ""), "root's file\n");
        try {
            Files.createSymbolicLink(data.resolve(ConsoleCredentials.HASH_FILE + ".tmp"), victim);

            ConsoleCredentials.establish(data, "admin", "", "s3cret-from-env");

            assertEquals("root's file\n", Files.readString(victim));
            Path hash = data.resolve(ConsoleCredentials.HASH_FILE);
            assertTrue(Files.isRegularFile(hash, java.nio.file.LinkOption.NOFOLLOW_LINKS));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(hash)));
            assertTrue(PasswordHash.parse(Files.readString(hash)).matches("s3cret-from-env".toCharArray()));
        } finally {
            Files.delete(victim);
        }
    }
}
