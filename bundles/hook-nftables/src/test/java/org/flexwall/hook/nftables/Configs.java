package org.flexwall.hook.nftables;

import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;

/** Component configurations for tests: the annotation's defaults, overridden by name/value pairs. */
final class Configs {
    private Configs() {
    }

    static NftablesHook.Config config(Object... nameValues) {
        Map<String, Object> values = new HashMap<>();
        for (int i = 0; i < nameValues.length; i += 2) {
            values.put((String) nameValues[i], nameValues[i + 1]);
        }
        return (NftablesHook.Config) Proxy.newProxyInstance(NftablesHook.Config.class.getClassLoader(),
                new Class<?>[] { NftablesHook.Config.class }, (proxy, method, args) -> {
                    if (method.getName().equals("annotationType")) {
                        return NftablesHook.Config.class;
                    }
                    Object v = values.get(method.getName());
                    return v != null ? v : method.getDefaultValue();
                });
    }
}
