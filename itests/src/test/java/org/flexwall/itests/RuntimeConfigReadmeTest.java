package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * runtime-config/README.md says it lists every setting: checked against the metatype every flexwall bundle of the
 * image ships (what the console's Configuration tab shows), both ways.
 */
class RuntimeConfigReadmeTest {
    private static final Path README = Path.of("../runtime-config/README.md");
    private static final Pattern ROW = Pattern.compile("^\\| *(`([^`]+)`)? *\\| *`([^`]+)` *\\|.*");

    @Test
    void everySettingOfEveryFlexwallBundleIsInTheReadmeAndNothingElse() throws Exception {
        Set<String> shipped = new TreeSet<>();
        for (Path jar : ApplianceImage.bundles()) {
            if (jar.getFileName().toString().startsWith("flexwall-")) {
                shipped.addAll(settings(jar));
            }
        }
        assertFalse(shipped.isEmpty(), "no metatype found in the image's bundles");
        Set<String> documented = new TreeSet<>();
        String pid = null;
        for (String line : Files.readAllLines(README)) {
            Matcher m = ROW.matcher(line);
            if (m.matches()) {
                pid = m.group(2) != null ? m.group(2) : pid;
                if (pid != null && pid.startsWith("org.flexwall.")) {
                    documented.add(pid + " " + m.group(3));
                }
            }
        }
        Set<String> missing = new TreeSet<>(shipped);
        missing.removeAll(documented);
        Set<String> stale = new TreeSet<>(documented);
        stale.removeAll(shipped);
        assertEquals(Collections.emptySet(), missing, "settings the bundles have and " + README + " does not list");
        assertEquals(Collections.emptySet(), stale, "settings " + README + " lists that no bundle has");
    }

    /** "PID setting" for every attribute of every designated configuration in the jar's metatype. */
    private static Set<String> settings(Path jar) throws Exception {
        Set<String> found = new TreeSet<>();
        try (JarFile j = new JarFile(jar.toFile())) {
            for (var e : Collections.list(j.entries())) {
                if (!e.getName().startsWith("OSGI-INF/metatype/") || !e.getName().endsWith(".xml")) {
                    continue;
                }
                Document d;
                try (InputStream in = j.getInputStream(e)) {
                    d = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(in);
                }
                NodeList designates = d.getElementsByTagName("Designate");
                for (int i = 0; i < designates.getLength(); i++) {
                    Element designate = (Element) designates.item(i);
                    String pid = designate.hasAttribute("pid") ? designate.getAttribute("pid")
                            : designate.getAttribute("factoryPid");
                    NodeList ads = d.getElementsByTagName("AD");
                    for (int k = 0; k < ads.getLength(); k++) {
                        found.add(pid + " " + ((Element) ads.item(k)).getAttribute("id"));
                    }
                }
            }
        }
        return found;
    }
}
