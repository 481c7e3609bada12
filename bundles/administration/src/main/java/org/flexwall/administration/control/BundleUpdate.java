package org.flexwall.administration.control;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

/**
 * {@code flexwall update BUNDLE.jar}: replaces the running revision of one implementation bundle with the jar's and
 * checks that it starts and that each of its components that worked before works again; otherwise the previous
 * revision is put back. Implementation bundles export nothing, so no other bundle is stopped or refreshed; the
 * kernel's rules stay in place while a hook bundle is replaced, so filtering never stops.
 */
final class BundleUpdate {
    /** How long the new revision's components get to come up. */
    static final long SETTLE_MILLIS = TimeUnit.SECONDS.toMillis(15);

    private final BundleContext context;
    private final ServiceComponentRuntime scr;

    BundleUpdate(BundleContext context, ServiceComponentRuntime scr) {
        this.context = context;
        this.scr = scr;
    }

    /** What happened, for the operator; {@code ok} false when nothing changed or the update was rolled back. */
    record Outcome(boolean ok, String symbolicName, String previousVersion, String version, String message) {}

    Outcome update(Path jar) {
        byte[] bytes;
        Manifest manifest;
        try {
            bytes = Files.readAllBytes(jar);
            manifest = wholeJar(jar) ? manifestOf(bytes) : null;
        } catch (IOException e) {
            return refused(null, "cannot read " + jar + ": " + e.getMessage() + "; nothing was changed");
        }
        if (manifest == null) {
            return refused(null, jar + " is not a bundle: it is no jar, or a damaged one, or has no manifest; "
                    + "nothing was changed");
        }
        String name = symbolicName(manifest);
        if (name == null) {
            return refused(null, jar + " has no Bundle-SymbolicName: it is not an OSGi bundle; nothing was changed");
        }
        Bundle bundle = installed(name);
        if (bundle == null) {
            return refused(name, "no bundle " + name + " is installed; `flexwall update` replaces a running bundle "
                    + "(install new ones from the console's Bundles tab)");
        }
        if (bundle.getBundleId() == context.getBundle().getBundleId()) {
            return refused(name, "the administration bundle carries this command and cannot replace itself from "
                    + "within; update it from the console's Bundles tab");
        }
        String exports = bundle.getHeaders("").get(Constants.EXPORT_PACKAGE);
        if (exports != null && !exports.isBlank()) {
            return refused(name, name + " exports packages: replacing it would restart the bundles that use them; "
                    + "`flexwall update` replaces implementation bundles only (use the console, then refresh)");
        }
        String before = bundle.getVersion().toString();
        Map<String, Boolean> working = components(bundle);
        byte[] previous;
        try {
            previous = currentRevision(bundle);
        } catch (IOException e) {
            return refused(name, "cannot keep a copy of the running " + name + " to go back to: " + e.getMessage()
                    + "; nothing was changed");
        }
        String failure = replace(bundle, bytes, working);
        if (failure == null) {
            return new Outcome(true, name, before, bundle.getVersion().toString(), "updated " + name + " from "
                    + before + " to " + bundle.getVersion() + "; its components are up again");
        }
        String back = replace(bundle, previous, working);
        return new Outcome(false, name, before, bundle.getVersion().toString(), "the new " + name + " failed: "
                + failure + "; " + (back == null ? "rolled back to the previous version " + before + ", which runs again"
                        : "rolling back to " + before + " failed too: " + back + "; the log says more"));
    }

