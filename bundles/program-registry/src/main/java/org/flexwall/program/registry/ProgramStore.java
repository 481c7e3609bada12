package org.flexwall.program.registry;

import static java.nio.file.StandardCopyOption.ATOMIC_MOVE;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.flexwall.program.registry.StoreFormat.DamagedException;

/**
 * The persisted Table 1: {@code programs.json} in the data directory, written crash-safe, in the layout
 * {@link StoreFormat} writes and checks.
 *
 * <p>A commit writes a temporary file and fsyncs it, keeps the generation it replaces as {@code programs.json.prev}
 * (also written and fsynced before it is renamed into place), renames the new file over {@code programs.json} and
 * fsyncs the directory. {@code programs.json} is therefore, at any instant and after any crash, either the old or the
 * new generation, never absent once it existed and never partial.
 *
 * <p>Not thread-safe: the caller serializes commits.
 */
final class ProgramStore {
    static final String FILE_NAME = "programs.json";
    private static final long MAX_BYTES = 16L << 20;
    private static final DateTimeFormatter ASIDE_STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    /** One committed generation of the table. */
    record Snapshot(long generation, Instant written, List<StoredProgram> programs) {
        Snapshot {
            programs = List.copyOf(programs);
        }
    }

    /** What was found on disk. */
    sealed interface Loaded permits Fresh, Valid, Unusable {}

    /** No store yet: a fresh installation, an empty table that may be written. */
    record Fresh() implements Loaded {}

    record Valid(Snapshot snapshot) implements Loaded {}

    /** Nothing may be trusted; {@code problem} tells the operator what is wrong and what to do. */
    record Unusable(String problem) implements Loaded {}

    /** The new generation replaced the old one, but the directory could not be flushed: it may not survive a crash. */
    static final class UncertainCommitException extends IOException {
        private static final long serialVersionUID = 1L;

        UncertainCommitException(String message, IOException cause) {
            super(message, cause);
        }
    }

    private final Path dir;
    private final Path file;
    private final Path previous;
    private final Path temp;
    private final Path previousTemp;
    private byte[] current; // the generation on disk as verified or written here; null while there is none
    private volatile long generation; // written under the caller's lock, read by diagnostics

    ProgramStore(Path dir) {
        this.dir = dir.toAbsolutePath();
        this.file = this.dir.resolve(FILE_NAME);
        this.previous = this.dir.resolve(FILE_NAME + ".prev");
        this.temp = this.dir.resolve(FILE_NAME + ".tmp");
        this.previousTemp = this.dir.resolve(FILE_NAME + ".prev.tmp");
    }

    Path file() {
        return file;
    }

    Path previous() {
        return previous;
    }

    Path directory() {
        return dir;
    }

    long generation() {
        return generation;
    }

    /** Why nothing can be written to the data directory, or null when it looks writable. */
    String unwritable() {
        return Files.isWritable(dir) ? null
                : "the data directory " + dir + " is not writable (read-only file system, or permissions): changes to "
                        + "the trusted programs cannot be saved. Make it writable by the user flexwall runs as";
    }

