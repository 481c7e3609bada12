package org.flexwall.audit.trail;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.flexwall.api.audit.AuditEntry;
import org.flexwall.api.audit.AuditException;
import org.flexwall.api.audit.AuditQuery;
import org.flexwall.api.audit.AuditTrail;
import org.flexwall.api.audit.PortChange;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.PortStore;
import org.flexwall.api.port.PortStoreListener;
import org.flexwall.api.port.SocketOwner;
import org.flexwall.api.program.ProgramRegistry;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The audit trail in {@code ${flexwall.data}/audit/}. Trust changes are written by the caller's thread and forced to
 * disk before {@link #record} returns. Port changes come from the port store, one call at a time on the thread that
 * carries the change on to the kernel, which must not wait for the disk: they are queued and written in small
 * batches by a thread of their own, each batch forced once.
 */
@Component(name = AuditTrailComponent.PID, service = { AuditTrail.class, PortStoreListener.class }, immediate = true)
@Designate(ocd = AuditTrailComponent.Config.class)
public class AuditTrailComponent implements AuditTrail, PortStoreListener {
    static final String PID = "org.flexwall.audit.trail";
    static final String DIRECTORY = "audit";
    /** Port changes written in one batch at most; a burst beyond waits for the next. */
    private static final int BATCH = 256;

    @ObjectClassDefinition(name = "flexwall audit trail",
            description = "Every trust change and every port flexwall opened or closed, as JSON lines in the data "
                    + "directory's audit/ folder; read with `flexwall audit`")
    public @interface Config {
        @AttributeDefinition(name = "File size (KiB)", description = "The size an audit file may reach before it "
                + "is set aside as audit.1.jsonl and a new one begins", min = "64", max = "1048576")
        int maxFileKilobytes() default 4096;

        @AttributeDefinition(name = "Old files kept", description = "How many set-aside audit files are kept; the "
                + "oldest beyond that is deleted", min = "1", max = "100")
        int keepFiles() default 4;
    }

    @Reference(service = LoggerFactory.class)
    private Logger log;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile ProgramRegistry registry;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile PortStore portStore;

    private final BlockingQueue<PortChange> pending = new LinkedBlockingQueue<>();
    /** The entry each open port was opened for, to say who held it when it closes; the store calls one at a time. */
    private final Map<PortKey, PermittedPort> openedBy = new HashMap<>();
    private final Users users = new Users(Users.PASSWD);
    private volatile AuditLog auditLog; // null without a data directory
    private volatile String problem;
    private volatile boolean running;
    private Thread writer;

    @Activate
    void activate(Config config, BundleContext context) {
        String data = context.getProperty("flexwall.data");
        if (data == null || data.isBlank()) {
            problem = "the framework property flexwall.data is not set, so the audit trail has nowhere to be "
                    + "written; start flexwall with its launcher, or set flexwall.data to the data directory";
            log.error(problem);
        } else {
            Path dir = Path.of(data).resolve(DIRECTORY);
            auditLog = new AuditLog(dir, Math.max(64, config.maxFileKilobytes()) * 1024L, Math.max(1, config.keepFiles()));
            try {
                Directory.ensurePrivate(dir); // a problem with the directory shows at start, not at the first change
            } catch (IOException e) {
                problem = "the audit directory " + dir + " cannot be used: " + e.getMessage();
                log.error(problem);
            }
        }
        running = true;
        writer = new Thread(this::writePortChanges, "flexwall-audit");
        writer.setDaemon(true);
        writer.start();
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        running = false; // not an interrupt: that would close the file under a write
        writer.join(TimeUnit.SECONDS.toMillis(10));
        AuditLog l = auditLog;
        if (l != null) {
            l.close();
        }
    }

    @Override
    public void record(AuditEntry entry) throws AuditException {
        write(List.of(entry));
    }

    @Override
    public List<AuditEntry> read(AuditQuery query) throws AuditException {
        AuditLog l = auditLog;
        if (l == null) {
            throw new AuditException(problem);
        }
        List<AuditEntry> found = new ArrayList<>();
        try {
            l.readNewestFirst(line -> {
                AuditJson.parse(line).filter(query::matches).ifPresent(found::add);
                return query.limit() > 0 && found.size() >= query.limit();
            });
        } catch (IOException e) {
            throw new AuditException("could not read the audit trail in " + l + ": " + e, e);
        }
        return found;
    }

    @Override
    public Optional<String> problem() {
        String p = problem;
        AuditLog l = auditLog;
        return Optional.ofNullable(p != null || l == null ? p : l.unwritable());
    }

    // --- port changes -----------------------------------------------------------------------------------------------

    @Override
    public void snapshot(Set<PortKey> open) {
        for (PortKey k : List.copyOf(openedBy.keySet())) {
            if (!open.contains(k)) {
                closed(k); // the store stopped: nothing is permitted any more
            }
        }
        open.stream().filter(k -> !openedBy.containsKey(k)).forEach(this::opened);
    }

    @Override
    public void opened(PortKey key) {
        PortStore store = portStore; // free to ask: the store calls us outside its lock (the entry that opened it)
        PermittedPort port = store == null ? null : store.permitted().stream()
                .filter(p -> PortKey.of(p).equals(key)).findFirst().orElse(null);
        if (port == null) {
            pending.add(new PortChange(Instant.now(), PortChange.Kind.OPENED, key.protocol(), key.family(),
                    key.port(), "?", null, null, 0, null, "permitted by the port store (its entry was gone again)"));
            return;
        }
        openedBy.put(key, port);
        pending.add(change(PortChange.Kind.OPENED, port, "trusted program '" + port.program().name() + "' listens"));
    }

    @Override
    public void closed(PortKey key) {
        PermittedPort port = openedBy.remove(key);
        if (port == null) {
            pending.add(new PortChange(Instant.now(), PortChange.Kind.CLOSED, key.protocol(), key.family(),
                    key.port(), "?", null, null, 0, null, "no longer permitted"));
            return;
        }
        ProgramRegistry r = registry;
        boolean stillTrusted = r != null && r.bySha256(port.program().sha256()).isPresent();
        pending.add(change(PortChange.Kind.CLOSED, port, stillTrusted
                ? "the socket closed, or a process that is not the trusted program holds it now"
                : "program '" + port.program().name() + "' is no longer trusted"));
    }

    private PortChange change(PortChange.Kind kind, PermittedPort port, String why) {
        Optional<SocketOwner> owner = port.processes().stream().findFirst();
        return new PortChange(Instant.now(), kind, port.protocol(), port.family(), port.port(),
                port.program().name(), owner.map(SocketOwner::executable).orElse(port.program().path()),
                port.program().sha256(), owner.map(SocketOwner::pid).orElse(0),
                owner.map(o -> users.name(o.uid())).orElse(null), why);
    }

    private void writePortChanges() {
        List<AuditEntry> batch = new ArrayList<>();
        while (running || !pending.isEmpty()) { // what the port store reported before the stop is written too
            try {
                PortChange next = pending.poll(100, TimeUnit.MILLISECONDS);
                if (next != null) {
                    batch.add(next);
                    drainAndWrite(batch);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void drainAndWrite(List<AuditEntry> batch) {
        List<PortChange> more = new ArrayList<>();
        pending.drainTo(more, BATCH - batch.size());
        batch.addAll(more);
        if (batch.isEmpty()) {
            return;
        }
        try {
            write(batch);
        } catch (AuditException e) {
            log.error("{} port changes were not recorded in the audit trail: {}", batch.size(), e.getMessage());
        }
        batch.clear();
    }

    private void write(List<AuditEntry> entries) throws AuditException {
        AuditLog l = auditLog;
        if (l == null) {
            throw new AuditException(problem);
        }
        List<String> lines = entries.stream().map(AuditJson::line).toList();
        try {
            l.append(lines);
            if (problem != null) {
                log.info("the audit trail is written again");
            }
            problem = null;
        } catch (IOException e) {
            String p = "could not write the audit trail in " + l + " (" + e + "); check that the data directory's "
                    + "disk has room and is writable";
            if (!p.equals(problem)) {
                log.error(p);
            }
            problem = p;
            throw new AuditException(p, e);
        }
    }
}
