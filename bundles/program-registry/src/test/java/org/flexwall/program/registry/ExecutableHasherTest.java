package org.flexwall.program.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExecutableHasherTest {
    @TempDir
    Path dir;

    @Test
    void digestsMatchSha256sumAndMd5sumOverSeveralBuffers() throws Exception {
        Path file = dir.resolve("big");
        byte[] bytes = new byte[300_000]; // more than four reads of the 64 KiB buffer, not a multiple of it
        new Random(7).nextBytes(bytes);
        Files.write(file, bytes);

        ExecutableHasher.Digests d = ExecutableHasher.hash(file);

        assertEquals(Fixtures.run("sha256sum", file.toString()).substring(0, 64), d.sha256());
        assertEquals(Fixtures.run("md5sum", file.toString()).substring(0, 32), d.md5());
        assertEquals(bytes.length, d.bytes());
    }

    @Test
    void emptyFileHasTheWellKnownDigests() throws Exception {
        Path file = Files.createFile(dir.resolve("empty"));

        ExecutableHasher.Digests d = ExecutableHasher.hash(file);

        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", d.sha256());
        assertEquals("d41d8cd98f00b204e9800998ecf8427e", d.md5());
    }
}
