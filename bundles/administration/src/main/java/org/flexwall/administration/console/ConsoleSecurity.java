package org.flexwall.administration.console;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.felix.webconsole.spi.SecurityProvider;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The only way into the Web Console. The launcher makes this provider required
 * ({@code felix.webconsole.security.providers=flexwall}), so the console stays closed until it is registered, and
 * the Web Console's built-in admin/admin never applies.
 */
@Component(name = ConsoleSecurity.PID, property = {
        SecurityProvider.PROPERTY_ID + "=" + ConsoleSecurity.PROVIDER_ID,
        Constants.SERVICE_RANKING + ":Integer=" + Integer.MAX_VALUE })
@Designate(ocd = ConsoleSecurity.Config.class)
public class ConsoleSecurity implements SecurityProvider {
    static final String PID = "org.flexwall.administration.console";
    static final String PROVIDER_ID = "flexwall";
    private static final int VERIFIED_CACHE_LIMIT = 32;

    @ObjectClassDefinition(name = "flexwall console login", description = "Who may log in to the Web Console")
    public @interface Config {
        @AttributeDefinition(description = "User name for the console")
        String username() default "admin";

        @AttributeDefinition(name = "password.hash", description = "Optional pbkdf2-sha256$ITERATIONS$SALT$HASH line; "
                + "when empty the hash in the data directory is used (generated on first start)")
        String password_hash() default "";
    }

    @Reference(service = LoggerFactory.class)
    private Logger log;

    private String username;
    private volatile PasswordHash hash;
    // PBKDF2 costs ~0.1 s and Basic auth repeats on every request: remember digests of headers already verified.
    private final Set<String> verified = ConcurrentHashMap.newKeySet();

    @Activate
    void activate(BundleContext context, Config config) {
        username = config.username();
        String data = context.getProperty("flexwall.data");
        ConsoleCredentials.Outcome outcome = data == null
                ? new ConsoleCredentials.Outcome(null, "the framework property flexwall.data is not set, so the console "
                        + "password cannot be stored; start flexwall through its launcher", true)
                : ConsoleCredentials.establish(Path.of(data), username, config.password_hash(),
                        System.getenv(ConsoleCredentials.ENV_PASSWORD));
        hash = outcome.hash();
        if (outcome.problem()) {
            log.error(outcome.message());
        } else {
            log.info(outcome.message());
        }
    }

    @Override
    public Object authenticate(HttpServletRequest request, HttpServletResponse response) {
        String user = check(request.getHeader("Authorization"));
        if (user != null) {
            request.setAttribute("org.osgi.service.http.authentication.type", "BASIC");
            request.setAttribute("org.osgi.service.http.authentication.remote.user", user);
            return user;
        }
        response.setHeader("WWW-Authenticate", "Basic realm=\"flexwall console\", charset=\"UTF-8\"");
        response.setStatus(HttpServletResponse.SC_UNAUTHORIZED);
        response.setContentLength(0);
        return null;
    }

    /** The user name when the Basic credentials are right, else null. */
    String check(String authorization) {
        PasswordHash current = hash;
        if (current == null || authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return null;
        }
        String digest = Base64.getEncoder().encodeToString(PasswordHash.sha256(authorization));
        if (verified.contains(digest)) {
            return username;
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
        int colon = decoded.indexOf(':');
        if (colon < 0 || !decoded.substring(0, colon).equals(username)
                || !current.matches(decoded.substring(colon + 1).toCharArray())) {
            String tried = decoded.substring(0, Math.max(colon, 0)).replaceAll("\\p{Cntrl}", "?");
            log.warn("refused a console login for user '{}'", tried.length() > 64 ? tried.substring(0, 64) : tried);
            return null;
        }
        if (verified.size() >= VERIFIED_CACHE_LIMIT) {
            verified.clear();
        }
        verified.add(digest);
        return username;
    }

    @Override
    public boolean authorize(Object user, String role) {
        return user != null;
    }

    @Override
    public void logout(HttpServletRequest request, HttpServletResponse response) {
        verified.clear();
    }
}