    /** Puts {@code bytes} in place of the bundle's revision; null when it runs, else what failed. */
    private String replace(Bundle bundle, byte[] bytes, Map<String, Boolean> working) {
        try {
            bundle.update(new ByteArrayInputStream(bytes));
        } catch (BundleException | IllegalStateException e) {
            return "it was refused or did not start: " + e.getMessage()
                    + (e.getCause() == null ? "" : " (" + e.getCause() + ")");
        }
        if (bundle.getState() != Bundle.ACTIVE) {
            try {
                bundle.start(); // once more, to learn why it does not start (the update logs it only)
            } catch (BundleException | IllegalStateException e) {
                return "it did not start: " + e.getMessage() + (e.getCause() == null ? "" : " (" + e.getCause() + ")");
            }
        }
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SETTLE_MILLIS);
        while (true) {
            String problem = componentProblem(bundle, working);
            if (problem == null) {
                return servicesProblem(bundle);
            }
            if (System.nanoTime() - end > 0 || problem.contains("failed")) {
                return problem;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted while waiting for its components";
            }
        }
    }

    /** Each component of the bundle by name: whether it works now (satisfied or active). */
    private Map<String, Boolean> components(Bundle bundle) {
        Map<String, Boolean> states = new LinkedHashMap<>();
        if (scr == null) {
            return states;
        }
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs(bundle)) {
            boolean works = scr.isComponentEnabled(d) && !scr.getComponentConfigurationDTOs(d).isEmpty()
                    && scr.getComponentConfigurationDTOs(d).stream().allMatch(c -> c.state == ComponentConfigurationDTO.SATISFIED
                            || c.state == ComponentConfigurationDTO.ACTIVE);
            states.put(d.name, works);
        }
        return states;
    }

    /** null when every component that worked before works again and none failed to activate. */
    private String componentProblem(Bundle bundle, Map<String, Boolean> before) {
        if (scr == null) {
            return null;
        }
        List<String> waiting = new ArrayList<>();
        Map<String, ComponentDescriptionDTO> now = new LinkedHashMap<>();
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs(bundle)) {
            now.put(d.name, d);
            for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                if (c.state == ComponentConfigurationDTO.FAILED_ACTIVATION) {
                    return "its component " + d.name + " failed to activate: " + c.failure;
                }
            }
        }
        for (Map.Entry<String, Boolean> e : before.entrySet()) {
            if (!e.getValue()) {
                continue;
            }
            if (!now.containsKey(e.getKey())) {
                return "its component " + e.getKey() + " failed: it is gone from the new version";
            }
            if (!components(bundle).getOrDefault(e.getKey(), false)) {
                waiting.add(e.getKey());
            }
        }
        return waiting.isEmpty() ? null : "its components " + waiting + " did not come up within "
                + SETTLE_MILLIS / 1000 + " s";
    }

    /**
     * Gets each service the bundle's components offer once: a delayed component is created only when used, and a
     * class that cannot load or an activate method that throws shows only then. null when each could be had.
     */
    private String servicesProblem(Bundle bundle) {
        if (scr == null) {
            return null;
        }
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs(bundle)) {
            for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                if (d.serviceInterfaces.length == 0 || c.state != ComponentConfigurationDTO.SATISFIED) {
                    continue;
                }
                ServiceReference<?>[] refs;
                try {
                    refs = context.getServiceReferences((String) null, "(component.id=" + c.id + ")");
                } catch (InvalidSyntaxException e) {
                    throw new IllegalStateException(e);
                }
                for (ServiceReference<?> ref : refs == null ? new ServiceReference<?>[0] : refs) {
                    Object service = context.getService(ref);
                    if (service == null) {
                        String why = scr.getComponentConfigurationDTOs(d).stream().map(x -> x.failure)
                                .filter(f -> f != null).findFirst().orElse("see the log");
                        return "its component " + d.name + " failed to activate: " + why;
                    }
                    context.ungetService(ref);
                }
            }
        }
        return null;
    }

    private Bundle installed(String symbolicName) {
        for (Bundle b : context.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        return null;
    }

    /** The running revision as a jar (its manifest first), to go back to: read through the framework. */
    static byte[] currentRevision(Bundle bundle) throws IOException {
        URL manifestEntry = bundle.getEntry("META-INF/MANIFEST.MF");
        if (manifestEntry == null) {
            throw new IOException("the running revision has no manifest");
        }
        Manifest manifest;
        try (InputStream in = manifestEntry.openStream()) {
            manifest = new Manifest(in);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JarOutputStream jar = new JarOutputStream(out, manifest)) {
            copyEntries(bundle, "/", jar);
        }
        return out.toByteArray();
    }

    private static void copyEntries(Bundle bundle, String dir, JarOutputStream jar) throws IOException {
        Enumeration<URL> entries = bundle.findEntries(dir, "*", true);
        while (entries != null && entries.hasMoreElements()) {
            URL entry = entries.nextElement();
            String path = entry.getPath().startsWith("/") ? entry.getPath().substring(1) : entry.getPath();
            if (path.endsWith("/") || path.equalsIgnoreCase("META-INF/MANIFEST.MF")) {
                continue;
            }
            jar.putNextEntry(new JarEntry(path));
            try (InputStream in = entry.openStream()) {
                in.transferTo(jar);
            }
            jar.closeEntry();
        }
    }

    /** Whether the jar's central directory is intact and every entry inflates: a truncated jar has neither. */
    static boolean wholeJar(Path jar) {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            byte[] skip = new byte[8192];
            for (ZipEntry e : java.util.Collections.list(zip.entries())) {
                try (InputStream in = zip.getInputStream(e)) {
                    while (in.read(skip) >= 0) {
                        // read to the end: a damaged entry fails to inflate
                    }
                }
            }
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The jar's manifest, reading every entry so a damaged jar shows now rather than in the framework; else null. */
    static Manifest manifestOf(byte[] bytes) {
        try (JarInputStream in = new JarInputStream(new ByteArrayInputStream(bytes), true)) {
            Manifest m = in.getManifest();
            byte[] skip = new byte[8192];
            for (JarEntry e; (e = in.getNextJarEntry()) != null; ) {
                while (in.read(skip) >= 0) {
                    // the entry's CRC is checked at its end
                }
            }
            return m;
        } catch (IOException | SecurityException e) {
            return null;
        }
    }

    static String symbolicName(Manifest manifest) {
        String value = manifest.getMainAttributes().getValue(new Attributes.Name(Constants.BUNDLE_SYMBOLICNAME));
        if (value == null || value.isBlank()) {
            return null;
        }
        int semicolon = value.indexOf(';');
        return (semicolon < 0 ? value : value.substring(0, semicolon)).strip();
    }

    private static Outcome refused(String name, String message) {
        return new Outcome(false, name, null, null, message);
    }
}
