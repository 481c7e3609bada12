package org.flexwall.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.util.List;
import java.util.Properties;

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

    private static Properties properties(String text) throws Exception {
        Properties p = new Properties();
        p.load(new StringReader(text));
        return p;
    }
}
