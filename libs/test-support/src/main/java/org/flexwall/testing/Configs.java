package org.flexwall.testing;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

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

    /**
     * {@code type} with {@code properties} over its defaults. A name that is no element's property name fails: the
     * Converter would drop it, and the test would run with the default instead.
     */
    public static <A> A config(Class<A> type, Map<String, ?> properties) {
        Set<String> names = Arrays.stream(type.getDeclaredMethods()).map(m -> propertyName(m.getName()))
                .collect(Collectors.toSet());
        for (String name : properties.keySet()) {
            if (!names.contains(name)) {
                throw new IllegalArgumentException(type.getName() + " has no property " + name + "; it has " + names);
            }
        }
        return Converters.standardConverter().convert(properties).to(type);
    }

    /** The property an element stands for, as Declarative Services maps names ($_$ is '-', $$ '$', __ '_', _ '.'). */
    static String propertyName(String element) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < element.length(); i++) {
            char c = element.charAt(i);
            if (element.startsWith("$_$", i)) {
                b.append('-');
                i += 2;
            } else if (element.startsWith("$$", i)) {
                b.append('$');
                i++;
            } else if (c == '$') {
                continue;
            } else if (element.startsWith("__", i)) {
                b.append('_');
                i++;
            } else {
                b.append(c == '_' ? '.' : c);
            }
        }
        return b.toString();
    }
}
