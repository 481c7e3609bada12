package org.flexwall.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * What the launcher takes from the appliance's .bndrun (features/appliance.bndrun and the base.bndrun it includes,
 * packed into this jar at build time), so the run description is the one list: the packages the system bundle exports
 * ({@code -runsystempackages}) and the start levels ({@code -runbundles+}: {@code BSN;startlevel=N}, and
 * {@code *;startlevel=N} for every other bundle). The bundles themselves are the resolved {@code -runbundles}, which
 * the build exports into the image's bundles/ folder.
 */
record LaunchPlan(String systemPackages, Map<String, Integer> startLevels, int otherLevel) {
    static final String RUN = "appliance.bndrun";

    /** The plan of the .bndrun packed with the launcher. */
    static LaunchPlan appliance() throws LaunchException {
        return of(load(RUN));
    }

    /** The start level of the bundle {@code symbolicName}. */
    int startLevel(String symbolicName) {
        return startLevels.getOrDefault(symbolicName, otherLevel);
    }

    /** The framework's beginning start level: every bundle's level is reached. */
    int beginningLevel() {
        return startLevels.values().stream().mapToInt(Integer::intValue).reduce(otherLevel, Math::max);
    }

    static LaunchPlan of(Properties run) throws LaunchException {
        String packages = run.getProperty("-runsystempackages");
        if (packages == null || packages.isBlank()) {
            throw new LaunchException(RUN + " in the launcher sets no -runsystempackages; the image is incomplete");
        }
        Map<String, Integer> levels = new HashMap<>();
        Integer other = null;
        for (String clause : clauses(run.getProperty("-runbundles+", ""))) {
            String[] parts = clause.split(";");
            Integer level = null;
            for (int i = 1; i < parts.length; i++) {
                String[] attribute = parts[i].split("=", 2);
                if (attribute.length == 2 && attribute[0].strip().equals("startlevel")) {
                    level = Integer.valueOf(attribute[1].strip());
                }
            }
            if (level == null) {
                continue; // a decoration other than the start level
            }
            if (parts[0].strip().equals("*")) {
                other = level;
            } else {
                levels.put(parts[0].strip(), level);
            }
        }
        if (other == null) {
            throw new LaunchException(RUN + " in the launcher gives no start level for the other bundles "
                    + "(-runbundles+: *;startlevel=N); the image is incomplete");
        }
        return new LaunchPlan(String.join(",", clauses(packages)), Map.copyOf(levels), other);
    }

    /**
     * The bnd properties of {@code name} on the class path, with those of the file its {@code -include} names where it
     * sets none itself ("~": the including file wins, as bnd reads it).
     */
    static Properties load(String name) throws LaunchException {
        Properties p = new Properties();
        try (InputStream in = LaunchPlan.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new LaunchException(name + " is missing from the launcher; the image is incomplete, rebuild it");
            }
            p.load(in);
        } catch (IOException e) {
            throw new LaunchException("cannot read " + name + " in the launcher: " + e.getMessage());
        }
        String include = p.getProperty("-include");
        if (include != null) {
            Properties base = load(include.strip().replaceFirst("^~", "").replace("${.}/", ""));
            base.forEach(p::putIfAbsent);
        }
        return p;
    }

    /** The clauses of a bnd list: split at commas outside quotes, blanks removed. */
    static List<String> clauses(String list) {
        List<String> out = new ArrayList<>();
        StringBuilder b = new StringBuilder();
        boolean quoted = false;
        for (char c : list.toCharArray()) {
            if (c == '\'' || c == '"') {
                quoted = !quoted;
            }
            if (c == ',' && !quoted) {
                add(out, b);
            } else if (!Character.isWhitespace(c)) {
                b.append(c);
            }
        }
        add(out, b);
        return out;
    }

    private static void add(List<String> out, StringBuilder b) {
        if (!b.isEmpty()) {
            out.add(b.toString());
        }
        b.setLength(0);
    }
}
