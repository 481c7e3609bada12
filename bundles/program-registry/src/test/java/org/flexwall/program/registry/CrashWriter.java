package org.flexwall.program.registry;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import org.flexwall.api.program.RegistryException;
import org.flexwall.api.program.TrustedProgram;

/**
 * The child JVM of {@link CrashSafetyTest}: opens the store, then changes it as fast as it can until it is killed,
 * printing each change only after the commit returned. Usage: {@code CrashWriter DATA_DIR PROGRAMS_DIR}.
 *
 * <p>Lines (each one write(2) to the pipe, so a kill never leaves half a line that looks whole):
 * {@code READY <generation> <names> .}, {@code C <generation> <names> .}, or {@code E <message>} on failure.
 */
public final class CrashWriter {
    private static final FileOutputStream OUT = new FileOutputStream(FileDescriptor.out);

    private CrashWriter() {}

    public static void main(String[] args) throws IOException {
        ProgramTable.Events quiet = new ProgramTable.Events() {
            @Override
            public void info(String message) {}

            @Override
            public void warn(String message) {}

            @Override
            public void error(String message) {
                System.err.println(message);
            }
        };
        ProgramTable table = new ProgramTable(Path.of(args[0]), quiet, () -> {});
        if (!table.usable()) {
            say("E " + table.problem().orElseThrow());
            System.exit(3);
        }
        Path programs = Path.of(args[1]);
        warmUp(programs);
        say("READY " + table.generation() + " " + CrashWorkload.names(table.programs()) + " .");
        try {
            while (true) {
                CrashWorkload.step(table, programs);
                say("C " + table.generation() + " " + CrashWorkload.names(table.programs()) + " .");
            }
        } catch (Exception e) {
            say("E " + e);
            System.exit(4);
        }
    }

    /** Loads the JSON provider, digests and inspector, so that the kills land in writes rather than in class loading. */
    private static void warmUp(Path programs) throws IOException {
        try {
            ProgramInspector.Inspection found = ProgramInspector.inspect(programs.resolve(CrashWorkload.name(0)), false);
            TrustedProgram p = new TrustedProgram("warm-up", found.path(), found.digests().sha256(),
                    found.digests().md5(), Instant.now(), false);
            StoreFormat.decode(StoreFormat.encode(new ProgramStore.Snapshot(1, Instant.now(),
                    List.of(new StoredProgram(p, found.realPath())))));
        } catch (RegistryException | StoreFormat.DamagedException e) {
            throw new IOException(e);
        }
    }

    private static void say(String line) throws IOException {
        OUT.write((line + "\n").getBytes(StandardCharsets.UTF_8)); // unbuffered: on the pipe when this returns
    }
}
