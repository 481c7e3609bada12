package org.flexwall.administration.console;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import org.apache.felix.webconsole.spi.SecurityProvider;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
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
 * the Web Console's built-in admin/admin never applies. The Web Console asks it first for every request it serves,
 * its resources included, which makes it the one place for the Host and origin checks too: a whiteboard filter would
 * run only after the Web Console's own security check.
 */
@Component(name = ConsoleSecurity.PID, service = {}) // the provider is registered by hand, see activate
@Designate(ocd = ConsoleSecurity.Config.class)
public class ConsoleSecurity implements SecurityProvider {
    static final String PID = "org.flexwall.administration.console";
    static final String PROVIDER_ID = "flexwall";

    @ObjectClassDefinition(name = "flexwall console login", description = "Who may log in to the Web Console, and "
            + "under which names it may be reached")
    public @interface Config {
        @AttributeDefinition(name = "User name", description = "User name for the console")
        String username() default "admin";

        @AttributeDefinition(name = "Password hash", description = "Optional pbkdf2-sha256$ITERATIONS$SALT$HASH line; "
                + "when empty the hash in the data directory is used (generated on first start)")
        String password_hash() default "";

        @AttributeDefinition(name = "Allowed host names",
                description = "Host names (name, or name:port) under which the "
                + "console may be reached besides 127.0.0.1, localhost, [::1], its configured address and the address "
                + "a request arrived at; any other Host header is refused (DNS rebinding)")
        String[] allowed_hosts() default {};
    }

    @Reference(service = LoggerFactory.class)
    private Logger log;

    private final LoginThrottle throttle = new LoginThrottle(System::nanoTime, LoginThrottle.HOLD_BACK_MILLIS);
    private volatile ConsoleLogin login;
    private volatile ConsoleGuard guard;
    private ServiceRegistration<SecurityProvider> provider;

    /**
     * Registers the provider by hand, with properties that never change. The Web Console requires it and takes the
     * whole console away whenever its service goes or changes (OsgiManager: modified is removed, then added): a 404
     * where the login was. DS would copy every new configuration into a service's properties, and the appliance's
     * own configuration arrives after the first activation.
     */
    @Activate
    void activate(BundleContext context, Config config) {
        configure(context, config);
        provider = context.registerService(SecurityProvider.class, this, FrameworkUtil.asDictionary(Map.of(
                SecurityProvider.PROPERTY_ID, PROVIDER_ID, Constants.SERVICE_RANKING, Integer.MAX_VALUE)));
    }

    @Deactivate
    void deactivate() {
        provider.unregister();
    }

    /** A new configuration (an operator's, or the appliance's own arriving after the first), applied in place. */
    @Modified
    void configure(BundleContext context, Config config) {
        String data = context.getProperty("flexwall.data");
        ConsoleCredentials.Outcome outcome = data == null
                ? new ConsoleCredentials.Outcome(null, "the framework property flexwall.data is not set, so the console "
                        + "password cannot be stored; start flexwall through its launcher", true)
                : ConsoleCredentials.establish(Path.of(data), config.username(), config.password_hash(),
                        System.getenv(ConsoleCredentials.ENV_PASSWORD));
        login = new ConsoleLogin(config.username(), outcome.hash(), throttle, PasswordHash::matches, log::warn);
        guard = new ConsoleGuard(context.getProperty("org.apache.felix.http.host"), config.allowed_hosts());
        if (outcome.problem()) {
            log.error(outcome.message());
        } else {
            log.info(outcome.message());
        }
    }

    /**
     * Called by the Web Console before anything else for every request it serves: the Host and origin checks, then
     * the credentials. Returns null, with the answer already written, when the request goes no further.
     */
    @Override
    public Object authenticate(HttpServletRequest request, HttpServletResponse response) {
        ConsoleGuard.secureHeaders(response);
        String refusal = guard.refusal(request);
        if (refusal != null) {
            log.warn("refused a console request from {}: {} {} (Host {}, Origin {}, Referer {}): {}",
                    request.getRemoteAddr(), request.getMethod(), clip(request.getRequestURI()),
                    clip(request.getHeader("Host")), clip(request.getHeader("Origin")),
                    clip(request.getHeader("Referer")), refusal);
            answer(response, HttpServletResponse.SC_FORBIDDEN, refusal);
            return null;
        }
        ConsoleLogin.Attempt attempt;
        try {
            attempt = login.attempt(request.getHeader("Authorization"), request.getRemoteAddr());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            attempt = new ConsoleLogin.Attempt(null, new LoginThrottle.Refusal(1, "interrupted"));
        }
        if (attempt.user() != null) {
            request.setAttribute("org.osgi.service.http.authentication.type", "BASIC");
            request.setAttribute("org.osgi.service.http.authentication.remote.user", attempt.user());
            return attempt.user();
        }
        if (attempt.throttled() != null) {
            response.setHeader("Retry-After", Long.toString(attempt.throttled().retryAfterSeconds()));
            answer(response, 429, attempt.throttled().reason() + "; try again in "
                    + attempt.throttled().retryAfterSeconds() + " s");
            return null;
        }
        response.setHeader("WWW-Authenticate", "Basic realm=\"flexwall console\", charset=\"UTF-8\"");
        response.setStatus(HttpServletResponse.SC_UNAUTHORIZED);
        response.setContentLength(0);
        return null;
    }

    @Override
    public boolean authorize(Object user, String role) {
        return user != null;
    }

    @Override
    public void logout(HttpServletRequest request, HttpServletResponse response) {
        login.forgetVerified();
    }

    private static void answer(HttpServletResponse response, int status, String text) {
        byte[] body = (text + "\n").getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.setContentType("text/plain;charset=UTF-8");
        response.setContentLength(body.length);
        try {
            response.getOutputStream().write(body);
        } catch (IOException e) {
            // the client left; the refusal stands
        }
    }

    private static String clip(String value) {
        if (value == null) {
            return "-";
        }
        String v = value.replaceAll("\\p{Cntrl}", "?");
        return v.length() > 100 ? v.substring(0, 100) + "…" : v;
    }
}
