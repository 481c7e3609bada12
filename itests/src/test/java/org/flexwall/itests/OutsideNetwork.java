package org.flexwall.itests;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import org.flexwall.testing.Commands;
import org.flexwall.testing.NetnsLab;
import org.flexwall.testing.SystemTests;

/**
 * The network outside the appliance: a namespace of its own made by a test and always removed, joined by a veth pair
 * to the test JVM's namespace, where the appliance runs (see itests/netns/bin/java).
 * <pre>
 * outside namespace (out0 10.77.0.1, fd00:77::1) ── veth ── (wan0 10.77.0.2, fd00:77::2) appliance = this JVM
 * </pre>
 * Each test JVM has a namespace of its own, so the fixed addresses never meet another JVM's.
 */
final class OutsideNetwork extends NetnsLab {
    static final String OUTSIDE_V4 = "10.77.0.1";
    static final String APPLIANCE_V4 = "10.77.0.2";
    static final String OUTSIDE_V6 = "fd00:77::1";
    static final String APPLIANCE_V6 = "fd00:77::2";

    final String namespace;

    private OutsideNetwork() {
        super("fwt");
        namespace = name + "-out";
    }

    /** Whether this JVM runs as root inside its own test namespace, where making networks is allowed. */
    static boolean available() {
        return System.getenv("FLEXWALL_IN_TEST_NETNS") != null && Commands.root();
    }

    /** Fails (FLEXWALL_SYSTEM_TESTS=required) or skips the test unless {@link #available()}. */
    static void require() {
        SystemTests.require(available(), "needs root inside the test network namespace (run through Maven as root)");
    }

    static OutsideNetwork create() throws IOException {
        OutsideNetwork n = new OutsideNetwork();
        try {
            n.setUp();
            return n;
        } catch (IOException | RuntimeException e) {
            n.close();
            throw e;
        }
    }

    private void setUp() throws IOException {
        namespace("out");
        veth(null, "wan0", namespace, "out0");
        address(namespace, "out0", OUTSIDE_V4 + "/24");
        address(namespace, "out0", OUTSIDE_V6 + "/64");
        up(namespace, "out0");
        address(null, "wan0", APPLIANCE_V4 + "/24");
        address(null, "wan0", APPLIANCE_V6 + "/64");
        up(null, "wan0");
    }

    /** Runs a command in the outside namespace and waits for it (at most 10 minutes). */
    Commands.Result outside(String... argv) throws IOException {
        return Commands.run(namespace, null, argv);
    }

    /** Runs a command in the appliance's namespace (this JVM's) and waits for it. */
    static Commands.Result here(String... argv) throws IOException {
        return Commands.run(null, null, argv);
    }

    /** Starts a long-running command in the outside namespace, output discarded; it is killed on close. */
    Process startOutside(String... argv) throws IOException {
        return start(namespace, argv);
    }

    /** Starts a long-running command in the outside namespace, output to {@code output}; it is killed on close. */
    Process startOutside(Path output, String... argv) throws IOException {
        return start(namespace, output, argv);
    }

    /** Starts a long-running command here, output discarded; it is killed on close. */
    Process startHere(String... argv) throws IOException {
        return start(null, argv);
    }

    List<String> inOutside(String... argv) {
        return Commands.command(namespace, argv);
    }
}
