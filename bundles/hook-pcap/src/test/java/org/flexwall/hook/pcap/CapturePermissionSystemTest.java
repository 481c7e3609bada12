package org.flexwall.hook.pcap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.flexwall.testing.SystemTests;
import org.junit.jupiter.api.Test;

/**
 * Without the right to capture (a JVM whose capability bounding set lacks CAP_NET_RAW, as a service without it would
 * run), in a network namespace of its own, the hook reports one clear problem and stays up; it forwards nothing. Real libpcap, real interfaces (loopback).
 */
class CapturePermissionSystemTest {

    @Test
    void withoutCapNetRawTheHookReportsThatItMayNotCaptureAndStaysInactive() throws Exception {
        SystemTests.requireRoot("to drop a capability");
        SystemTests.requireTools("setpriv");
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        // in a network namespace of its own: the bridge's nft table must never touch this machine's ruleset
        Process p = new ProcessBuilder(List.of("unshare", "--net", "setpriv", "--bounding-set", "-net_raw", "--inh-caps", "-net_raw",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", classPath,
                CaptureProbe.class.getName(), "lo", "lo2")).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);

        String problem = out.lines().filter(l -> l.startsWith("problem: ")).findFirst().orElse(out);
        assertTrue(problem.contains("cannot capture on interface lo")
                && problem.contains("no permission to capture: flexwall needs root or CAP_NET_RAW"), out);
        assertTrue(out.contains("status: not active"), out);
        assertEquals(1, out.lines().filter(l -> l.startsWith("error: ")).count(), "one message in the log: " + out);
    }
}
