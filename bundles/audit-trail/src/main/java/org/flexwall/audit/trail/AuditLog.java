package org.flexwall.audit.trail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Lines of text appended to {@code audit.jsonl} in one directory, each forced to disk before {@link #append} returns,
 * so a crash loses at most the line being written. When the file would grow past {@code maxBytes} it becomes
 * {@code audit.1.jsonl} (the older ones move up by one; beyond {@code keep} old files the oldest goes) and a new one
 * starts. A line cut short by a crash is left where it is, ended by a newline so the next line starts whole; readers
 * skip it because it does not parse.
 */
final class AuditLog {
    static final String CURRENT = "audit.jsonl";

    private final Path dir;
    private final long maxBytes;
    private final int keep;
    private FileChannel out; // null until the first append, and after a failure
    private long size;

    /**
     * @param dir      the directory, created 0700 when missing
     * @param maxBytes the size a file may reach before it is rotated
     * @param keep     how many rotated files are kept besides the current one
     */
    AuditLog(Path dir, long maxBytes, int keep) {
        if (maxBytes < 1024 || keep < 1) {
            throw new IllegalArgumentException("an audit file needs at least 1024 bytes and one rotated file kept");
        }
        this.dir = dir;
        this.maxBytes = maxBytes;
        this.keep = keep;
    }

    /** Appends each line (without its newline) and forces them to disk together. */
    synchronized void append(List<String> lines) throws IOException {
        StringBuilder batch = new StringBuilder();
        long batchBytes = 0;
        for (String line : lines) {
            if (line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) {
                throw new IllegalArgumentException("an audit line holds no line break");
            }
            long bytes = line.getBytes(StandardCharsets.UTF_8).length + 1;
            if (currentSize() + batchBytes + bytes > maxBytes && currentSize() + batchBytes > 0) {
                write(batch);
                batch.setLength(0);
                batchBytes = 0;
                rotate();
            }
            batch.append(line).append('\n');
            batchBytes += bytes;
        }
        write(batch);
    }

    /** The current file's size, opening it (and mending a torn end) first. */
    private long currentSize() throws IOException {
        try {
            open();
        } catch (IOException e) {
            close();
            throw e;
        }
        return size;
    }

    private void write(CharSequence text) throws IOException {
        if (text.length() == 0) {
            return;
        }
        try {
            FileChannel channel = open();
            ByteBuffer buffer = StandardCharsets.UTF_8.encode(text.toString());
            int n = buffer.remaining();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(false);
            size += n;
        } catch (IOException e) {
            close(); // reopened, and a torn end mended, at the next append
            throw e;
        }
    }

    private FileChannel open() throws IOException {
        if (out == null) {
            Directory.ensurePrivate(dir);
            FileChannel channel = FileChannel.open(dir.resolve(CURRENT), Set.of(StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------")));
            try {
                long length = channel.size();
                channel.position(length); // the only writer (appends are synchronized): writing at the end appends
                if (length > 0 && !endsWithNewline(channel, length)) {
                    // the last line was cut by a crash: end it, so it stays one unreadable line and the next is whole
                    channel.write(ByteBuffer.wrap(new byte[] { '\n' }));
                    channel.force(false);
                    length++;
                }
                out = channel;
                size = length;
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        }
        return out;
    }

    private static boolean endsWithNewline(FileChannel channel, long length) throws IOException {
        ByteBuffer last = ByteBuffer.allocate(1);
        channel.read(last, length - 1);
        return last.get(0) == '\n';
    }

    private void rotate() throws IOException {
        close();
        Files.deleteIfExists(rotated(keep));
        for (int i = keep - 1; i >= 1; i--) {
            if (Files.exists(rotated(i), LinkOption.NOFOLLOW_LINKS)) {
                Files.move(rotated(i), rotated(i + 1), StandardCopyOption.ATOMIC_MOVE);
            }
        }
        Files.move(dir.resolve(CURRENT), rotated(1), StandardCopyOption.ATOMIC_MOVE);
        Directory.force(dir);
    }

    private Path rotated(int n) {
        return dir.resolve("audit." + n + ".jsonl");
    }

    /** Why a line could not be written now, without writing one; null when it looks writable. */
    String unwritable() {
        Path where = Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) ? dir : dir.getParent();
        Path current = dir.resolve(CURRENT);
        if (!Files.isWritable(where) || Files.exists(current, LinkOption.NOFOLLOW_LINKS) && !Files.isWritable(current)) {
            return "the audit directory " + dir + " is not writable (read-only file system, or permissions)";
        }
        return null;
    }

    @Override
    public String toString() {
        return dir.toString();
    }

    /** Closes the file; the next append opens it again. */
    synchronized void close() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException e) {
                // nothing was pending: every append forced its lines
            }
            out = null;
        }
    }

    /**
     * Lines newest first, from the current file and then the rotated ones, until {@code enough} says so. A line that
     * is not whole (torn by a crash) comes too: the caller's parser skips it.
     *
     * @param enough told each line in turn; reading stops when it answers true
     */
    synchronized void readNewestFirst(Predicate<String> enough) throws IOException {
        List<Path> files = new ArrayList<>();
        files.add(dir.resolve(CURRENT));
        for (int i = 1; i <= keep; i++) {
            files.add(rotated(i));
        }
        for (Path file : files) {
            List<String> lines;
            try {
                lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                continue;
            } catch (java.nio.charset.MalformedInputException e) {
                // a torn multi-byte character: read the bytes leniently, the torn line will not parse
                lines = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).lines().toList();
            }
            List<String> newestFirst = new ArrayList<>(lines);
            Collections.reverse(newestFirst);
            for (String line : newestFirst) {
                if (!line.isEmpty() && enough.test(line)) {
                    return;
                }
            }
        }
    }
}
