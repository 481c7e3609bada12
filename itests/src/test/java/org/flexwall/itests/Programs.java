package org.flexwall.itests;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** The small programs system tests run on either side of the wire, taken from this module's test resources. */
final class Programs {
    private Programs() {}

    /** The test resource {@code name} (relative to this package) as a file in {@code work}. */
    static Path resource(Path work, String name) throws IOException {
        Path target = work.resolve(Path.of(name).getFileName());
        if (!Files.exists(target)) {
            try (InputStream in = Programs.class.getResourceAsStream(name)) {
                if (in == null) {
                    throw new IOException("no test resource " + name);
                }
                Files.copy(in, target);
            }
        }
        return target;
    }

    /** The C test resource {@code source} compiled to {@code binary}. */
    static Path compile(Path work, String source, Path binary) throws IOException {
        OutsideNetwork.here("gcc", "-O2", "-Wall", "-o", binary.toString(), resource(work, source).toString()).check();
        return binary;
    }

    /** A copy of {@code program} with one more byte: it runs the same, but it is not the program that was trusted. */
    static Path otherBytes(Path program, Path copy) throws IOException {
        Files.copy(program, copy);
        Files.write(copy, new byte[] { 0 }, StandardOpenOption.APPEND);
        return copy;
    }
}
