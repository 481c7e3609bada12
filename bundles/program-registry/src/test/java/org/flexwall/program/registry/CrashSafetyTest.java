package org.flexwall.program.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.awaitility.core.ConditionTimeoutException;
import org.flexwall.api.program.TrustedProgram;
import org.flexwall.testing.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kill -9 in the middle of writes. A child JVM ({@link CrashWriter}) trusts, untrusts and reapproves in a loop and
 * reports each commit after it returned; it is killed with SIGKILL at a random moment. After every kill the store
 * must verify (or be absent if nothing was ever committed) and hold exactly the last reported state, or the state of
 * the one change that was in flight. The next child starts from what the previous one left, like a reboot.
 *
 * <p>{@code -Dflexwall.kills=1000} for the full run (default 100); {@code -Dflexwall.seed=N} repeats a run.
 * SIGKILL keeps the page cache, so this proves atomicity (rename, never a partial file), not durability after
 * power loss, which rests on the fsyncs.
 */
class CrashSafetyTest {
    private static final Pattern LINE = Pattern.compile("(READY|C) (\\d+) ([a-z0-9,]*) \\.");
    private static final long MAX_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    @TempDir
    Path dir; // on the real file system (ext4 here), so the fsyncs and renames are the appliance's

    /** A committed state as reported by the writer or verified on disk. */
    private record State(long generation, String names) {}

    @Test
    void storeSurvivesSigkillAtRandomMomentsWithEveryReportedCommit() throws Exception {
        int kills = Integer.getInteger("flexwall.kills", 100);
        long seed = Long.getLong("flexwall.seed", System.nanoTime());
        Random random = new Random(seed);
        Path data = Files.createDirectory(dir.resolve("data"));
        Path programs = Files.createDirectory(dir.resolve("programs"));
        for (int i = 0; i < CrashWorkload.PROGRAMS; i++) {
            Fixtures.executable(programs, CrashWorkload.name(i), i);
        }
        Path stdout = dir.resolve("writer-stdout.log"); // a file, not a pipe: nothing written before the kill is lost
        Path stderr = dir.resolve("writer-stderr.log");
        State known = new State(0, "");
        long started = System.nanoTime();
        int commits = 0;
        int inFlightFound = 0;
        int leftovers = 0;
        int noCommit = 0;

        for (int kill = 1; kill <= kills; kill++) {
            String context = "kill " + kill + " of " + kills + " (seed " + seed + ")";
            Process child = writer(data, programs, stdout, stderr);
            String ready = awaitFirstLine(child, stdout, context);
            assertEquals(known, parse(ready, "READY", context), context + ": the writer loaded another state");
            LockSupport.parkNanos((long) (random.nextDouble() * MAX_DELAY_NANOS));
            child.destroyForcibly(); // SIGKILL on Linux
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), context);

            State reported = known;
            List<String> lines = completeLines(stdout);
            for (String line : lines.subList(1, lines.size())) {
                if (line.startsWith("E ")) {
                    fail(context + ": the writer failed: " + line);
                }
                reported = parse(line, "C", context);
                commits++;
            }
            noCommit += reported == known ? 1 : 0;
            leftovers += Files.exists(data.resolve("programs.json.tmp")) ? 1 : 0;

            known = verify(data, reported, programs, context);
            inFlightFound += known.generation() == reported.generation() + 1 ? 1 : 0;
        }

        System.out.printf("CrashSafetyTest: %d SIGKILLs in %.1f s (seed %d): %d commits reported, final generation %d; "
                + "%d kills before any commit of that writer, %d with the unreported in-flight commit on disk, %d with a "
                + "temporary file left mid-write%n", kills, (System.nanoTime() - started) / 1e9, seed, commits,
                known.generation(), noCommit, inFlightFound, leftovers);
        assertTrue(known.generation() > 0, "the writers committed nothing at all: the test proved nothing");
    }

    /** The store must be intact and hold the reported state, or the next one. Returns what is on disk. */
    private static State verify(Path data, State reported, Path programs, String context) throws Exception {
        ProgramStore.Loaded loaded = new ProgramStore(data).inspect();
        if (loaded instanceof ProgramStore.Fresh) {
            assertEquals(0, reported.generation(), context + ": the store vanished after commits were reported");
            return reported;
        }
        if (loaded instanceof ProgramStore.Unusable bad) {
            fail(context + ": the store is unusable after a kill: " + bad.problem());
        }
        ProgramStore.Snapshot snapshot = ((ProgramStore.Valid) loaded).snapshot();
        List<TrustedProgram> list = snapshot.programs().stream().map(StoredProgram::program).toList();
        State onDisk = new State(snapshot.generation(), CrashWorkload.names(list));
        State next = new State(reported.generation() + 1, CrashWorkload.next(reported.generation(), reported.names()));
        if (!onDisk.equals(reported) && !onDisk.equals(next)) {
            fail(context + ": on disk " + onDisk + ", but the writer reported " + reported + " (or would have made "
                    + next + ")");
        }
        for (TrustedProgram p : list) {
            assertEquals(ExecutableHasher.hash(programs.resolve(p.name())).sha256(), p.sha256(), context);
        }
        Path previous = data.resolve("programs.json.prev");
        if (onDisk.generation() == 1) {
            assertFalse(Files.exists(previous), context + ": a previous generation before the first commit");
        } else {
            long prev = StoreFormat.decode(Files.readAllBytes(previous)).generation(); // throws if damaged
            assertTrue(prev == onDisk.generation() - 1 || prev == onDisk.generation(),
                    context + ": previous generation " + prev + " next to " + onDisk.generation());
        }
        return onDisk;
    }

    private static Process writer(Path data, Path programs, Path stdout, Path stderr) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // cheap start: class data sharing, C1 only, the serial collector, no perf-data file
        return new ProcessBuilder(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-XX:-UsePerfData", "-Xmx64m", "-cp", System.getProperty("java.class.path"),
                CrashWriter.class.getName(), data.toString(), programs.toString())
                .redirectOutput(stdout.toFile())
                .redirectError(ProcessBuilder.Redirect.appendTo(stderr.toFile()))
                .redirectInput(new File("/dev/null"))
                .start();
    }

    /** Waits for the writer's READY line (it has loaded the store and is about to write). */
    private static String awaitFirstLine(Process child, Path stdout, String context) throws Exception {
        try {
            return Await.await(context + ": the writer's READY line", Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(1)).until(() -> {
                        List<String> lines = completeLines(stdout);
                        if (lines.isEmpty() && !child.isAlive()) {
                            fail(context + ": the writer exited with " + child.exitValue() + " before it was ready");
                        }
                        return lines.isEmpty() ? null : lines.get(0);
                    }, line -> line != null);
        } catch (ConditionTimeoutException e) {
            child.destroyForcibly();
            throw e;
        }
    }

    /** Lines ended by a newline; a line cut short by the kill is no report. */
    private static List<String> completeLines(Path stdout) throws IOException {
        String text = Files.readString(stdout, StandardCharsets.UTF_8);
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        lines.remove(lines.size() - 1); // what follows the last newline: empty, or a partial line
        return lines;
    }

    private static State parse(String line, String kind, String context) {
        Matcher m = LINE.matcher(line);
        if (!m.matches() || !m.group(1).equals(kind)) {
            fail(context + ": unexpected line from the writer: " + line);
        }
        return new State(Long.parseLong(m.group(2)), m.group(3));
    }
}
