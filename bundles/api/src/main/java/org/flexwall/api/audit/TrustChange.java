package org.flexwall.api.audit;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Objects;

import org.flexwall.api.program.TrustedProgram;

/**
 * Someone changed what flexwall trusts.
 *
 * @param time      when the change was made
 * @param actor     who made it: the console user's name, or {@link AuditTrail#ROOT} at the CLI
 * @param action    what was done
 * @param program   the program's display name; null for {@link Action#RELOAD} and {@link Action#RESET}
 * @param path      the program's full path; null for {@link Action#RELOAD} and {@link Action#RESET}
 * @param oldSha256 the hash trusted before (UNTRUST, REAPPROVE), else null
 * @param newSha256 the hash trusted after (TRUST, REAPPROVE), else null
 * @param detail    more words ("as user www-data (uid 33) only", "an interpreter", "4 trusted programs"), may be empty
 */
public record TrustChange(Instant time, String actor, Action action, String program, Path path, String oldSha256,
        String newSha256, String detail) implements AuditEntry {

    public enum Action {
        /** A program was trusted. */
        TRUST,
        /** A program was no longer trusted. */
        UNTRUST,
        /** An upgraded program's new bytes were trusted in place of the old. */
        REAPPROVE,
        /** The trusted-program store was read again from disk. */
        RELOAD,
        /** A damaged trusted-program store was given up: nothing is trusted. */
        RESET
    }

    public TrustChange {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(action, "action");
        if (actor == null || actor.isBlank()) {
            throw new IllegalArgumentException("a trust change needs the name of who made it");
        }
        boolean wholeStore = action == Action.RELOAD || action == Action.RESET;
        if (!wholeStore && (program == null || path == null)) {
            throw new IllegalArgumentException(action + " needs the program's name and path");
        }
        if (oldSha256 != null && !oldSha256.matches("[0-9a-f]{64}") || newSha256 != null && !newSha256.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("hashes are 64 lower-case hex digits, not " + oldSha256 + " and " + newSha256);
        }
        detail = detail == null ? "" : detail;
    }

    /** {@code actor} trusted {@code p}. */
    public static TrustChange trusted(String actor, TrustedProgram p) {
        return new TrustChange(Instant.now(), actor, Action.TRUST, p.name(), p.path(), null, p.sha256(), details(p));
    }

    /** {@code actor} stopped trusting {@code p}. */
    public static TrustChange untrusted(String actor, TrustedProgram p) {
        return new TrustChange(Instant.now(), actor, Action.UNTRUST, p.name(), p.path(), p.sha256(), null, details(p));
    }

    /** {@code actor} trusted the new bytes {@code after} of a program that was trusted as {@code before}. */
    public static TrustChange reapproved(String actor, TrustedProgram before, TrustedProgram after) {
        return new TrustChange(Instant.now(), actor, Action.REAPPROVE, after.name(), after.path(),
                before == null ? null : before.sha256(), after.sha256(), details(after));
    }

    private static String details(TrustedProgram p) {
        String restrictions = p.restrictions().isEmpty() ? "" : p.restrictions() + " only";
        String interpreter = p.interpreter() ? "an interpreter: every script it runs is trusted" : "";
        return restrictions.isEmpty() || interpreter.isEmpty() ? restrictions + interpreter
                : restrictions + "; " + interpreter;
    }

    @Override
    public String summary() {
        String what = switch (action) {
            case TRUST -> "trusted '" + program + "' at " + path + ", SHA-256 " + newSha256;
            case UNTRUST -> "no longer trusts '" + program + "' at " + path + ", SHA-256 " + oldSha256;
            case REAPPROVE -> "reapproved '" + program + "' at " + path + ", SHA-256 " + oldSha256 + " -> " + newSha256;
            case RELOAD -> "reloaded the trusted-program store";
            case RESET -> "reset the trusted-program store: nothing is trusted";
        };
        return actor + " " + what + (detail.isEmpty() ? "" : " (" + detail + ")");
    }
}
