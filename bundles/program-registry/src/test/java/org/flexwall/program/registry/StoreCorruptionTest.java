package org.flexwall.program.registry;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import org.flexwall.api.program.RegistryException;
import org.flexwall.api.program.TrustedProgram;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jakarta.json.Json;
import jakarta.json.JsonObject;

/** A damaged store is reported, kept aside, and trusts nothing: never fail open (DESIGN.md principle 6). */
class StoreCorruptionTest {
    @TempDir(factory = MemoryTempDir.class)
    Path dir;

    final Fixtures.Log log = new Fixtures.Log();
    Path store;
    Path previous;
    Path candidate;
    byte[] good;
    List<TrustedProgram> goodPrograms;
    List<TrustedProgram> previousPrograms;

    /** A store of two programs, and a previous generation of one. */
    @BeforeEach
    void twoGenerations() throws Exception {
        ProgramTable table = log.open(dir);
        table.trust(Fixtures.executable(dir, "sshd", 1), "sshd", false);
        previousPrograms = table.programs();
        table.trust(Fixtures.executable(dir, "nginx", 2), "nginx", false);
        goodPrograms = table.programs();
        candidate = Fixtures.executable(dir, "candidate", 3);
        store = dir.resolve("programs.json");
        previous = dir.resolve("programs.json.prev");
        good = Files.readAllBytes(store);
        log.errors.clear();
    }

    @Test
    void storeIsPlainJsonWhoseChecksumCoversTheExactBytesOfItsStoreValue() throws Exception {
        String text = new String(good, UTF_8);
        JsonObject file = Json.createReader(new StringReader(text)).readObject();
        int start = text.indexOf("\"store\":") + "\"store\":".length();
        String storeBytes = text.substring(start, text.length() - 2);

        assertEquals(file.getString("sha256"), ExecutableHasher.sha256(storeBytes.getBytes(UTF_8)));
        JsonObject body = file.getJsonObject("store");
        assertEquals("flexwall-programs", body.getString("format"));
        assertEquals(StoreFormat.VERSION, body.getInt("version"));
        assertEquals(2, body.getInt("generation"));
        assertEquals(2, body.getJsonArray("programs").size());
        assertEquals(1, StoreFormat.decode(Files.readAllBytes(previous)).generation());
    }

    @Test
    void everyTruncationIsReportedKeptAsideAndTrustsNothing() throws Exception {
        for (int length = 0; length < good.length; length++) {
            assertRefusedAndKeptAside(Arrays.copyOf(good, length), "truncated to " + length + " bytes");
        }
    }

    @Test
    void everySingleBitFlipIsReportedKeptAsideAndTrustsNothing() throws Exception {
        for (int bit = 0; bit < good.length * 8; bit++) {
            byte[] flipped = good.clone();
            flipped[bit / 8] ^= (byte) (1 << (bit % 8));
            assertRefusedAndKeptAside(flipped, "bit " + bit + " flipped");
        }
    }

    @Test
    void restoringThePreviousGenerationAsToldMakesTheRegistryUsableAgain() throws Exception {
        Files.write(store, Arrays.copyOf(good, good.length / 2));
        ProgramTable table = log.open(dir);
        String problem = table.problem().orElseThrow();
        assertTrue(problem.contains("`cp " + previous + " " + store + "`"), problem);

        Files.copy(previous, store); // what the operator is told to run
        assertTrue(table.reload());

        assertEquals(previousPrograms, table.programs());
        assertTrue(table.bySha256(previousPrograms.get(0).sha256()).isPresent());
        table.trust(candidate, "candidate", false); // and it is writable again
        assertEquals(2, log.open(dir).programs().size());
    }

    @Test
    void resetStartsAnEmptyListAndLeavesTheDamagedFileAside() throws Exception {
        Files.write(store, "garbage".getBytes());
        ProgramTable table = log.open(dir);
        assertFalse(table.usable());
        int changes = log.changes.get();

        table.reset();

        assertTrue(table.usable());
        assertEquals(List.of(), table.programs());
        assertEquals(1, asideFiles().size());
        assertEquals(List.of(), log.open(dir).programs());
        assertEquals(changes + 1, log.changes.get());
        assertTrue(log.warnings.stream().anyMatch(w -> w.contains("reset")), log.warnings.toString());
        assertTrue(table.generation() > 1, "the generation count continues after the previous one");
    }

