package org.flexwall.administration.control;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.ComponentException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;

import jakarta.json.JsonObject;

/**
 * Serves {@link Operations} on the local control socket, {@code ${flexwall.data}/control.sock} unless the framework
 * property {@code flexwall.control.socket} names another path. The {@code flexwall} command talks to it through
 * {@link ControlClient}.
 */
@Component(name = "org.flexwall.administration.control", service = {}, immediate = true)
public class ControlChannel {
    public static final String SOCKET_PROPERTY = "flexwall.control.socket";
    public static final String SOCKET_NAME = "control.sock";

    @Reference(service = LoggerFactory.class)
    private Logger log;

    @Reference
    private Operations operations;

    private ControlServer server;

    /** Where the control socket of a framework with these properties lives, or null when it has no place. */
    static Path socketPath(String socketProperty, String dataProperty) {
        if (socketProperty != null && !socketProperty.isBlank()) {
            return Path.of(socketProperty.strip()).toAbsolutePath();
        }
        if (dataProperty != null && !dataProperty.isBlank()) {
            return Path.of(dataProperty.strip()).resolve(SOCKET_NAME).toAbsolutePath();
        }
        return null;
    }

    @Activate
    void activate(BundleContext context) {
        Path path = socketPath(context.getProperty(SOCKET_PROPERTY), context.getProperty("flexwall.data"));
        if (path == null) {
            String message = "the control socket has no place: neither flexwall.data nor " + SOCKET_PROPERTY
                    + " is set; start flexwall through its launcher";
            log.error(message);
            throw new ComponentException(message);
        }
        try {
            server = ControlServer.start(path, handler(operations), log::warn);
        } catch (IOException e) {
            String message = "the control socket " + path + " could not be opened, so the flexwall command cannot "
                    + "reach this instance: " + e.getMessage();
            log.error(message);
            throw new ComponentException(message, e);
        }
        log.info("control socket ready at {}", path);
    }

    @Deactivate
    void deactivate() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    /** Request line in, answer line out. */
    static UnaryOperator<String> handler(Operations operations) {
        return line -> {
            JsonObject request;
            try {
                request = JsonSupport.parse(line);
            } catch (IllegalArgumentException e) {
                return error("the request is " + e.getMessage());
            }
            return JsonSupport.line(operations.execute(request));
        };
    }

    private static String error(String message) {
        return JsonSupport.line(JsonSupport.json().createObjectBuilder().add("ok", false).add("error", message).build());
    }
}
