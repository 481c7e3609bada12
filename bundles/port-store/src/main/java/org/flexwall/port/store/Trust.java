package org.flexwall.port.store;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.flexwall.api.program.TrustedProgram;

/**
 * The trusted programs at one moment, by SHA-256: the store evaluates against a snapshot so it never calls the
 * registry while holding its own lock.
 */
final class Trust {
    /** Nothing is trusted: no registry, or an unusable one (fail closed). */
    static final Trust NOTHING = new Trust(Map.of());

    private final Map<String, TrustedProgram> bySha256;

    private Trust(Map<String, TrustedProgram> bySha256) {
        this.bySha256 = bySha256;
    }

    /** A snapshot of {@code programs}; when one hash was approved at two paths the earlier approval names it. */
    static Trust of(List<TrustedProgram> programs) {
        Map<String, TrustedProgram> m = new LinkedHashMap<>();
        for (TrustedProgram p : programs) {
            m.putIfAbsent(p.sha256(), p);
        }
        return new Trust(Map.copyOf(m));
    }

    /** The trusted program running this image; an unreadable image (null hash) is never trusted. */
    Optional<TrustedProgram> bySha256(String sha256) {
        return sha256 == null ? Optional.empty() : Optional.ofNullable(bySha256.get(sha256));
    }

    int size() {
        return bySha256.size();
    }
}
