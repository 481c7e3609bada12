package org.flexwall.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.framework.startlevel.BundleStartLevel;

/**
 * Starts the appliance: checks configuration, data directory and console port, then runs Felix with the bundles of
 * the image. Usage: {@code flexwall run [--data DIR] [--config DIR] [--bundles DIR]}.
 */
public final class Main {

    private Main() {}

    public static void main(String[] args) {
        try {
            System.exit(run(args));
        } catch (LaunchException e) {
            System.err.println("flexwall: " + e.getMessage());
            System.exit(2);
        }
    }

    static int run(String[] args) throws LaunchException {
        Path home = Path.of(System.getProperty("flexwall.home", ".")).toAbsolutePath().normalize();
        Map<String, String> options = options(args);
        String envData = System.getenv("FLEXWALL_DATA");
        boolean defaultData = !options.containsKey("--data") && (envData == null || envData.isEmpty());
        Path data = Path.of(options.getOrDefault("--data", defaultData ? home.resolve("data").toString() : envData))
                .toAbsolutePath();
        Path configDir = Path.of(options.getOrDefault("--config", home.resolve("runtime-config").toString())).toAbsolutePath();
        Path bundleDir = Path.of(options.getOrDefault("--bundles", home.resolve("bundles").toString())).toAbsolutePath();

        RuntimeConfig config = RuntimeConfig.load(configDir, "--config");
        Preflight.dataDirectory(data, defaultData, "--data or FLEXWALL_DATA");
        String host = config.setting(RuntimeConfig.HTTP_PID, RuntimeConfig.HOST, "127.0.0.1");
        String port = config.setting(RuntimeConfig.HTTP_PID, RuntimeConfig.PORT, "8080");
        Preflight.consolePortFree(host, port, config.whereSet(RuntimeConfig.HTTP_PID));
        List<Path> jars = bundles(bundleDir);
        LaunchPlan plan = LaunchPlan.appliance();

        FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class).findFirst()
                .orElseThrow(() -> new LaunchException("no OSGi framework on the class path; the image is incomplete"));
        Framework framework = factory.newFramework(frameworkProperties(data, config, host, port, plan));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(framework, home), "flexwall-shutdown"));
        try {
            framework.init();
            List<Bundle> installed = install(framework.getBundleContext(), jars, ImageRecord.load(data), plan);
            framework.start();
            // In the .bndrun's start order (-runbundles+): the log service first, so every later bundle's messages
            // reach the operator log; then configuration.
            installed.sort(Comparator.comparingInt(b -> plan.startLevel(b.getSymbolicName())));
            for (Bundle b : installed) {
                startBundle(b);
            }
        } catch (BundleException e) {
            throw new LaunchException("the OSGi framework could not start: " + e.getMessage());
        }
        System.out.println("flexwall: console on http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port
                + "/system/console, data in " + data);
        try {
            FrameworkEvent end = framework.waitForStop(0);
            return end.getType() == FrameworkEvent.ERROR ? 1 : 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    /**
     * The framework properties of the appliance for a data directory and a runtime-config folder, for runtimes
     * started other than through {@link #main}, such as the OSGi integration tests.
     */
    public static Map<String, String> frameworkProperties(Path data, Path configDir) throws LaunchException {
        RuntimeConfig config = RuntimeConfig.load(configDir, "configuration directory");
        return frameworkProperties(data, config, config.setting(RuntimeConfig.HTTP_PID, RuntimeConfig.HOST, "127.0.0.1"),
                config.setting(RuntimeConfig.HTTP_PID, RuntimeConfig.PORT, "8080"), LaunchPlan.appliance());
    }

    private static Map<String, String> frameworkProperties(Path data, RuntimeConfig config, String host, String port,
            LaunchPlan plan) {
        Map<String, String> p = new HashMap<>();
        p.put(Constants.FRAMEWORK_STORAGE, data.resolve("felix-cache").toString());
        // Libraries on the launcher's class path, shared with the bundles through the system bundle: their providers
        // are found by ServiceLoader, which in a framework without SPI Fly sees only the class path.
        p.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, plan.systemPackages());
        p.put(Constants.FRAMEWORK_BEGINNING_STARTLEVEL, String.valueOf(plan.beginningLevel()));
        p.put("flexwall.data", data.toString());
        // Configuration set in the console lives in DATA, not in Config Admin's bundle cache: it survives an upgrade
        // that brings a new Config Admin (a new bundle location, whose cache would start empty).
        p.put("felix.cm.dir", data.resolve("configuration").toString());
        p.put("configurator.initial", config.initialUrls());
        // The console answers only once flexwall's security provider is there; admin/admin is never accepted.
        p.put("felix.webconsole.security.providers", "flexwall");
        p.put("felix.webconsole.username", randomSecret());
        p.put("felix.webconsole.password", randomSecret());
        // Jetty starts before configuration arrives: give it the configured address from the first moment.
        p.put(RuntimeConfig.HOST, host);
        p.put(RuntimeConfig.PORT, port.trim());
        p.put("org.osgi.service.log.admin.loglevel", "WARN");
        if (System.console() == null) {
            p.put("gosh.args", "--nointeractive"); // without a terminal the shell would stop the framework
        }
        return p;
    }

    private static List<Path> bundles(Path dir) throws LaunchException {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> jars = s.filter(f -> f.toString().endsWith(".jar")).sorted().toList();
            if (jars.isEmpty()) {
                throw new LaunchException("no bundles in " + dir + " (--bundles); the image is incomplete, rebuild it");
            }
            return jars;
        } catch (IOException e) {
            throw new LaunchException("cannot read the bundle directory " + dir + " (--bundles): " + e.getMessage());
        }
    }

    /**
     * Installs the image's bundles, updates those whose jar is not the one last installed from the image (an upgrade,
     * a rebuild), removes those gone. A bundle updated while running ({@code flexwall update}, the console) keeps its
     * revision across restarts until the image brings another jar for it.
     */
    private static List<Bundle> install(BundleContext context, List<Path> jars, ImageRecord record, LaunchPlan plan)
            throws BundleException, LaunchException {
        Map<String, Bundle> previous = new HashMap<>();
        for (Bundle b : context.getBundles()) {
            if (b.getBundleId() != 0) {
                previous.put(b.getLocation(), b);
            }
        }
        List<Bundle> installed = new ArrayList<>();
        for (Path jar : jars) {
            String location = jar.toUri().toString();
            String digest = ImageRecord.digest(jar);
            Bundle b = previous.remove(location);
            if (b == null) {
                b = context.installBundle(location);
            } else if (record.changed(location, digest, jar.toFile().lastModified() > b.getLastModified())) {
                b.update();
            }
            record.put(location, digest);
            installed.add(b);
            // A warm start starts bundles by level, not in our loop: the log service first, or the configurator
            // prints its DEBUG lines to standard output.
            b.adapt(BundleStartLevel.class).setStartLevel(plan.startLevel(b.getSymbolicName()));
        }
        for (Bundle gone : previous.values()) {
            if (gone.getLocation().startsWith("file:")) {
                gone.uninstall();
            }
        }
        record.save();
        return installed;
    }

    private static void startBundle(Bundle b) {
        if (b.getHeaders().get(Constants.FRAGMENT_HOST) != null) {
            return;
        }
        try {
            b.start();
        } catch (BundleException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            System.err.println("flexwall: bundle " + b.getSymbolicName() + " did not start: " + e.getMessage()
                    + (cause == e ? "" : " caused by " + cause));
        }
    }

    private static void stop(Framework framework, Path home) {
        try {
            framework.stop();
            framework.waitForStop(15_000);
        } catch (BundleException | InterruptedException e) {
            System.err.println("flexwall: clean stop failed: " + e.getMessage());
        }
        System.out.println(firewallLeftBehind()
                ? "flexwall stopped; its firewall table inet flexwall stays in the kernel and keeps dropping unsolicited "
                        + "inbound packets. To remove it: " + home.resolve("bin/flexwall") + " disable"
                : "flexwall stopped; no flexwall firewall table is left in the kernel");
    }

    /** Whether the kernel still holds flexwall's table (also when nft cannot tell: say so rather than not). */
    private static boolean firewallLeftBehind() {
        try {
            Process nft = new ProcessBuilder("nft", "list", "table", "inet", "flexwall")
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!nft.waitFor(5, TimeUnit.SECONDS)) {
                nft.destroyForcibly();
                return true;
            }
            return nft.exitValue() == 0;
        } catch (IOException e) {
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        }
    }

    private static Map<String, String> options(String[] args) throws LaunchException {
        Map<String, String> options = new HashMap<>();
        int i = 0;
        if (args.length > 0 && args[0].equals("run")) {
            i = 1;
        }
        for (; i < args.length; i++) {
            String name = args[i];
            if (!List.of("--data", "--config", "--bundles").contains(name) || i + 1 >= args.length) {
                throw new LaunchException("unknown option " + name + "; usage: flexwall run [--data DIR] "
                        + "[--config DIR] [--bundles DIR]");
            }
            options.put(name, args[++i]);
        }
        return options;
    }

    private static String randomSecret() {
        byte[] b = new byte[24];
        new SecureRandom().nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
