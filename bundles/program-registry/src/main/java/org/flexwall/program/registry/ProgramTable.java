package org.flexwall.program.registry;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.flexwall.api.program.ProgramRegistry;
import org.flexwall.api.program.RegistryException;
import org.flexwall.api.program.TrustedProgram;

/**
 * The internal permitted-program storage (Table 1) without OSGi: an immutable snapshot read lock-free by every
 * lookup, replaced (copy-on-write) by writes that are serialized and persisted before they take effect.
 */
final class ProgramTable implements ProgramRegistry {
    static final String NO_DATA_DIRECTORY = "The framework property flexwall.data is not set, so the trusted programs "
            + "cannot be read or saved; flexwall trusts no program until this is fixed. Start flexwall through its "
            + "launcher, or set flexwall.data to the appliance's data directory";
    private static final int MAX_NAME = 200;

    /** Where the table reports to the operator (the OSGi log in the appliance). */
    interface Events {
        void info(String message);

        void warn(String message);

        void error(String message);
    }

    /** One immutable generation as lookups see it; {@code problem} non-null means nothing is trusted. */
    private record State(List<StoredProgram> rows, List<TrustedProgram> programs,
            Map<String, TrustedProgram> bySha256, String problem) {
        static State of(List<StoredProgram> rows) {
            List<TrustedProgram> programs = rows.stream().map(StoredProgram::program).toList();
            Map<String, TrustedProgram> bySha256 = new HashMap<>();
            programs.forEach(p -> bySha256.putIfAbsent(p.sha256(), p));
            return new State(List.copyOf(rows), programs, Map.copyOf(bySha256), null);
        }

        static State unusable(String problem) {
            return new State(List.of(), List.of(), Map.of(), problem);
        }
    }

    private final ProgramStore store; // null without a data directory
    private final Path passwd;
    private final Events events;
    private final Runnable changed;
    private final Object writes = new Object();
    private volatile State state;

    /**
     * Opens the store in {@code dataDirectory} (null: not configured, nothing trusted).
     *
     * @param changed called after every committed change, reload or reset, outside the table's lock
     */
    ProgramTable(Path dataDirectory, Events events, Runnable changed) {
        this(dataDirectory, events, changed, Accounts.PASSWD);
    }

    /** As above, with the user database at {@code passwd} (tests). */
    ProgramTable(Path dataDirectory, Events events, Runnable changed, Path passwd) {
        this.passwd = passwd;
        this.store = dataDirectory == null ? null : new ProgramStore(dataDirectory);
        this.events = events;
        this.changed = changed;
        synchronized (writes) {
            state = load();
        }
    }

    @Override
    public List<TrustedProgram> programs() {
        return state.programs();
    }

    @Override
    public Optional<TrustedProgram> bySha256(String sha256) {
        return Optional.ofNullable(state.bySha256().get(sha256));
    }

    @Override
    public boolean usable() {
        return state.problem() == null;
    }

    @Override
    public Optional<String> problem() {
        return Optional.ofNullable(state.problem());
    }

    /** S420: approves the bytes now at {@code path}. Trusting the same path and bytes again changes nothing. */
    @Override
    public TrustedProgram trust(Path path, String name, boolean insist) throws RegistryException {
        return trust(path, name, insist, null, null);
    }

