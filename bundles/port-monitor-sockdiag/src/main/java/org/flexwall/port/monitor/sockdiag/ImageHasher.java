package org.flexwall.port.monitor.sockdiag;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * SHA-256 of a process's running image, read through /proc/PID/exe so that a binary replaced or deleted on disk is
 * judged by what runs. Hashes are cached by the identity of the file behind the link (device, inode, size, mtime,
 * ctime): a pid alone is never a key, and a file changed in place changes its mtime and ctime.
 */
public final class ImageHasher {
    /** Identity of an executable file as stat(2) on /proc/PID/exe reports it. */
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
        return sha256(ProcFs.exeLink(pid));
    }

    String sha256(Path exe) {
        FileKey before = key(exe);
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
        if (hash == null || !before.equals(key(exe))) {
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

    static FileKey key(Path exe) {
        try {
            Map<String, Object> a = Files.readAttributes(exe, "unix:dev,ino,size,lastModifiedTime,ctime");
            return new FileKey((Long) a.get("dev"), (Long) a.get("ino"), (Long) a.get("size"),
                    ((FileTime) a.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS),
                    ((FileTime) a.get("ctime")).to(TimeUnit.NANOSECONDS));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return null;
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
