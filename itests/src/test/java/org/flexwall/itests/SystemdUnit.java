package org.flexwall.itests;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The settings of an installed systemd unit file, read the simple way systemd reads them (no line continuations). */
record SystemdUnit(List<String[]> settings) {
    static SystemdUnit read(Path file) throws IOException {
        List<String[]> settings = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            String l = line.strip();
            int eq = l.indexOf('=');
            if (l.isEmpty() || l.startsWith("#") || l.startsWith(";") || l.startsWith("[") || eq < 0) {
                continue;
            }
            settings.add(new String[] { l.substring(0, eq).strip(), l.substring(eq + 1).strip() });
        }
        return new SystemdUnit(settings);
    }

    /** Every value given to {@code key}, in order. */
    List<String> values(String key) {
        return settings.stream().filter(s -> s[0].equals(key)).map(s -> s[1]).toList();
    }

    /** The values of {@code key} split into words. */
    List<String> words(String key) {
        return values(key).stream().flatMap(v -> Arrays.stream(v.split("\\s+"))).filter(w -> !w.isEmpty()).toList();
    }
}