    /** As {@link #trust(Path, String, boolean)}, for processes of {@code user} in {@code unit} only (each if given). */
    @Override
    public TrustedProgram trust(Path path, String name, boolean insist, String user, String unit)
            throws RegistryException {
        requireUsable(state);
        String display = displayName(name, path);
        Accounts.User runsAs = user == null || user.isBlank() ? null : Accounts.user(user, passwd);
        String inUnit = unit == null || unit.isBlank() ? null : Accounts.unit(unit);
        ProgramInspector.Inspection found = ProgramInspector.inspect(path, insist); // hashing happens outside the lock
        TrustedProgram trusted;
        RegistryException late;
        synchronized (writes) {
            State s = requireUsable(state);
            Optional<StoredProgram> existing = s.rows().stream().filter(r -> r.approvedAt(path)).findFirst();
            if (existing.isPresent()) {
                TrustedProgram old = existing.get().program();
                boolean sameRestrictions = old.uid() == (runsAs == null ? TrustedProgram.ANY_UID : runsAs.uid())
                        && java.util.Objects.equals(old.unit(), inUnit);
                if (old.sha256().equals(found.digests().sha256()) && sameRestrictions) {
                    return old;
                }
                if (!sameRestrictions) {
                    throw new RegistryException(path + " is already trusted as '" + old.name() + "'"
                            + (old.restrictions().isEmpty() ? " for any user and unit" : " " + old.restrictions())
                            + "; untrust it first to trust it otherwise");
                }
                throw new RegistryException(path + " is already trusted as '" + old.name() + "' with other bytes "
                        + "(SHA-256 " + old.sha256() + ", now " + found.digests().sha256() + "); if the program was "
                        + "upgraded, reapprove it");
            }
            trusted = new TrustedProgram(display, path, found.digests().sha256(), found.digests().md5(), Instant.now(),
                    found.interpreter().isPresent(), runsAs == null ? null : runsAs.name(),
                    runsAs == null ? TrustedProgram.ANY_UID : runsAs.uid(), inUnit);
            List<StoredProgram> rows = new ArrayList<>(s.rows());
            rows.add(new StoredProgram(trusted, found.realPath()));
            late = commit(rows);
        }
        if (trusted.interpreter()) {
            events.warn("trusted the general interpreter '" + found.interpreter().get() + "' at " + path
                    + " because the administrator insisted: every script it runs may now open inbound ports");
        }
        events.info("trusted '" + trusted.name() + "' at " + path + describeReal(found) + ", SHA-256 "
                + trusted.sha256() + ", MD5 " + trusted.md5()
                + (trusted.restrictions().isEmpty() ? "" : ", " + trusted.restrictions() + " only"));
        return finish(trusted, late);
    }

    @Override
    public List<TrustedProgram> untrust(Path path) throws RegistryException {
        requireUsable(state);
        List<TrustedProgram> removed;
        RegistryException late;
        synchronized (writes) {
            State s = requireUsable(state);
            List<StoredProgram> rows = new ArrayList<>(s.rows());
            removed = rows.stream().filter(r -> r.approvedAt(path)).map(StoredProgram::program).toList();
            if (removed.isEmpty()) {
                return removed;
            }
            rows.removeIf(r -> r.approvedAt(path));
            late = commit(rows);
        }
        removed.forEach(p -> events.info("no longer trusted: '" + p.name() + "' at " + p.path()));
        return finish(removed, late);
    }

    /** After an upgrade: hashes the file at a trusted path again and trusts the new bytes in place of the old. */
    @Override
    public TrustedProgram reapprove(Path path) throws RegistryException {
        TrustedProgram old = requireUsable(state).rows().stream().filter(r -> r.approvedAt(path)).findFirst()
                .orElseThrow(() -> new RegistryException(path + " is not a trusted program; trust it first"))
                .program();
        ProgramInspector.Inspection found = ProgramInspector.inspect(path, old.interpreter());
        TrustedProgram renewed;
        TrustedProgram replaced;
        RegistryException late;
        synchronized (writes) {
            State s = requireUsable(state);
            List<StoredProgram> rows = new ArrayList<>(s.rows());
            int at = -1;
            for (int i = 0; i < rows.size() && at < 0; i++) {
                at = rows.get(i).approvedAt(path) ? i : -1;
            }
            if (at < 0) {
                throw new RegistryException(path + " is not a trusted program any more; trust it first");
            }
            replaced = rows.get(at).program();
            renewed = new TrustedProgram(replaced.name(), replaced.path(), found.digests().sha256(),
                    found.digests().md5(), Instant.now(), found.interpreter().isPresent(), replaced.user(),
                    replaced.uid(), replaced.unit());
            rows.set(at, new StoredProgram(renewed, found.realPath()));
            late = commit(rows);
        }
        events.info("reapproved '" + renewed.name() + "' at " + path + describeReal(found) + ": SHA-256 "
                + replaced.sha256() + " -> " + renewed.sha256());
        return finish(renewed, late);
    }

