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
        String notElf = notAnElfProgram(real);
        if (notElf != null) {
            throw new RegistryException(path + " is not a program the kernel can run" + via + ": " + notElf
                    + ". exec(2) refuses such a file (a shell would run it with sh, and the process would be sh), so "
                    + "no process ever runs it as its image and trusting it could never open a port. Trust the "
                    + "compiled program (an ELF executable) that the service really runs");
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

    /**
     * Why {@code file} is not an ELF executable the kernel runs as a process image (ELF magic, and e_type ET_EXEC or
     * ET_DYN: dynamically or statically linked, position-independent or not), or null when it is one.
     */
    static String notAnElfProgram(Path file) throws RegistryException {
        byte[] head = head(file, 18);
        if (head.length < 18 || head[0] != 0x7F || head[1] != 'E' || head[2] != 'L' || head[3] != 'F') {
            return "it is not an ELF executable (it does not begin with the ELF magic bytes)";
        }
        boolean little = head[5] == 1;
        if (!little && head[5] != 2) {
            return "its ELF header names no byte order";
        }
        int type = little ? (head[16] & 0xFF) | (head[17] & 0xFF) << 8 : (head[16] & 0xFF) << 8 | (head[17] & 0xFF);
        if (type != ET_EXEC && type != ET_DYN) {
            return "it is an ELF file of type " + type + " (" + (type == 1 ? "an object file" : type == 4
                    ? "a core dump" : "not an executable") + "), not an executable";
        }
        return null;
    }

    private static final int ET_EXEC = 2;
    private static final int ET_DYN = 3;

    /** The interpreter line of a script ("#!/usr/bin/python3"), or empty for anything else. */
    private static Optional<String> shebang(Path file) throws RegistryException {
        byte[] head = head(file, 256);
        if (head.length < 2 || head[0] != '#' || head[1] != '!') {
            return Optional.empty();
        }
        String line = new String(head, 2, head.length - 2, StandardCharsets.UTF_8).lines().findFirst().orElse("").strip();
        return Optional.of(line.replaceAll("\\p{Cntrl}", "?"));
    }

    /** At most the first {@code max} bytes of {@code file}. */
    private static byte[] head(Path file, int max) throws RegistryException {
        byte[] head = new byte[max];
        int n = 0;
        try (InputStream in = Files.newInputStream(file)) {
            for (int r; n < head.length && (r = in.read(head, n, head.length - n)) > 0;) {
                n += r;
            }
        } catch (IOException e) {
            throw new RegistryException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return java.util.Arrays.copyOf(head, n);
    }
}
