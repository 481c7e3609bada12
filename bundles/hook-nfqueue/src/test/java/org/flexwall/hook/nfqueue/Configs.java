package org.flexwall.hook.nfqueue;

import java.lang.reflect.Proxy;
import java.util.Map;

/** A {@link NfqueueHook.Config} with its defaults, some of them replaced, as Declarative Services would pass it. */
final class Configs {
    private Configs() {
    }

    static NfqueueHook.Config config(Map<String, Object> overrides) {
        return (NfqueueHook.Config) Proxy.newProxyInstance(NfqueueHook.Config.class.getClassLoader(),
                new Class<?>[] { NfqueueHook.Config.class }, (proxy, method, args) -> {
                    if (method.getName().equals("annotationType")) {
                        return NfqueueHook.Config.class;
                    }
                    Object v = overrides.get(method.getName());
                    return v != null ? v : method.getDefaultValue();
                });
    }
}
