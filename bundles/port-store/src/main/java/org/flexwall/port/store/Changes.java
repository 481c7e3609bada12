package org.flexwall.port.store;

import java.util.ArrayList;
import java.util.List;

import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.SocketOwner;
import org.flexwall.api.program.TrustedProgram;

/**
 * What one step of the store changed, in the order listeners must hear it: revocations before permissions, so a
 * port replaced by a new entry for the same key is never briefly counted twice or missing at the end.
 */
final class Changes {
    /** A socket newly refused although a trusted program is involved, and why (never empty). */
    record Refusal(ListeningSocket socket, TrustedProgram program, List<SocketOwner> untrusted, String reason) {}

    final List<PermittedPort> revoked = new ArrayList<>();
    final List<PermittedPort> permitted = new ArrayList<>();
    final List<Refusal> refused = new ArrayList<>();

    boolean isEmpty() {
        return revoked.isEmpty() && permitted.isEmpty() && refused.isEmpty();
    }

    void addAll(Changes other) {
        revoked.addAll(other.revoked);
        permitted.addAll(other.permitted);
        refused.addAll(other.refused);
    }
}
