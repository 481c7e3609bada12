package org.flexwall.testing;

import java.util.HashMap;
import java.util.Map;

import org.osgi.util.converter.Converters;

/**
 * A component's configuration annotation as Declarative Services would pass it: the OSGi Converter turns properties
 * into the annotation, so names are the configuration's property names ({@code reconcile.interval.seconds} for the
 * element {@code reconcile_interval_seconds}) and every element not given keeps its default.
 */
public final class Configs {
    private Configs() {
    }

    /** {@code type} with {@code nameValues} (property name, value, property name, value...) over its defaults. */
    public static <A> A config(Class<A> type, Object... nameValues) {
        if (nameValues.length % 2 != 0) {
            throw new IllegalArgumentException("names and values come in pairs");
        }
        Map<String, Object> properties = new HashMap<>();
        for (int i = 0; i < nameValues.length; i += 2) {
            properties.put((String) nameValues[i], nameValues[i + 1]);
        }
        return config(type, properties);
    }

    /** {@code type} with {@code properties} over its defaults. */
    public static <A> A config(Class<A> type, Map<String, ?> properties) {
        return Converters.standardConverter().convert(properties).to(type);
    }
}
