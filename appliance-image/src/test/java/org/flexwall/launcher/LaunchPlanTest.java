package org.flexwall.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.jar.JarFile;

import org.junit.jupiter.api.Test;

/** The launcher follows the appliance's .bndrun, packed into it at build time. */
class LaunchPlanTest {

    @Test
    void theSystemPackagesAreTheBndrunsThroughItsIncludeWithBothSlf4jVersions() throws Exception {
        LaunchPlan plan = LaunchPlan.appliance();
        List<String> packages = LaunchPlan.clauses(plan.systemPackages());
        assertTrue(packages.contains("jakarta.json;version=2.1.3"), plan.systemPackages());
        assertTrue(packages.contains("org.slf4j;version=2.0.17"), plan.systemPackages());
        assertTrue(packages.contains("org.slf4j;version=1.7.36"), plan.systemPackages());
        assertEquals(11, packages.size(), plan.systemPackages());
    }

    @Test
    void theLogServiceStartsFirstThenConfigurationThenDsThenEverythingElse() throws Exception {
        LaunchPlan plan = LaunchPlan.appliance();
        List<String> order = List.of("org.apache.felix.log", "org.apache.felix.configadmin",
                "org.apache.felix.configurator", "org.apache.felix.scr", "org.flexwall.hook-nftables");
        for (int i = 1; i < order.size(); i++) {
            assertTrue(plan.startLevel(order.get(i - 1)) < plan.startLevel(order.get(i)), order.get(i));
        }
        assertEquals(plan.startLevel("org.flexwall.hook-nftables"), plan.beginningLevel());
    }

    @Test
    void aBndrunWithoutSystemPackagesOrAStartLevelForTheOthersIsRefused() throws Exception {
        assertThrows(LaunchException.class, () -> LaunchPlan.of(properties("-runbundles+: *;startlevel=2")));
        assertThrows(LaunchException.class, () -> LaunchPlan.of(properties(
                "-runsystempackages: a;version=1\n-runbundles+: b;startlevel=1")));
        LaunchPlan quoted = LaunchPlan.of(properties(
                "-runsystempackages: a;version=\"[1,2)\", b\n-runbundles+: b;startlevel=1, *;startlevel=3"));
        assertEquals("a;version=\"[1,2)\",b", quoted.systemPackages());
        assertEquals(3, quoted.beginningLevel());
    }

    /**
     * What the .bndrun says the class path holds is what the launcher's class path (the image's lib/) holds: the
     * framework of -runfw, and the versions -runsystempackages exports for slf4j and jakarta.json. Bump both together.
     */
    @Test
    void theBndrunsFrameworkAndSystemPackageVersionsAreThoseOfTheJarsOnTheLaunchersClassPath() throws Exception {
        Properties run = LaunchPlan.load(LaunchPlan.RUN);
        String felix = bundleVersion(org.apache.felix.framework.FrameworkFactory.class);
        assertTrue(run.getProperty("-runfw").contains("[" + felix + "," + felix + "]"),
                "-runfw " + run.getProperty("-runfw") + ", on the class path: Felix " + felix);
        List<String> packages = LaunchPlan.clauses(LaunchPlan.appliance().systemPackages());
        String json = bundleVersion(jakarta.json.Json.class);
        assertTrue(packages.contains("jakarta.json;version=" + json), "jakarta.json-api " + json + ": " + packages);
        String slf4j = bundleVersion(org.slf4j.Logger.class);
        assertTrue(packages.contains("org.slf4j;version=" + slf4j), "slf4j-api " + slf4j + ": " + packages);
    }

    /** The Bundle-Version of the jar {@code type} was loaded from. */
    private static String bundleVersion(Class<?> type) throws Exception {
        Path jar = Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        try (JarFile f = new JarFile(jar.toFile())) {
            return f.getManifest().getMainAttributes().getValue("Bundle-Version");
        }
    }

    private static Properties properties(String text) throws Exception {
        Properties p = new Properties();
        p.load(new StringReader(text));
        return p;
    }
}
