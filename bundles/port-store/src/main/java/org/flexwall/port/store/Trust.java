package org.flexwall.port.store;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.flexwall.api.port.SocketOwner;
import org.flexwall.api.program.TrustedProgram;

/**
 * The trusted programs at one moment, by SHA-256: the store evaluates against a snapshot so it never calls the
 * registry while holding its own lock.
 */
final class Trust {
    /** Nothing is trusted: no registry, or an unusable one (fail closed). */
    static final Trust NOTHING = new Trust(Map.of());

    private final Map<String, List<TrustedProgram>> bySha256;

    private Trust(Map<String, List<TrustedProgram>> bySha256) {
        this.bySha256 = bySha256;
    }

    /** A snapshot of {@code programs}; one hash may be approved at several paths, each with its own restrictions. */
    static Trust of(List<TrustedProgram> programs) {
        Map<String, List<TrustedProgram>> m = new LinkedHashMap<>();
        for (TrustedProgram p : programs) {
            m.computeIfAbsent(p.sha256(), k -> new ArrayList<>()).add(p);
        }
        m.replaceAll((k, v) -> List.copyOf(v));
        return new Trust(Map.copyOf(m));
    }

    /** The first trusted program running this image (whoever runs it); an unreadable image (null hash) is none. */
    Optional<TrustedProgram> bySha256(String sha256) {
        return approvals(sha256).stream().findFirst();
    }

    /** Every approval of this image, in approval order. */
    List<TrustedProgram> approvals(String sha256) {
        return sha256 == null ? List.of() : bySha256.getOrDefault(sha256, List.of());
    }

    /** The approval of {@code owner}'s image whose user and unit {@code owner} runs as, if any. */
    Optional<TrustedProgram> admitting(SocketOwner owner) {
        return approvals(owner.sha256()).stream().filter(p -> admits(p, owner)).findFirst();
    }

    /** Whether a process runs as the user and in the unit {@code p} names (each only when named). */
    static boolean admits(TrustedProgram p, SocketOwner owner) {
        return (p.uid() == TrustedProgram.ANY_UID || p.uid() == owner.uid())
                && (p.unit() == null || p.unit().equals(owner.unit()));
    }

    int size() {
        return bySha256.size();
    }
}
