package org.flexwall.api.audit;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The audit trail, kept as JSON lines in the data directory. A crash loses at most the line being written, never an
 * earlier one. Port changes are recorded by the trail itself (it follows the port store); trust changes are recorded
 * by whoever made them, the CLI or the console, because only they know who asked.
 */
@ProviderType
public interface AuditTrail {
    /** The actor of a change made at the CLI: only root can reach the control socket. */
    String ROOT = "root";

    /**
     * Appends {@code entry} and forces it to disk before returning.
     *
     * @throws AuditException when it could not be written; the change it describes has happened all the same, so
     *                        tell the operator
     */
    void record(AuditEntry entry) throws AuditException;

    /** The entries {@code query} asks for, newest first. A line torn by a crash is skipped. */
    List<AuditEntry> read(AuditQuery query) throws AuditException;

    /** Why entries cannot be written now (no data directory, disk full, permissions), empty while they can. */
    Optional<String> problem();
}
