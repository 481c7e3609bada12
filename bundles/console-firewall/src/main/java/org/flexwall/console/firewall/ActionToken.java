package org.flexwall.console.firewall;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The page's token for its actions, on top of the console's origin checks: a keyed hash of the console user, under a
 * key made at activation. Another site's page cannot read it (same-origin policy), and it must come in a header,
 * which a cross-site form cannot set and a cross-site script cannot send without the console's consent (CORS).
 */
final class ActionToken {
    static final String HEADER = "X-Flexwall-Token";
    private final byte[] key = new byte[32];

    ActionToken() {
        new SecureRandom().nextBytes(key);
    }

    String forUser(String user) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(user.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
        }
    }

    boolean valid(String user, String token) {
        return token != null && user != null && MessageDigest.isEqual(
                forUser(user).getBytes(StandardCharsets.US_ASCII), token.getBytes(StandardCharsets.US_ASCII));
    }
}