    /**
     * At boot and on reload: reads the store. A damaged or unreadable file is moved aside as
     * {@code programs.json.corrupt-<UTC time>} and reported; leftovers of an interrupted commit are removed.
     */
    Loaded open() {
        current = null;
        generation = 0;
        String missing = missingDirectory();
        if (missing != null) {
            return new Unusable(missing);
        }
        deleteQuietly(temp); // a commit that never reached its rename: it was never reported as done
        deleteQuietly(previousTemp);
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return missingFile();
        }
        byte[] bytes;
        Snapshot snapshot;
        try {
            bytes = read(file);
            snapshot = StoreFormat.decode(bytes);
        } catch (IOException | DamagedException e) {
            String what = e instanceof DamagedException ? e.getMessage() : "it cannot be read (" + e + ")";
            return new Unusable("The trusted-program store " + file + " is unusable: " + what + ". Flexwall trusts "
                    + "no program, and opens no port for one, until this is fixed. " + moveAside() + " "
                    + recoveryAdvice());
        }
        current = bytes;
        generation = snapshot.generation();
        return new Valid(snapshot);
    }

    /** Reads the store without changing anything on disk. */
    Loaded inspect() {
        String missing = missingDirectory();
        if (missing != null) {
            return new Unusable(missing);
        }
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return missingFile();
        }
        try {
            return new Valid(StoreFormat.decode(read(file)));
        } catch (IOException | DamagedException e) {
            return new Unusable(file + ": " + e.getMessage());
        }
    }

    /** Writes {@code programs} as the next generation; on an exception before the rename nothing changed. */
    Snapshot commit(List<StoredProgram> programs) throws IOException {
        Snapshot next = new Snapshot(generation + 1, Instant.now(), programs);
        byte[] bytes = StoreFormat.encode(next);
        writeDurably(temp, bytes);
        if (current != null) {
            // keep the generation being replaced, as verified, for the operator to fall back to by hand
            writeDurably(previousTemp, current);
            Files.move(previousTemp, previous, ATOMIC_MOVE);
        }
        Files.move(temp, file, ATOMIC_MOVE); // the commit point: the new generation is what a reader now sees
        current = bytes;
        generation = next.generation();
        try {
            forceDirectory(dir);
        } catch (IOException e) {
            throw new UncertainCommitException("the new store " + file + " is in place, but the directory could not "
                    + "be flushed to disk (" + e.getMessage() + "), so the change may not survive a power loss", e);
        }
        return next;
    }

    /** After the operator gave up on an unusable store: an empty table that continues the previous generation count. */
    Snapshot reset() throws IOException {
        current = null; // the damaged file was moved aside: never copy anything over a good programs.json.prev
        generation = 0;
        if (Files.exists(previous)) {
            try {
                generation = StoreFormat.decode(read(previous)).generation();
            } catch (IOException | DamagedException e) {
                // a damaged previous generation just does not tell us where to continue counting
            }
        }
        return commit(List.of());
    }

    private String missingDirectory() {
        if (!Files.exists(dir)) {
            return "The data directory " + dir + " does not exist, so the trusted programs cannot be read or saved; "
                    + "flexwall trusts no program until this is fixed. Create it (mkdir -p " + dir + ") or set the "
                    + "framework property flexwall.data to the right directory, then restart flexwall";
        }
        if (!Files.isDirectory(dir)) {
            return "The data directory " + dir + " is not a directory, so the trusted programs cannot be read or "
                    + "saved; flexwall trusts no program until this is fixed. Set the framework property flexwall.data "
                    + "to a directory, then restart flexwall";
        }
        return null;
    }

    /** No programs.json: a fresh installation, unless earlier generations show that one existed. */
    private Loaded missingFile() {
        List<Path> traces = traces();
        if (traces.isEmpty()) {
            return new Fresh();
        }
        return new Unusable("The trusted-program store " + file + " is missing although "
                + traces.stream().map(Path::toString).collect(Collectors.joining(", "))
                + " show that there was one (deleted, or moved aside as damaged at an earlier start). Flexwall trusts "
                + "no program, and opens no port for one, until this is fixed. " + recoveryAdvice());
    }

    /** Earlier generations and files moved aside as damaged. */
    private List<Path> traces() {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().equals(FILE_NAME + ".prev")
                    || p.getFileName().toString().startsWith(FILE_NAME + ".corrupt-")).sorted().toList();
        } catch (IOException e) {
            return List.of(dir); // cannot tell: never treat an unreadable directory as a fresh installation
        }
    }

    private String moveAside() {
        String stamp = ASIDE_STAMP.format(Instant.now());
        for (int n = 1; n < 100; n++) {
            Path aside = dir.resolve(FILE_NAME + ".corrupt-" + stamp + (n == 1 ? "" : "-" + n));
            try {
                Files.move(file, aside); // rename: the bad bytes stay exactly as found, for inspection
                forceDirectory(dir);
                return "The damaged file was moved to " + aside + ".";
            } catch (FileAlreadyExistsException e) {
                continue;
            } catch (IOException e) {
                return "It could not be moved aside (" + e + "), so it is still at " + file + ".";
            }
        }
        return "It could not be moved aside (too many damaged files named " + FILE_NAME + ".corrupt-" + stamp
                + "), so it is still at " + file + ".";
    }

    /** What the operator can do, with the exact command when the previous generation is intact. */
    private String recoveryAdvice() {
        String reload = "then run `flexwall reload` (Gogo: flexwall:reload) or restart flexwall";
        String reset = "To start over with an empty list instead, run `flexwall reset` (Gogo: flexwall:reset) and "
                + "trust your programs again.";
        String fromBackup = "Restore " + file + " from a backup, " + reload + ". " + reset;
        if (!Files.exists(previous)) {
            return "There is no previous generation (" + previous + ") to fall back to. " + fromBackup;
        }
        try {
            Snapshot prev = StoreFormat.decode(read(previous));
            String names = prev.programs().stream().map(p -> p.program().name()).collect(Collectors.joining(", "));
            return "The previous generation " + previous + " is intact (generation " + prev.generation() + ", written "
                    + prev.written() + ", " + prev.programs().size() + (prev.programs().size() == 1 ? " program" : " programs")
                    + (names.isEmpty() ? "" : ": " + names)
                    + "); it may lack the last change made before the damage, so check the list afterwards. To use it, "
                    + "run `cp " + previous + " " + file + "`, " + reload + ". " + reset;
        } catch (IOException | DamagedException e) {
            return "The previous generation " + previous + " cannot be used either (" + e.getMessage() + "). "
                    + fromBackup;
        }
    }

    private static byte[] read(Path path) throws IOException, DamagedException {
        long size = Files.size(path);
        if (size > MAX_BYTES) {
            throw new DamagedException("it has " + size + " bytes, far more than any program list");
        }
        return Files.readAllBytes(path);
    }

    /** A new file, 0600 from its creation, never opened through a link planted at its name; then fsync. */
    private static void writeDurably(Path path, byte[] bytes) throws IOException {
        Set<OpenOption> options = Set.of(CREATE_NEW, WRITE, LinkOption.NOFOLLOW_LINKS);
        FileAttribute<Set<PosixFilePermission>> ownerOnly =
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
        FileChannel opened;
        try {
            opened = FileChannel.open(path, options, ownerOnly);
        } catch (FileAlreadyExistsException e) {
            Files.delete(path); // left by a crash, or planted: removed (a link itself, not its target), never written
            opened = FileChannel.open(path, options, ownerOnly);
        }
        try (FileChannel channel = opened) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
    }

    /** fsync of the directory, so the renames in it are on disk too. */
    private static void forceDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, READ)) {
            channel.force(true);
        }
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // the next commit overwrites it anyway
        }
    }


}
