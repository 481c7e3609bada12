package org.flexwall.console.firewall;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * SHA-256 of files on disk, hashed again only when a file's identity, size or modification time changed: the page
 * asks every second whether a trusted program's bytes on disk still are the ones trusted.
 */
final class DiskHashes {
    private record Stamp(Object fileKey, long size, long modified) {}

    private record Known(Stamp stamp, String sha256) {}

    private final Map<Path, Known> known = new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<Path, Known> eldest) {
            return size() > 1024;
        }
    };

    /** The file's SHA-256 now, or empty when it cannot be read. */
    synchronized Optional<String> sha256(Path file) {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            Stamp stamp = new Stamp(a.fileKey(), a.size(), a.lastModifiedTime().toMillis());
            Known k = known.get(file);
            if (k != null && k.stamp().equals(stamp)) {
                return Optional.of(k.sha256());
            }
            String sha = hash(file);
            known.put(file, new Known(stamp, sha));
            return Optional.of(sha);
        } catch (IOException e) {
            known.remove(file);
            return Optional.empty();
        }
    }

    static String hash(Path file) throws IOException {
        MessageDigest d;
        try {
            d = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[65536];
            int n;
            while ((n = in.read(buf)) > 0) {
                d.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }
}