    @Test
    void resetIsRefusedWhileTheStoreIsUsable() {
        ProgramTable table = log.open(dir);

        assertThrows(RegistryException.class, table::reset);
        assertEquals(goodPrograms, table.programs());
    }

    @Test
    void damageIsStillReportedAtTheNextStartUntilFixed() throws Exception {
        Files.delete(previous);
        Files.write(store, Arrays.copyOf(good, 10));
        assertFalse(log.open(dir).usable());

        ProgramTable next = log.open(dir);

        assertFalse(next.usable(), "a store moved aside as damaged is not a fresh installation");
        String problem = next.problem().orElseThrow();
        assertTrue(problem.contains("missing") && problem.contains(asideFiles().get(0).toString()), problem);
    }

    @Test
    void missingStoreWithAPreviousGenerationIsNotTakenForAFreshInstallation() throws Exception {
        Files.delete(store);

        ProgramTable table = log.open(dir);

        assertFalse(table.usable());
        assertEquals(List.of(), table.programs());
        assertTrue(table.problem().orElseThrow().contains("cp " + previous), table.problem().get());
    }

    @Test
    void damagedPreviousGenerationIsReportedAsUnusableToo() throws Exception {
        Files.write(previous, Arrays.copyOf(Files.readAllBytes(previous), 40));
        Files.write(store, Arrays.copyOf(good, 40));

        String problem = log.open(dir).problem().orElseThrow();

        assertTrue(problem.contains("cannot be used either") && problem.contains("from a backup"), problem);
    }

    @Test
    void leftoversOfAnInterruptedCommitAreRemovedAndIgnored() throws Exception {
        Files.write(dir.resolve("programs.json.tmp"), Arrays.copyOf(good, 100));
        Files.write(dir.resolve("programs.json.prev.tmp"), new byte[0]);

        ProgramTable table = log.open(dir);

        assertEquals(goodPrograms, table.programs());
        assertFalse(Files.exists(dir.resolve("programs.json.tmp")));
        assertFalse(Files.exists(dir.resolve("programs.json.prev.tmp")));
    }

    @Test
    void storeOfANewerVersionIsRefusedEvenWithAValidChecksum() throws Exception {
        String text = new String(good, UTF_8);
        int start = text.indexOf("\"store\":") + "\"store\":".length();
        String body = text.substring(start, text.length() - 2).replace("\"version\": 2,", "\"version\": 3,");
        Files.writeString(store, "{\"sha256\":\"" + ExecutableHasher.sha256(body.getBytes(UTF_8)) + "\",\"store\":"
                + body + "}\n");

        String problem = log.open(dir).problem().orElseThrow();

        assertTrue(problem.contains("newer flexwall"), problem);
    }

    private void assertRefusedAndKeptAside(byte[] bad, String what) throws Exception {
        Files.write(store, bad);
        log.errors.clear();

        ProgramTable table = log.open(dir);

        assertFalse(table.usable(), what);
        assertEquals(List.of(), table.programs(), what);
        for (TrustedProgram p : goodPrograms) {
            assertTrue(table.bySha256(p.sha256()).isEmpty(), what);
        }
        String problem = table.problem().orElseThrow();
        assertTrue(problem.startsWith("The trusted-program store " + store + " is unusable: "), what + ": " + problem);
        assertTrue(problem.contains("trusts no program") && problem.contains("cp " + previous + " " + store),
                what + ": " + problem);
        assertEquals(List.of(problem), log.errors, what);
        RegistryException refused = assertThrows(RegistryException.class, () -> table.trust(candidate, "c", false));
        assertEquals(problem, refused.getMessage(), what);
        assertFalse(Files.exists(store), what);
        List<Path> aside = asideFiles();
        assertEquals(1, aside.size(), what);
        assertTrue(problem.contains(aside.get(0).toString()), what);
        assertArrayEquals(bad, Files.readAllBytes(aside.get(0)), what + ": kept exactly as found");
        Files.delete(aside.get(0));
    }

    private List<Path> asideFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().startsWith("programs.json.corrupt-")).toList();
        }
    }
}
