package org.flexwall.testing;

import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Assumptions;

/**
 * What a system test needs from the machine: root, network namespaces, tools. When {@code FLEXWALL_SYSTEM_TESTS=required}
 * (environment, or the system property {@code flexwall.systemTests}; test.sh and so CI set it) a missing need fails
 * the test with a message saying what is missing; otherwise the test is skipped, so a developer without root can still
 * run the unit tests.
 */
public final class SystemTests {
    /** The environment variable (and, lower-cased with a dot, the system property) that makes needs mandatory. */
    public static final String VARIABLE = "FLEXWALL_SYSTEM_TESTS";

    private SystemTests() {
    }

    /** Whether system tests must run here rather than skip. */
    public static boolean required() {
        String v = System.getProperty("flexwall.systemTests", System.getenv(VARIABLE));
        return "required".equals(v);
    }

    /** Fails (when required) or skips the test unless {@code met}; {@code need} says what is missing. */
    public static void require(boolean met, String need) {
        if (met) {
            return;
        }
        if (required()) {
            fail(need + " (" + VARIABLE + "=required: system tests may not skip here)");
        }
        Assumptions.abort("system test skipped: " + need);
    }

    /** Needs root. */
    public static void requireRoot(String why) {
        require(Commands.root(), "needs root: " + why);
    }

    /** Needs root and every one of {@code tools} on the PATH. */
    public static void requireRootAndTools(String... tools) {
        requireRoot("network namespaces, nftables");
        requireTools(tools);
    }

    /** Needs every one of {@code tools} on the PATH. */
    public static void requireTools(String... tools) {
        for (String tool : tools) {
            require(Commands.installed(tool), tool + " is not installed (./test.sh installs it)");
        }
    }
}
