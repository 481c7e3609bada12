package org.flexwall.administration.control;

import static org.flexwall.administration.control.Replies.lower;

import java.util.Optional;

import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.RefusedSocket;
import org.flexwall.api.port.SocketOwner;
import org.flexwall.api.program.ProgramRegistry;
import org.flexwall.api.program.TrustedProgram;

import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import jakarta.json.spi.JsonProvider;

/** How trusted programs, permitted ports, refused sockets and their owners look in the operations' answers. */
final class JsonViews {
    private static final JsonProvider json = JsonSupport.json();

    private JsonViews() {}

    static JsonObject program(TrustedProgram p) {
        return json.createObjectBuilder().add("name", p.name()).add("path", p.path().toString())
                .add("sha256", p.sha256()).add("md5", p.md5()).add("approvedAt", p.approvedAt().toString())
                .add("interpreter", p.interpreter())
                .add("user", p.user() == null ? JsonValue.NULL : json.createValue(p.user()))
                .add("uid", p.uid() == TrustedProgram.ANY_UID ? JsonValue.NULL : json.createValue(p.uid()))
                .add("unit", p.unit() == null ? JsonValue.NULL : json.createValue(p.unit())).build();
    }

    static JsonObject port(PermittedPort p) {
        JsonArrayBuilder processes = json.createArrayBuilder();
        p.processes().forEach(o -> processes.add(owner(o, Optional.of(p.program()))));
        return json.createObjectBuilder().add("protocol", lower(p.protocol())).add("family", lower(p.family()))
                .add("port", p.port()).add("inode", p.inode())
                .add("program", json.createObjectBuilder().add("name", p.program().name())
                        .add("path", p.program().path().toString()).add("sha256", p.program().sha256()))
                .add("processes", processes).add("since", p.since().toString()).build();
    }

    /** A refused socket; {@code registry} (may be null) names the owners it trusts under another restriction. */
    static JsonObject refused(RefusedSocket refusal, ProgramRegistry registry) {
        ListeningSocket s = refusal.socket();
        JsonArrayBuilder owners = json.createArrayBuilder();
        for (SocketOwner o : s.owners()) {
            owners.add(owner(o, registry == null || o.sha256() == null ? Optional.empty()
                    : registry.bySha256(o.sha256())));
        }
        return json.createObjectBuilder().add("protocol", lower(s.protocol())).add("family", lower(s.family()))
                .add("address", s.addressText()).add("port", s.port()).add("inode", s.inode()).add("v6Only", s.v6Only())
                .add("owners", owners).add("reason", refusal.reason()).build();
    }

    static JsonObject owner(SocketOwner o, Optional<TrustedProgram> trustedAs) {
        JsonObjectBuilder b = json.createObjectBuilder().add("pid", o.pid()).add("startTime", o.startTime())
                .add("executable", o.executable().toString());
        b.add("sha256", o.sha256() == null ? JsonValue.NULL : json.createValue(o.sha256()));
        b.add("trustedAs", trustedAs.isPresent() ? json.createValue(trustedAs.get().name()) : JsonValue.NULL);
        b.add("uid", o.uid() == SocketOwner.UNKNOWN_UID ? JsonValue.NULL : json.createValue(o.uid()));
        b.add("unit", o.unit() == null ? JsonValue.NULL : json.createValue(o.unit()));
        b.add("tampered", o.tampered() == null ? JsonValue.NULL : json.createValue(o.tampered()));
        b.add("taken", o.taken());
        return b.build();
    }
}
