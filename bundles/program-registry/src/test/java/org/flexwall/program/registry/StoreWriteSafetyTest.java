package org.flexwall.program.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store's durable writes against a link planted at their temp paths, and the modes of what they leave. */
class StoreWriteSafetyTest {
    @TempDir
    Path work;

    @Test
    void linksPlantedAtTheTempPathsAreReplacedNotWrittenThrough() throws Exception {
        Path data = Files.createDirectory(work.resolve("data"));
        Path victim = Files.writeString(work.resolve("victim"), "root's file\n");
        Path victimPrev = Files.writeString(work.resolve("victim-prev"), "another file of root\n");
        ProgramStore store = new ProgramStore(data);
        store.open();
        store.commit(List.of());
        Files.createSymbolicLink(data.resolve(ProgramStore.FILE_NAME + ".tmp"), victim);
        Files.createSymbolicLink(data.resolve(ProgramStore.FILE_NAME + ".prev.tmp"), victimPrev);

        store.commit(List.of());

        assertEquals("root's file\n", Files.readString(victim));
        assertEquals("another file of root\n", Files.readString(victimPrev));
        for (Path written : List.of(store.file(), store.previous())) {
            assertTrue(Files.isRegularFile(written, LinkOption.NOFOLLOW_LINKS), written + " is a file of its own");
            assertEquals("rw-------", PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(written, LinkOption.NOFOLLOW_LINKS)), written.toString());
        }
        assertEquals(2, store.generation());
        assertFalse(Files.exists(data.resolve(ProgramStore.FILE_NAME + ".tmp"), LinkOption.NOFOLLOW_LINKS));
    }
}
