package org.flexwall.administration.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.flexwall.administration.shell.FlexwallCommands;
import org.flexwall.api.audit.AuditEntry;
import org.flexwall.api.audit.AuditException;
import org.flexwall.api.audit.AuditQuery;
import org.flexwall.api.audit.AuditTrail;
import org.flexwall.api.audit.TrustChange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import jakarta.json.Json;
import jakarta.json.JsonObject;

class OperationsAuditTest {
    @TempDir
    Path tmp;

    /** A trail kept in memory, that can be made to fail as a full disk does. */
    static final class Trail implements AuditTrail {
        final List<AuditEntry> entries = new ArrayList<>();
        String failure;

        @Override
        public void record(AuditEntry entry) throws AuditException {
            if (failure != null) {
                throw new AuditException(failure);
            }
            entries.add(0, entry);
        }

        @Override
        public List<AuditEntry> read(AuditQuery query) {
            return entries.stream().filter(query::matches).limit(query.limit() == 0 ? Long.MAX_VALUE : query.limit())
                    .toList();
        }

        @Override
        public Optional<String> problem() {
            return Optional.ofNullable(failure);
        }
    }

    private final Fakes.Registry registry = new Fakes.Registry();
    private final Fakes.Store store = new Fakes.Store(registry);
    private final Trail trail = new Trail();
    private final Operations operations = Operations.using(registry, store, Fakes.MONITOR, List.of(store))
            .withAuditTrail(trail);

    private Path program() throws IOException {
        Path p = tmp.resolve("server");
        Files.writeString(p, "\u007fELF server");
        return p;
    }

    @Test
    void aRequestOnTheControlSocketIsRecordedAsRootAndTheGogoShellAsItself() throws Exception {
        Path program = program();
        operations.execute(Json.createObjectBuilder().add("op", "trust").add("path", program.toString()).build());
        new FlexwallCommands(operations).untrust(program.toString());

        TrustChange untrust = (TrustChange) trail.entries.get(0);
        TrustChange trust = (TrustChange) trail.entries.get(1);
        assertEquals(AuditTrail.ROOT, trust.actor());
        assertEquals(TrustChange.Action.TRUST, trust.action());
        assertEquals(Fakes.Registry.shaOf(program), trust.newSha256());
        assertEquals(Operations.GOGO, untrust.actor());
        assertEquals(trust.newSha256(), untrust.oldSha256());
    }

    @Test
    void aChangeTheTrailCannotRecordIsStillMadeAndTheOperatorIsWarned() throws Exception {
        trail.failure = "no space left on device";
        JsonObject answer = operations.trust(program().toString(), "server", false);

        assertTrue(answer.getBoolean("ok"), answer.toString());
        assertEquals(1, registry.programs.size());
        assertTrue(Render.text(answer).contains("Warning: the change was made, but the audit trail could not record "
                + "it: no space left on device"), Render.text(answer));
    }

    @Test
    void auditAnswersNewestFirstFilteredAndRefusesAnUnknownSince() throws Exception {
        Path program = program();
        operations.trust(program.toString(), "server", false);
        operations.untrust(program.toString());

        JsonObject all = operations.audit("1h", 0, null);
        JsonObject filtered = operations.audit(null, 0, "no longer trusts");
        JsonObject refused = operations.execute(Json.createObjectBuilder().add("op", "audit")
                .add("since", "last week").build());

        assertEquals(List.of("untrust", "trust"), all.getJsonArray("entries").getValuesAs(JsonObject.class).stream()
                .map(e -> e.getString("action")).toList());
        assertEquals(1, filtered.getJsonArray("entries").size());
        assertFalse(refused.getBoolean("ok"));
        assertTrue(refused.getString("error").contains("--since takes"), refused.toString());
    }
}
