package org.flexwall.port.store;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.SocketOwner;
import org.flexwall.api.program.TrustedProgram;

/**
 * What one step of the store changed: the socket entries revoked and permitted (revocations first, for the marks),
 * the sockets newly refused, and the ports (keys) that opened or closed as a result, which is what listeners hear.
 */
final class Changes {
    /** A socket newly refused although a trusted program is involved, and why (never empty). */
    record Refusal(ListeningSocket socket, TrustedProgram program, List<SocketOwner> untrusted, String reason) {}

    final List<PermittedPort> revoked = new ArrayList<>();
    final List<PermittedPort> permitted = new ArrayList<>();
    final List<Refusal> refused = new ArrayList<>();
    // The keys (protocol, family, port) whose permission flipped during this step: open before it, and open now.
    private final Map<PortKey, Boolean> keysBefore = new LinkedHashMap<>();
    private final Map<PortKey, Boolean> keysNow = new LinkedHashMap<>();

    boolean isEmpty() {
        return revoked.isEmpty() && permitted.isEmpty() && refused.isEmpty();
    }

    void addAll(Changes other) {
        revoked.addAll(other.revoked);
        permitted.addAll(other.permitted);
        refused.addAll(other.refused);
        other.keysBefore.forEach(keysBefore::putIfAbsent);
        keysNow.putAll(other.keysNow);
    }

    /** The first socket now serves {@code key} ({@code open}), or the last one stopped serving it. */
    void flipped(PortKey key, boolean open) {
        keysBefore.putIfAbsent(key, !open);
        keysNow.put(key, open);
    }

    /** Keys permitted after this step that were not before it (a key closed and opened again is neither). */
    List<PortKey> opened() {
        return net(true);
    }

    /** Keys permitted before this step and not after it. */
    List<PortKey> closed() {
        return net(false);
    }

    private List<PortKey> net(boolean open) {
        List<PortKey> keys = new ArrayList<>();
        keysNow.forEach((key, now) -> {
            if (now == open && keysBefore.get(key) != open) {
                keys.add(key);
            }
        });
        return keys;
    }
}
