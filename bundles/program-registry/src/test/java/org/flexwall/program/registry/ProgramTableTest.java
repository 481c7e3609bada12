package org.flexwall.program.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.flexwall.api.program.RegistryException;
import org.flexwall.api.program.TrustedProgram;
import org.flexwall.testing.SystemTests;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProgramTableTest {
    @TempDir
    Path dir;

    final Fixtures.Log log = new Fixtures.Log();

    @Test
    void trustedProgramIsListedAndFoundByTheSha256OfItsFile() throws Exception {
        Path server = Fixtures.executable(dir, "server", 1);
        ProgramTable table = log.open(dir);

        TrustedProgram p = table.trust(server, "my server", false);

        assertEquals(List.of(p), table.programs());
        assertEquals(Optional.of(p), table.bySha256(p.sha256()));
        assertEquals(Fixtures.run("sha256sum", server.toString()).substring(0, 64), p.sha256());
        assertEquals(Fixtures.run("md5sum", server.toString()).substring(0, 32), p.md5());
        assertEquals("my server", p.name());
        assertEquals(server, p.path());
        assertFalse(p.interpreter());
        assertEquals(1, table.generation());
        assertEquals(1, log.changes.get());
    }

    @Test
    void aMatchingMd5AloneFindsNothing() throws Exception {
        TrustedProgram p = log.open(dir).trust(Fixtures.executable(dir, "server", 1), null, false);

        assertTrue(log.open(dir).bySha256(p.md5()).isEmpty());
        assertEquals("server", p.name()); // no name given: the file name
    }

    @Test
    void trustingTheSamePathAndBytesAgainChangesNothing() throws Exception {
        Path server = Fixtures.executable(dir, "server", 1);
        ProgramTable table = log.open(dir);
        TrustedProgram first = table.trust(server, "a", false);

        assertEquals(first, table.trust(server, "b", false));
        assertEquals(1, table.programs().size());
        assertEquals(1, table.generation());
        assertEquals(1, log.changes.get());
    }

    @Test
    void trustingATrustedPathWithOtherBytesAsksForReapproval() throws Exception {
        Path server = Fixtures.executable(dir, "server", 1);
        ProgramTable table = log.open(dir);
        TrustedProgram old = table.trust(server, "server", false);
        Files.write(server, new byte[] { 1 }, StandardOpenOption.APPEND);

        RegistryException e = assertThrows(RegistryException.class, () -> table.trust(server, "server", false));

        assertTrue(e.getMessage().contains("reapprove"), e.getMessage());
        assertEquals(List.of(old), table.programs());
    }

    @Test
    void untrustForgetsEveryEntryAtThePathAndNothingElse() throws Exception {
        ProgramTable table = log.open(dir);
        TrustedProgram a = table.trust(Fixtures.executable(dir, "a", 1), "a", false);
        TrustedProgram b = table.trust(Fixtures.executable(dir, "b", 2), "b", false);

        assertEquals(List.of(a), table.untrust(dir.resolve("x/../a")));

        assertEquals(List.of(b), table.programs());
        assertTrue(table.bySha256(a.sha256()).isEmpty());
        assertEquals(List.of(b), log.open(dir).programs());
    }

    @Test
    void untrustOfAPathNeverTrustedWritesNothing() throws Exception {
        ProgramTable table = log.open(dir);
        table.trust(Fixtures.executable(dir, "a", 1), "a", false);

        assertEquals(List.of(), table.untrust(dir.resolve("other")));
        assertEquals(1, table.generation());
    }

    @Test
    void reapproveAfterAnUpgradeTrustsTheNewBytesOnlyAndKeepsNameAndPlace() throws Exception {
        ProgramTable table = log.open(dir);
        Path server = Fixtures.executable(dir, "server", 1);
        TrustedProgram old = table.trust(server, "web", false);
        TrustedProgram other = table.trust(Fixtures.executable(dir, "other", 2), "other", false);
        Files.write(server, "upgrade".getBytes(), StandardOpenOption.APPEND);
        String upgraded = ExecutableHasher.hash(server).sha256();
        assertTrue(table.bySha256(upgraded).isEmpty(), "new bytes are not trusted before the reapproval");

        TrustedProgram renewed = table.reapprove(server);

        assertEquals(upgraded, renewed.sha256());
        assertEquals("web", renewed.name());
        assertEquals(List.of(renewed, other), table.programs());
        assertTrue(table.bySha256(old.sha256()).isEmpty(), "the old bytes are no longer trusted");
        assertEquals(Optional.of(renewed), log.open(dir).bySha256(upgraded));
    }

    @Test
    void reapproveOfAPathThatIsNotTrustedIsRefused() throws Exception {
        ProgramTable table = log.open(dir);
        Path server = Fixtures.executable(dir, "server", 1);

        RegistryException e = assertThrows(RegistryException.class, () -> table.reapprove(server));

        assertTrue(e.getMessage().contains("not a trusted program"), e.getMessage());
    }

    @Test
    void interpreterIsRefusedWithTheReasonUnlessTheAdministratorInsists() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        SystemTests.require(Files.isExecutable(python), "needs python3 (./test.sh installs it)");
        ProgramTable table = log.open(dir);

        RegistryException e = assertThrows(RegistryException.class, () -> table.trust(python, "python", false));
        assertTrue(e.getMessage().contains("interpreter") && e.getMessage().contains("every script"), e.getMessage());
        assertEquals(List.of(), table.programs());

        TrustedProgram p = table.trust(python, "python", true);
        assertTrue(p.interpreter());
        assertEquals(python, p.path());
        assertEquals(ExecutableHasher.hash(python.toRealPath()).sha256(), p.sha256());
        assertEquals(1, log.warnings.size(), log.warnings.toString());
        assertTrue(log.warnings.get(0).contains("every script"), log.warnings.get(0));
    }

    @Test
    void interpreterIsRecognisedByTheNameOfTheFileBehindALink() throws Exception {
        Path perl = Path.of("/usr/bin/perl");
        SystemTests.require(Files.isExecutable(perl), "needs perl");
        Path innocent = Files.createSymbolicLink(dir.resolve("my-daemon"), perl);

        RegistryException e = assertThrows(RegistryException.class, () -> log.open(dir).trust(innocent, "d", false));

        assertTrue(e.getMessage().contains("'perl'") && e.getMessage().contains(perl.toRealPath().toString()),
                e.getMessage());
    }

    @Test
    void interpreterWithAVersionSuffixIsRefused() throws Exception {
        Path copy = Fixtures.executable(dir, "python3.11", 1);

        assertThrows(RegistryException.class, () -> log.open(dir).trust(copy, "p", false));
    }

    @Test
    void linkIsStoredAsGivenWhileTheFileBehindItIsHashedAndRecorded() throws Exception {
        Path real = Fixtures.executable(dir, "server-1.2", 1);
        Path link = Files.createSymbolicLink(dir.resolve("server"), real);

        TrustedProgram p = log.open(dir).trust(link, "server", false);

        assertEquals(link, p.path());
        assertEquals(ExecutableHasher.hash(real).sha256(), p.sha256());
        assertTrue(Files.readString(dir.resolve("programs.json")).contains("\"realPath\": \"" + real + "\""));
    }

    @Test
    void fileWithoutExecutePermissionIsRefused() throws Exception {
        Path file = Fixtures.executable(dir, "server", 1);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));

        RegistryException e = assertThrows(RegistryException.class, () -> log.open(dir).trust(file, "s", false));

        assertTrue(e.getMessage().contains("not executable") && e.getMessage().contains("chmod +x"), e.getMessage());
    }

    @Test
    void directoryMissingFileAndRelativePathAreRefused() throws Exception {
        ProgramTable table = log.open(dir);
        Path sub = Files.createDirectory(dir.resolve("sub"));

        assertTrue(assertThrows(RegistryException.class, () -> table.trust(sub, "d", true)).getMessage()
                .contains("not a regular file"));
        assertTrue(assertThrows(RegistryException.class, () -> table.trust(dir.resolve("nope"), "n", true))
                .getMessage().contains("does not exist"));
        assertTrue(assertThrows(RegistryException.class, () -> table.trust(Path.of("bin/true"), "r", true))
                .getMessage().contains("full path"));
        assertEquals(List.of(), table.programs());
    }

    @Test
    void scriptIsRefusedEvenWhenInsistedBecauseItsProcessIsTheInterpreter() throws Exception {
        Path script = dir.resolve("serve.py");
        Files.writeString(script, "#!/usr/bin/python3\nprint('hi')\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));

        RegistryException e = assertThrows(RegistryException.class, () -> log.open(dir).trust(script, "s", true));

        assertTrue(e.getMessage().contains("is a script") && e.getMessage().contains("/usr/bin/python3"),
                e.getMessage());
    }

    @Test
    void controlCharactersInANameAreRefused() throws Exception {
        Path server = Fixtures.executable(dir, "server", 1);

        assertThrows(RegistryException.class, () -> log.open(dir).trust(server, "evil\nname", false));
    }

    @Test
    void trustedProgramsSurviveARestartExactly() throws Exception {
        ProgramTable table = log.open(dir);
        table.trust(Fixtures.executable(dir, "a", 1), "a", false);
        Path b = Fixtures.executable(dir, "b", 2);
        table.trust(b, "b", false);
        table.trust(Fixtures.executable(dir, "c", 3), "c", false);
        table.untrust(dir.resolve("a"));
        Files.write(b, new byte[] { 9 }, StandardOpenOption.APPEND);
        table.reapprove(b);

        ProgramTable restarted = log.open(dir);

        assertTrue(restarted.usable());
        assertEquals(table.programs(), restarted.programs());
        assertEquals(5, restarted.generation());
        table.programs().forEach(p -> assertEquals(Optional.of(p), restarted.bySha256(p.sha256())));
    }

    @Test
    void freshDataDirectoryIsAnEmptyUsableRegistry() {
        ProgramTable table = log.open(dir);

        assertTrue(table.usable());
        assertEquals(Optional.empty(), table.problem());
        assertEquals(List.of(), table.programs());
        assertEquals(List.of(), log.errors);
    }

    @Test
    void missingDataDirectoryIsReportedAndNothingCanBeTrusted() throws Exception {
        Path missing = dir.resolve("no/such/dir");
        ProgramTable table = log.open(missing);

        assertFalse(table.usable());
        String problem = table.problem().orElseThrow();
        assertTrue(problem.contains(missing.toString()) && problem.contains("mkdir -p"), problem);
        assertEquals(List.of(problem), log.errors);
        RegistryException e = assertThrows(RegistryException.class,
                () -> table.trust(Fixtures.executable(dir, "a", 1), "a", false));
        assertEquals(problem, e.getMessage());
    }

    @Test
    void dataDirectoryThatIsAFileIsReported() throws Exception {
        Path file = Files.createFile(dir.resolve("file"));

        ProgramTable table = log.open(file);

        assertTrue(table.problem().orElseThrow().contains("is not a directory"));
    }

    @Test
    void unsetDataDirectoryIsReported() {
        ProgramTable table = log.open(null);

        assertEquals(Optional.of(ProgramTable.NO_DATA_DIRECTORY), table.problem());
        assertEquals(List.of(), table.programs());
    }

    @Test
    void failedWriteChangesNothingInMemoryOrOnDisk() throws Exception {
        ProgramTable table = log.open(dir);
        TrustedProgram a = table.trust(Fixtures.executable(dir, "a", 1), "a", false);
        Path blocker = Files.createDirectory(dir.resolve("programs.json.tmp")); // the temporary file cannot be written
        Files.createFile(blocker.resolve("keep"));

        RegistryException e = assertThrows(RegistryException.class,
                () -> table.trust(Fixtures.executable(dir, "b", 2), "b", false));

        assertTrue(e.getMessage().startsWith("nothing changed") && e.getMessage().contains("programs.json"),
                e.getMessage());
        assertEquals(List.of(a), table.programs());
        assertEquals(List.of(a), log.open(dir).programs());
        assertEquals(1, log.changes.get());
    }

    @Test
    void readOnlyDataDirectoryKeepsTheListButRefusesChangesClearly() throws Exception {
        ProgramTable writer = log.open(dir);
        TrustedProgram a = writer.trust(Fixtures.executable(dir, "a", 1), "a", false);
        Path b = Fixtures.executable(dir, "b", 2);
        // root ignores permissions, but not the immutable attribute (ext4, as on the appliance)
        assumeTrue(chattr("+i", dir), "needs chattr +i (root on ext4)");
        try {
            ProgramTable table = log.open(dir);

            assertTrue(table.usable());
            assertEquals(List.of(a), table.programs());
            assertTrue(log.errors.stream().anyMatch(m -> m.contains("not writable")), log.errors.toString());
            RegistryException e = assertThrows(RegistryException.class, () -> table.trust(b, "b", false));
            assertTrue(e.getMessage().contains("not writable") && e.getMessage().contains(dir.toString()),
                    e.getMessage());
        } finally {
            chattr("-i", dir);
        }
    }

    @Test
    void concurrentTrustsAreSerializedAndAllKept() throws Exception {
        ProgramTable table = log.open(dir);
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            files.add(Fixtures.executable(dir, "p" + i, i));
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<TrustedProgram>> done = new ArrayList<>();
            for (Path f : files) {
                done.add(pool.submit(() -> table.trust(f, f.getFileName().toString(), false)));
            }
            for (Future<TrustedProgram> f : done) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }

        assertEquals(16, table.programs().size());
        assertEquals(16, table.generation());
        assertEquals(16, log.open(dir).programs().size());
    }

    private static boolean chattr(String flag, Path path) throws InterruptedException {
        try {
            Fixtures.run("chattr", flag, path.toString());
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
