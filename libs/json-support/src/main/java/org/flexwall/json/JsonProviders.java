package org.flexwall.json;

import jakarta.json.spi.JsonProvider;

/**
 * The one JSON provider, found once. Inside OSGi the provider (Parsson) sits on the launcher's class path next to the
 * API, where the bundle's own class loader does not see it: it is looked up with the API's class loader as context.
 */
public final class JsonProviders {
    private static volatile JsonProvider provider;

    private JsonProviders() {}

    public static JsonProvider provider() {
        JsonProvider p = provider;
        if (p == null) {
            Thread t = Thread.currentThread();
            ClassLoader previous = t.getContextClassLoader();
            try {
                ClassLoader api = JsonProvider.class.getClassLoader();
                t.setContextClassLoader(api != null ? api : ClassLoader.getSystemClassLoader());
                p = JsonProvider.provider();
            } finally {
                t.setContextClassLoader(previous);
            }
            provider = p;
        }
        return p;
    }
}
