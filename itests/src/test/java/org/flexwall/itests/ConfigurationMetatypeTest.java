package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Every flexwall setting can be edited in the console's Configuration tab with a label and a description: read from
 * the component and metatype descriptions bnd generated into each flexwall bundle of the appliance image.
 */
class ConfigurationMetatypeTest {
    /** Component properties that are service properties, not settings an operator edits. */
    private static final Set<String> SERVICE_PROPERTIES = Set.of("service.ranking", "osgi.command.scope",
            "osgi.command.function", "flexwall.stage", "flexwall.monitor", "webconsole.security.provider.id");

    record Attribute(String id, String type, String name, String description, String min, String max,
            List<String> options) {}

    record Ocd(String name, String description, Map<String, Attribute> attributes) {}

    @Test
    void everySettingOfEveryFlexwallComponentHasAMetatypeWithALabelAndADescription() throws Exception {
        Map<String, Ocd> designated = new HashMap<>();      // configuration PID -> its definition
        Map<String, List<String>> settings = new LinkedHashMap<>(); // configuration PID -> settings its component reads
        for (Path jar : ApplianceImage.bundles()) {
            if (!jar.getFileName().toString().startsWith("flexwall-")) {
                continue;
            }
            try (JarFile j = new JarFile(jar.toFile())) {
                for (Enumeration<? extends ZipEntry> e = j.entries(); e.hasMoreElements(); ) {
                    ZipEntry entry = e.nextElement();
                    if (entry.getName().startsWith("OSGI-INF/metatype/") && entry.getName().endsWith(".xml")) {
                        metatype(read(j, entry), designated);
                    } else if (entry.getName().matches("OSGI-INF/[^/]+\\.xml")) {
                        component(read(j, entry), settings);
                    }
                }
            }
        }
        List<String> problems = new ArrayList<>();
        settings.forEach((pid, properties) -> {
            Ocd ocd = designated.get(pid);
            if (ocd == null) {
                problems.add(pid + ": settings " + properties + " but no metatype");
            } else {
                properties.stream().filter(p -> !ocd.attributes().containsKey(p))
                        .forEach(p -> problems.add(pid + ": setting " + p + " has no attribute definition"));
            }
        });
        designated.forEach((pid, ocd) -> {
            if (blank(ocd.name()) || blank(ocd.description())) {
                problems.add(pid + ": the definition needs a name and a description");
            }
            for (Attribute a : ocd.attributes().values()) {
                if (blank(a.name()) || blank(a.description())) {
                    problems.add(pid + "/" + a.id() + ": needs a label and a description");
                }
                if ((a.type().equals("Integer") || a.type().equals("Long")) && blank(a.min()) && blank(a.max())) {
                    problems.add(pid + "/" + a.id() + ": a number needs its range");
                }
            }
        });
        assertTrue(problems.isEmpty(), String.join("\n", problems));
        for (String pid : List.of("org.flexwall.hook.nftables", "org.flexwall.hook.nfqueue", "org.flexwall.port.store",
                "org.flexwall.port.monitor.sockdiag", "org.flexwall.stateful.icf", "org.flexwall.audit.trail",
                "org.flexwall.administration.console")) {
            assertTrue(designated.containsKey(pid), pid + " is editable in the console: " + designated.keySet());
        }
        assertEquals(List.of("firstPacket", "userspace"),
                designated.get("org.flexwall.hook.nfqueue").attributes().get("mode").options(),
                "the hook mode is a choice");
    }

    private static Document read(JarFile jar, ZipEntry entry) throws Exception {
        try (InputStream in = jar.getInputStream(entry)) {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(false);
            return f.newDocumentBuilder().parse(in);
        }
    }

    private static void metatype(Document doc, Map<String, Ocd> designated) {
        Map<String, Ocd> byId = new HashMap<>();
        for (Element ocd : elements(doc.getDocumentElement(), "OCD")) {
            Map<String, Attribute> attributes = new LinkedHashMap<>();
            for (Element ad : elements(ocd, "AD")) {
                List<String> options = elements(ad, "Option").stream().map(o -> o.getAttribute("value")).toList();
                attributes.put(ad.getAttribute("id"), new Attribute(ad.getAttribute("id"), ad.getAttribute("type"),
                        ad.getAttribute("name"), ad.getAttribute("description"), ad.getAttribute("min"),
                        ad.getAttribute("max"), options));
            }
            byId.put(ocd.getAttribute("id"), new Ocd(ocd.getAttribute("name"), ocd.getAttribute("description"),
                    attributes));
        }
        for (Element designate : elements(doc.getDocumentElement(), "Designate")) {
            String pid = designate.hasAttribute("factoryPid") ? designate.getAttribute("factoryPid")
                    : designate.getAttribute("pid");
            for (Element object : elements(designate, "Object")) {
                designated.put(pid, byId.get(object.getAttribute("ocdref")));
            }
        }
    }

    /** The settings a component reads: the defaults bnd wrote from its configuration type, under its PID. */
    private static void component(Document doc, Map<String, List<String>> settings) {
        Element c = doc.getDocumentElement();
        if (!c.getTagName().endsWith("component") || "ignore".equals(c.getAttribute("configuration-policy"))) {
            return;
        }
        String pid = c.hasAttribute("configuration-pid") ? c.getAttribute("configuration-pid") : c.getAttribute("name");
        for (Element p : elements(c, "property")) {
            String name = p.getAttribute("name");
            if (!SERVICE_PROPERTIES.contains(name) && !name.startsWith("hc.") && !name.startsWith("felix.webconsole.")) {
                settings.computeIfAbsent(pid, k -> new ArrayList<>()).add(name);
            }
        }
    }

    private static List<Element> elements(Element parent, String tag) {
        List<Element> found = new ArrayList<>();
        NodeList children = parent.getChildNodes();
        for (int i = 0; i < children.getLength(); i++) {
            if (children.item(i) instanceof Element e && (e.getTagName().equals(tag) || e.getTagName().endsWith(":" + tag))) {
                found.add(e);
            }
        }
        return found;
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