    @Override
    public boolean reload() {
        synchronized (writes) {
            state = load();
        }
        changed.run();
        return usable();
    }

    @Override
    public void reset() throws RegistryException {
        synchronized (writes) {
            State s = state;
            if (s.problem() == null) {
                throw new RegistryException("the trusted-program store is usable, so there is nothing to reset; "
                        + "untrust programs one by one instead");
            }
            if (store == null) {
                throw new RegistryException(s.problem());
            }
            try {
                store.reset();
            } catch (IOException e) {
                throw new RegistryException("could not write a new, empty trusted-program store " + store.file()
                        + " (" + e + "); nothing is trusted. " + s.problem(), e);
            }
            state = State.of(List.of());
        }
        events.warn("the program registry was reset by the administrator: " + store.file() + " now trusts no "
                + "program; damaged files stay aside in " + store.directory());
        changed.run();
    }

    /** The store generation on disk (0 before the first commit): for tests and the operator's diagnostics. */
    long generation() {
        return store == null ? 0 : store.generation();
    }

    private State load() {
        if (store == null) {
            events.error(NO_DATA_DIRECTORY);
            return State.unusable(NO_DATA_DIRECTORY);
        }
        ProgramStore.Loaded loaded = store.open();
        if (loaded instanceof ProgramStore.Unusable bad) {
            events.error(bad.problem());
            return State.unusable(bad.problem());
        }
        List<StoredProgram> rows = loaded instanceof ProgramStore.Valid valid ? valid.snapshot().programs() : List.of();
        String unwritable = store.unwritable();
        if (unwritable != null) {
            events.error(unwritable); // lookups still work: the list on disk is intact
        }
        events.info(loaded instanceof ProgramStore.Valid valid
                ? "loaded " + rows.size() + " trusted programs from " + store.file() + " (generation "
                        + valid.snapshot().generation() + ")"
                : "no trusted-program store at " + store.file() + " yet: starting with an empty list");
        return State.of(rows);
    }

    /** Persists {@code rows}, then publishes them; returns an error to raise after the change took effect. */
    private RegistryException commit(List<StoredProgram> rows) throws RegistryException {
        String unwritable = store.unwritable();
        if (unwritable != null) {
            throw new RegistryException("nothing changed: " + unwritable);
        }
        try {
            store.commit(rows);
            state = State.of(rows);
            return null;
        } catch (ProgramStore.UncertainCommitException e) {
            state = State.of(rows); // the new file is what any reader of the directory sees now
            events.error(e.getMessage());
            return new RegistryException("the change is in effect, but " + e.getMessage() + "; check the disk", e);
        } catch (IOException e) {
            throw new RegistryException("nothing changed: the trusted programs could not be saved to " + store.file()
                    + " (" + e + ")", e);
        }
    }

    private <T> T finish(T result, RegistryException late) throws RegistryException {
        changed.run();
        if (late != null) {
            throw late;
        }
        return result;
    }

    private static State requireUsable(State s) throws RegistryException {
        if (s.problem() != null) {
            throw new RegistryException(s.problem());
        }
        return s;
    }

    private static String displayName(String name, Path path) throws RegistryException {
        if (name == null || name.isBlank()) {
            Path file = path.getFileName();
            return file == null ? path.toString() : file.toString();
        }
        String trimmed = name.strip();
        if (trimmed.length() > MAX_NAME || trimmed.codePoints().anyMatch(Character::isISOControl)) {
            throw new RegistryException("a program name must be at most " + MAX_NAME + " characters, without control "
                    + "characters");
        }
        return trimmed;
    }

    private static String describeReal(ProgramInspector.Inspection found) {
        return found.realPath().equals(found.path()) ? "" : " (" + found.realPath() + ")";
    }
}
