package org.flexwall.program.registry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Hashes an executable in one pass: SHA-256 is the identity that decides trust, MD5 is kept for display (Table 1). */
final class ExecutableHasher {
    private static final int BUFFER = 64 * 1024;

    /** Lower-case hex digests of one file and how many bytes they cover. */
    record Digests(String sha256, String md5, long bytes) {}

    private ExecutableHasher() {}

    static Digests hash(Path file) throws IOException {
        MessageDigest sha256 = digest("SHA-256");
        MessageDigest md5 = digest("MD5");
        byte[] buffer = new byte[BUFFER];
        long bytes = 0;
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0;) {
                sha256.update(buffer, 0, n);
                md5.update(buffer, 0, n);
                bytes += n;
            }
        }
        HexFormat hex = HexFormat.of();
        return new Digests(hex.formatHex(sha256.digest()), hex.formatHex(md5.digest()), bytes);
    }

    static String sha256(byte[] data) {
        return HexFormat.of().formatHex(digest("SHA-256").digest(data));
    }

    private static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has " + algorithm, e);
        }
    }
}
