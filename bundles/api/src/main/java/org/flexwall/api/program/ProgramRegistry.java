package org.flexwall.api.program;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/** The internal permitted-program storage of the patent (Table 1), persisted crash-safe. */
@ProviderType
public interface ProgramRegistry {

    /** Every trusted program, in the order they were approved; empty while the store is unusable. */
    List<TrustedProgram> programs();

    /** The trusted program whose executable has this SHA-256, if any. Answers nothing while the store is unusable. */
    Optional<TrustedProgram> bySha256(String sha256);

    /**
     * Trusts the executable at {@code path}, hashing the file as it is now.
     *
     * @param insist trust a general interpreter (python3, bash, java…) although that trusts every script it runs
     * @throws RegistryException when the file cannot be read, is no regular executable, is an interpreter and
     *                           {@code insist} is false, or the store cannot be written
     */
    TrustedProgram trust(Path path, String name, boolean insist) throws RegistryException;

    /**
     * As {@link #trust(Path, String, boolean)}, with the user and systemd unit its processes must run as: a process of
     * another user or unit running the same bytes is not this program.
     *
     * @param user a user name or numeric uid, or null for any user
     * @param unit a systemd unit ("nginx" or "nginx.service"), or null for any
     * @throws RegistryException also when the user does not exist, or this registry cannot restrict programs
     * @since 1.2
     */
    default TrustedProgram trust(Path path, String name, boolean insist, String user, String unit)
            throws RegistryException {
        if (user != null || unit != null) {
            throw new RegistryException("this program registry cannot restrict a program to a user or unit");
        }
        return trust(path, name, insist);
    }

    /**
     * The general interpreter {@code path} names (python3, bash, java…), as {@link #trust(Path, String, boolean)}
     * refuses it without {@code insist}; empty when it names none.
     *
     * @since 1.3
     */
    default Optional<String> interpreter(Path path) {
        return Optional.empty();
    }

    /** Forgets every program approved at {@code path}; returns what was removed. */
    List<TrustedProgram> untrust(Path path) throws RegistryException;

    /** Re-hashes the file at the path of an already trusted program, after an upgrade, and trusts the new bytes. */
    TrustedProgram reapprove(Path path) throws RegistryException;

    /** Whether the persisted store loaded cleanly; when it did not, {@link #problem()} says what to do. */
    boolean usable();

    /** Why the store is unusable, in words for the operator; empty when it is usable. */
    Optional<String> problem();

    /**
     * Reads the persisted store again, after the operator restored a file as {@link #problem()} told them to.
     * Returns {@link #usable()} afterwards.
     *
     * @since 1.1
     */
    default boolean reload() {
        return usable();
    }

    /**
     * Recovery for an unusable store the operator gave up on: starts an empty list (nothing trusted) and leaves the
     * damaged files aside for inspection. Refused while the store is usable.
     *
     * @since 1.1
     */
    default void reset() throws RegistryException {
        throw new RegistryException("this program registry cannot be reset");
    }
}
