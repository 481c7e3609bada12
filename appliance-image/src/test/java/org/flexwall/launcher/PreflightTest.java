package org.flexwall.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreflightTest {
    @TempDir
    Path work;

    @Test
    void theDefaultDataDirectoryIsCreatedForTheRunnerAlone() throws Exception {
        Path data = work.resolve("image/data");

        Preflight.dataDirectory(data, true, "--data");

        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data)));
    }

    @Test
    void aDataDirectoryOthersCanReachStopsTheLaunchNamingItAndTheFix() throws Exception {
        Path data = Files.createDirectory(work.resolve("data"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-x---")));
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-x---"));

        LaunchException e = assertThrows(LaunchException.class, () -> Preflight.dataDirectory(data, false, "--data"));

        assertTrue(e.getMessage().contains(data.toString()) && e.getMessage().contains("chmod 700 " + data)
                && e.getMessage().contains("rwxr-x---"), e.getMessage());
    }

    @Test
    void aPrivateDataDirectoryIsAccepted() throws Exception {
        Path data = Files.createDirectory(work.resolve("data"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));

        Preflight.dataDirectory(data, false, "--data");
    }
}
