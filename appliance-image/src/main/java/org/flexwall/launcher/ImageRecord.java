package org.flexwall.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which jar of the image each bundle location was last installed from ({@code DATA/image-bundles}: SHA-256 and
 * location per line), so a start updates exactly the bundles whose image jar changed: file times say nothing after an
 * upgrade unpacks an archive, and a bundle updated at run time must not be put back by a restart.
 */
final class ImageRecord {
    static final String FILE = "image-bundles";
    private final Path file;
    private final Map<String, String> before;
    private final Map<String, String> now = new TreeMap<>();

    private ImageRecord(Path file, Map<String, String> before) {
        this.file = file;
        this.before = before;
    }

    static ImageRecord load(Path data) throws LaunchException {
        Path file = data.resolve(FILE);
        Map<String, String> before = new TreeMap<>();
        try {
            if (Files.exists(file)) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    int space = line.indexOf(' ');
                    if (space == 64) {
                        before.put(line.substring(space + 1), line.substring(0, space));
                    }
                }
            }
        } catch (IOException e) {
            throw new LaunchException("cannot read " + file + ": " + e.getMessage() + "; delete it (the next start "
                    + "updates every bundle from the image)");
        }
        return new ImageRecord(file, before);
    }

    /** Whether the image's jar at {@code location} differs from the one last installed; unknown: {@code newerFile}. */
    boolean changed(String location, String digest, boolean newerFile) {
        String last = before.get(location);
        return last == null ? newerFile : !last.equals(digest);
    }

    void put(String location, String digest) {
        now.put(location, digest);
    }

    /** Written crash-safe: a temporary file, fsync, rename. */
    void save() throws LaunchException {
        StringBuilder text = new StringBuilder();
        now.forEach((location, digest) -> text.append(digest).append(' ').append(location).append('\n'));
        Path temp = file.resolveSibling(FILE + ".tmp");
        try {
            Files.deleteIfExists(temp);
            Files.writeString(temp, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW);
            try (FileChannel c = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                c.force(true);
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new LaunchException("cannot write " + file + ": " + e.getMessage());
        }
    }

    static String digest(Path jar) throws LaunchException {
        try (InputStream in = Files.newInputStream(jar)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[65536];
            for (int n; (n = in.read(buffer)) > 0; ) {
                sha.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (IOException e) {
            throw new LaunchException("cannot read the bundle " + jar + ": " + e.getMessage()
                    + "; the image is damaged, install it again");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
