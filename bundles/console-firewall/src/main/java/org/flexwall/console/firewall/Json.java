package org.flexwall.console.firewall;

import jakarta.json.spi.JsonProvider;

/** The JSON provider (Parsson) sits on the launcher's class path next to the API: looked up with the API's loader. */
final class Json {
    private Json() {}

    static JsonProvider provider() {
        Thread t = Thread.currentThread();
        ClassLoader previous = t.getContextClassLoader();
        try {
            ClassLoader api = JsonProvider.class.getClassLoader();
            t.setContextClassLoader(api != null ? api : ClassLoader.getSystemClassLoader());
            return JsonProvider.provider();
        } finally {
            t.setContextClassLoader(previous);
        }
    }
}
