package org.flexwall.program.registry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** Real executables and a recording operator log for the tests. */
final class Fixtures {
    static final Path TRUE = Path.of("/usr/bin/true");

    private Fixtures() {}

    /** A real ELF executable (a copy of /usr/bin/true) whose bytes, and so whose SHA-256, differ per {@code variant}. */
    static Path executable(Path dir, String name, int variant) throws IOException {
        Path file = dir.resolve(name);
        Files.copy(TRUE, file);
        Files.write(file, ("variant " + variant).getBytes(), StandardOpenOption.APPEND); // trailing bytes: still runs
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    /** Output of a real command-line tool, such as sha256sum, for comparison. */
    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }

    /** Output of a command that may fail, or why it could not start (exec's own error). */
    static String runStatus(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            p.waitFor();
            return out;
        } catch (IOException e) {
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return e.toString();
        }
    }

    /** Collects what the table tells the operator. */
    static final class Log implements ProgramTable.Events {
        final List<String> infos = new CopyOnWriteArrayList<>();
        final List<String> warnings = new CopyOnWriteArrayList<>();
        final List<String> errors = new CopyOnWriteArrayList<>();
        final AtomicInteger changes = new AtomicInteger();

        @Override
        public void info(String message) {
            infos.add(message);
        }

        @Override
        public void warn(String message) {
            warnings.add(message);
        }

        @Override
        public void error(String message) {
            errors.add(message);
        }

        ProgramTable open(Path dataDirectory) {
            return new ProgramTable(dataDirectory, this, changes::incrementAndGet);
        }
    }
}
