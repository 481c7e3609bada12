package org.flexwall.osgitests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;

import org.flexwall.testing.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceEvent;
import org.osgi.framework.ServiceListener;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;

/**
 * The console's login as shipped. The launcher makes the Web Console require flexwall's security provider, and the
 * Web Console takes the whole console away whenever that provider's service goes or changes (a modified service is
 * removed, then added): a new configuration of the login (an operator's, or the appliance's own arriving after the
 * component activated) must change neither.
 */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class ConsoleSecurityInTheApplianceTest {
    static final String PID = "org.flexwall.administration.console";
    static final String PROVIDER = "(webconsole.security.provider.id=flexwall)";
    /** The Web Console's servlet context, which it registers while its required providers are there. */
    static final String CONSOLE = "(osgi.http.whiteboard.context.name=org.apache.felix.webconsole)";

    @InjectBundleContext
    BundleContext context;

    @Test
    void aNewConfigurationOfTheConsoleLoginLeavesItsSecurityProviderAndTheConsoleUntouched(
            @InjectService(timeout = 20_000) ConfigurationAdmin configurations,
            @InjectService(timeout = 20_000) ServiceComponentRuntime scr) throws Exception {
        long before = Await.value("flexwall's console security provider", Duration.ofSeconds(20), this::providerId);
        Await.value("the Web Console's servlet context", Duration.ofSeconds(20),
                () -> context.getServiceReferences((String) null, CONSOLE));
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        ServiceListener listener = e -> events.add((e.getType() == ServiceEvent.UNREGISTERING ? "unregistered "
                : e.getType() == ServiceEvent.REGISTERED ? "registered " : "modified ")
                + e.getServiceReference().getProperty(Constants.SERVICE_ID)
                + " " + Arrays.toString((String[]) e.getServiceReference().getProperty(Constants.OBJECTCLASS)));
        context.addServiceListener(listener, "(|" + PROVIDER + CONSOLE + ")");
        Configuration c = configurations.getConfiguration(PID, "?");
        try {
            Dictionary<String, Object> props = new Hashtable<>();
            props.put("allowed.hosts", new String[] { "console.example.test" });
            c.update(props);
            Await.until("the component runs with the new configuration", Duration.ofSeconds(20),
                    () -> applied(scr, "console.example.test"));

            assertEquals(List.of(), events, "the provider and the console stayed as they were");
            assertEquals(before, providerId());
        } finally {
            context.removeServiceListener(listener);
            c.delete();
        }
    }

    /** The provider's service id, or null while none is registered. */
    private Long providerId() throws Exception {
        ServiceReference<?>[] refs = context.getServiceReferences((String) null, PROVIDER);
        return refs == null ? null : (Long) refs[0].getProperty(Constants.SERVICE_ID);
    }

    private static boolean applied(ServiceComponentRuntime scr, String host) {
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs()) {
            if (d.name.equals(PID)) {
                return scr.getComponentConfigurationDTOs(d).stream().anyMatch(cc -> cc.properties.get("allowed.hosts")
                        instanceof String[] hosts && Arrays.asList(hosts).contains(host));
            }
        }
        return false;
    }
}
