package org.flexwall.program.registry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.extension.AnnotatedElementContext;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDirFactory;

/**
 * Temporary directories on tmpfs (/dev/shm) where there is one: the corruption tests open the store thousands of
 * times, and each damaged file moved aside costs a directory fsync, which tmpfs answers at once.
 */
final class MemoryTempDir implements TempDirFactory {
    @Override
    public Path createTempDirectory(AnnotatedElementContext element, ExtensionContext extension) throws IOException {
        Path shm = Path.of("/dev/shm");
        return Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "flexwall-registry-")
                : Files.createTempDirectory("flexwall-registry-");
    }
}
