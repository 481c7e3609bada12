package org.flexwall.program.registry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;

import org.flexwall.api.program.RegistryException;

/** Looks at a file an administrator wants to trust (S420) and says why it cannot be, or what it is. */
final class ProgramInspector {
    private static final Set<PosixFilePermission> EXECUTE = Set.of(PosixFilePermission.OWNER_EXECUTE,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_EXECUTE);

    /**
     * What was found at a path.
     *
     * @param path        the path as given (what the operator recognises)
     * @param realPath    the file behind every symbolic link: the bytes that were hashed
     * @param interpreter the interpreter's name when the file is one the administrator insisted on, else empty
     */
    record Inspection(Path path, Path realPath, ExecutableHasher.Digests digests, Optional<String> interpreter) {}

    private ProgramInspector() {}

    /** Resolves, checks and hashes the executable at {@code path}; refuses interpreters unless {@code insist}. */
    static Inspection inspect(Path path, boolean insist) throws RegistryException {
        if (!path.isAbsolute()) {
            throw new RegistryException("give the full path of the program, not '" + path + "'");
        }
        Path real;
        PosixFileAttributes attributes;
        try {
            real = path.toRealPath();
            attributes = Files.readAttributes(real, PosixFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new RegistryException(path + " does not exist (or a link on the way to it is broken)");
        } catch (IOException | UnsupportedOperationException e) {
            throw new RegistryException("cannot read " + path + ": " + e.getMessage(), e);
        }
        String via = real.equals(path) ? "" : " (" + path + " leads to " + real + ")";
        if (!attributes.isRegularFile()) {
            throw new RegistryException(path + " is not a regular file" + via + ": only a program file can be trusted");
        }
        if (attributes.permissions().stream().noneMatch(EXECUTE::contains)) {
            throw new RegistryException(path + " is not executable" + via + " (mode "
                    + PosixFilePermissions.toString(attributes.permissions())
                    + "): only a program can be trusted; if it is one, make it executable (chmod +x) and try again");
        }
        Optional<String> shebang = shebang(real);
        if (shebang.isPresent()) {
            // the kernel runs the interpreter, so /proc/PID/exe never shows the script: its hash would never match
            throw new RegistryException(path + " is a script" + via + " run by '" + shebang.get() + "': the process "
                    + "flexwall sees is that interpreter, never the script, so trusting the script would have no effect. "
                    + "Run the service from a compiled program, or trust the interpreter itself (insist) if you accept "
                    + "that every script it runs is trusted too");
        }
        Optional<String> interpreter = Interpreters.match(real).or(() -> Interpreters.match(path));
        if (interpreter.isPresent() && !insist) {
            throw new RegistryException(path + " is the general interpreter '" + interpreter.get() + "'" + via
                    + ": trusting it would trust every script it runs, so any user who can start it could open "
                    + "inbound ports. Trust the program itself instead, or insist if you really mean the interpreter");
        }
        try {
            return new Inspection(path, real, ExecutableHasher.hash(real), interpreter);
        } catch (IOException e) {
            throw new RegistryException("cannot read " + real + " to hash it: " + e.getMessage(), e);
        }
    }

    /** The interpreter line of a script ("#!/usr/bin/python3"), or empty for anything else. */
    private static Optional<String> shebang(Path file) throws RegistryException {
        byte[] head = new byte[256];
        int n = 0;
        try (InputStream in = Files.newInputStream(file)) {
            for (int r; n < head.length && (r = in.read(head, n, head.length - n)) > 0;) {
                n += r;
            }
        } catch (IOException e) {
            throw new RegistryException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (n < 2 || head[0] != '#' || head[1] != '!') {
            return Optional.empty();
        }
        String line = new String(head, 2, n - 2, StandardCharsets.UTF_8).lines().findFirst().orElse("").strip();
        return Optional.of(line.replaceAll("\\p{Cntrl}", "?"));
    }
}
