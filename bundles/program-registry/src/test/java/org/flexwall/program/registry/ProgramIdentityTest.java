package org.flexwall.program.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import org.flexwall.api.program.RegistryException;
import org.flexwall.api.program.TrustedProgram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What can be trusted (only what the kernel runs as a process image) and as whom (user, systemd unit). */
class ProgramIdentityTest {
    @TempDir
    Path dir;

    final Fixtures.Log log = new Fixtures.Log();

    @Test
    void textFileWithoutInterpreterLineIsRefusedBecauseTheKernelWillNotRunIt() throws Exception {
        Path text = executableFile("hello", "echo hi\n");
        // the kernel itself says so: execve(2) of this file fails with ENOEXEC (Java and execvp would fall back to sh)
        assertTrue(Fixtures.runStatus("python3", "-c", "import os, sys; os.execv(sys.argv[1], [sys.argv[1]])",
                text.toString()).contains("Exec format error"));

        RegistryException e = assertThrows(RegistryException.class, () -> log.open(dir).trust(text, null, true));

        assertTrue(e.getMessage().contains("not a program the kernel can run")
                && e.getMessage().contains("not an ELF executable") && e.getMessage().contains("sh"), e.getMessage());
        assertEquals(List.of(), log.open(dir).programs());
    }

    @Test
    void elfObjectFileIsRefusedAsNoExecutable() throws Exception {
        Path source = Files.writeString(dir.resolve("f.c"), "int f(void) { return 1; }\n");
        Path object = dir.resolve("f.o");
        Fixtures.run("gcc", "-c", "-o", object.toString(), source.toString());
        Files.setPosixFilePermissions(object, PosixFilePermissions.fromString("rwxr-xr-x"));

        RegistryException e = assertThrows(RegistryException.class, () -> log.open(dir).trust(object, null, false));

        assertTrue(e.getMessage().contains("an object file"), e.getMessage());
    }

    @Test
    void staticallyLinkedAndPositionIndependentProgramsAreTrusted() throws Exception {
        Path source = Files.writeString(dir.resolve("m.c"), "int main(void) { return 0; }\n");
        Path pie = dir.resolve("pie");
        Fixtures.run("gcc", "-pie", "-fPIE", "-o", pie.toString(), source.toString());
        Path fixed = dir.resolve("static");
        try {
            Fixtures.run("gcc", "-static", "-o", fixed.toString(), source.toString());
        } catch (java.io.IOException e) {
            assumeTrue(false, "no static libc to link with: " + e.getMessage());
        }
        ProgramTable table = log.open(dir);

        assertEquals("pie", table.trust(pie, null, false).name());
        assertEquals("static", table.trust(fixed, null, false).name());
    }

    @Test
    void userAndUnitAreCheckedStoredAndReadBack() throws Exception {
        Path passwd = Files.writeString(dir.resolve("passwd"), "root:x:0:0::/root:/bin/sh\nwww-data:x:33:33::/:/bin/sh\n");
        Path server = Fixtures.executable(dir, "server", 1);
        ProgramTable table = new ProgramTable(dir, log, log.changes::incrementAndGet, passwd);

        TrustedProgram p = table.trust(server, "web", false, "www-data", "nginx");

        assertEquals("www-data", p.user());
        assertEquals(33, p.uid());
        assertEquals("nginx.service", p.unit());
        assertEquals("as user www-data (uid 33), in unit nginx.service", p.restrictions());
        assertEquals(List.of(p), new ProgramTable(dir, log, () -> { }, passwd).programs(), "persisted");
        assertTrue(assertThrows(RegistryException.class, () -> table.trust(server, "web", false, null, null))
                .getMessage().contains("untrust it first"), "trusting it for anyone needs an untrust first");
        Path other = Fixtures.executable(dir, "other", 2);
        assertEquals(5000, table.trust(other, null, false, "5000", null).uid(), "a numeric uid without a name");
        assertNull(table.trust(Fixtures.executable(dir, "third", 3), null, false).user());
        assertTrue(assertThrows(RegistryException.class, () -> table.trust(Fixtures.executable(dir, "x", 4), null,
                false, "nosuchuser", null)).getMessage().contains("no user 'nosuchuser'"));
        assertTrue(assertThrows(RegistryException.class, () -> table.trust(Fixtures.executable(dir, "y", 5), null,
                false, null, "user.slice")).getMessage().contains("not a systemd service unit"));
    }

    @Test
    void reapprovalKeepsUserAndUnit() throws Exception {
        Path passwd = Files.writeString(dir.resolve("passwd"), "www-data:x:33:33::/:/bin/sh\n");
        Path server = Fixtures.executable(dir, "server", 1);
        ProgramTable table = new ProgramTable(dir, log, () -> { }, passwd);
        table.trust(server, "web", false, "www-data", "nginx.service");
        Files.write(server, "upgrade".getBytes(), java.nio.file.StandardOpenOption.APPEND);

        TrustedProgram renewed = table.reapprove(server);

        assertEquals(33, renewed.uid());
        assertEquals("nginx.service", renewed.unit());
    }

    private Path executableFile(String name, String content) throws Exception {
        Path f = Files.writeString(dir.resolve(name), content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
        return f;
    }
}
