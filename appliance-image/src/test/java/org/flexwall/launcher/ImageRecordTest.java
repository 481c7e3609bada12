package org.flexwall.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageRecordTest {
    @TempDir
    Path data;

    @Test
    void aJarIsChangedWhenItsBytesDifferFromTheRecordedOnesWhateverItsFileTime() throws Exception {
        Path jar = Files.writeString(data.resolve("a.jar"), "first");
        String location = jar.toUri().toString();
        ImageRecord first = ImageRecord.load(data);
        first.put(location, ImageRecord.digest(jar));
        first.save();

        ImageRecord same = ImageRecord.load(data);
        assertFalse(same.changed(location, ImageRecord.digest(jar), true), "a newer file time with the same bytes");
        Files.writeString(jar, "second");
        assertTrue(same.changed(location, ImageRecord.digest(jar), false), "other bytes with an older file time");
    }

    @Test
    void aLocationNeverRecordedFallsBackToTheFileTime() throws Exception {
        ImageRecord none = ImageRecord.load(data);
        assertTrue(none.changed("file:/x.jar", "00", true));
        assertFalse(none.changed("file:/x.jar", "00", false));
    }

    @Test
    void theRecordKeepsOnlyTheLocationsOfThisStart() throws Exception {
        ImageRecord first = ImageRecord.load(data);
        first.put("file:/gone.jar", "a".repeat(64));
        first.save();
        ImageRecord second = ImageRecord.load(data);
        second.put("file:/kept.jar", "b".repeat(64));
        second.save();
        assertEquals("b".repeat(64) + " file:/kept.jar\n", Files.readString(data.resolve(ImageRecord.FILE)));
    }
}
