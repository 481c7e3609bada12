package org.flexwall.port.monitor.sockdiag;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * SHA-256 of a process's running image, read through /proc/PID/exe so that a binary replaced or deleted on disk is
 * judged by what runs. Hashes are cached by the identity of the file behind the link (device, inode, size, mtime,
 * ctime): a pid alone is never a key, and a file changed in place changes its mtime and ctime.
 */
public final class ImageHasher {
    /** Identity of an executable file as statx(2) on /proc/PID/exe reports it (device as major << 32 | minor). */
    record FileKey(long dev, long ino, long size, long mtimeNs, long ctimeNs) {}

    private static final int CACHE_SIZE = 512;

    private final Map<FileKey, String> cache = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<FileKey, String> eldest) {
            return size() > CACHE_SIZE;
        }
    };

    /** Hex SHA-256 of the image process {@code pid} runs, or null when it cannot be read (gone, kernel thread). */
    public String sha256(int pid) {
        return sha256(new ProcFs(), ProcFs.exeLink(pid));
    }

    String sha256(Path exe) {
        return sha256(new ProcFs(), exe);
    }

    /** As {@link #sha256(Path)}, with the caller's /proc reader (its buffer is reused, nothing is allocated). */
    String sha256(ProcFs proc, Path exe) {
        FileKey before = proc.fileKey(exe);
        if (before == null) {
            return null;
        }
        synchronized (cache) {
            String known = cache.get(before);
            if (known != null) {
                return known;
            }
        }
        String hash = hash(exe);
        // Cache only when the file did not change while we read it; otherwise the bytes may be a mix of both.
        if (hash == null || !before.equals(proc.fileKey(exe))) {
            return null;
        }
        synchronized (cache) {
            cache.put(before, hash);
        }
        return hash;
    }

    /** How many images are cached (for tests). */
    int cached() {
        synchronized (cache) {
            return cache.size();
        }
    }

    private static String hash(Path exe) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this Java runtime has no SHA-256", e);
        }
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        try (FileChannel ch = FileChannel.open(exe, StandardOpenOption.READ)) {
            while (ch.read(buf.clear()) >= 0) {
                sha.update(buf.flip());
            }
        } catch (IOException e) {
            return null;
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
