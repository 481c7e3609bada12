package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import jakarta.json.JsonObject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live bundle updates with {@code flexwall update BUNDLE.jar} (issue 17, item 3): new versions of the nftables hook
 * and of the packet bypass, 100 in turn, under a long TCP session, new connections and a flood of unsolicited packets
 * from the outside namespace (tcpdump records what reaches the untrusted listeners); then broken versions — a
 * truncated jar, a bundle whose activator is missing, one whose component class is missing — are refused or rolled
 * back, and the previous version runs on.
 */
class BundleUpdateSystemTest {
    private static final String NFTABLES = "org.flexwall.hook-nftables";
    private static final String BYPASS = "org.flexwall.packet-bypass";
    private static final List<String> UNTOUCHED = List.of("org.flexwall.hook-nfqueue", "org.flexwall.port-store",
            "org.flexwall.port-monitor-sockdiag", "org.flexwall.program-registry");
    @TempDir
    Path work;
    private ApplianceLab lab;

    @BeforeEach
    void startLab() throws Exception {
        OutsideNetwork.require();
        lab = ApplianceLab.start(work, JsonObject.EMPTY_JSON_OBJECT);
    }

    @AfterEach
    void stopLab() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void aHundredUpdatesOfHookAndBypassUnderTrafficKeepTheSessionOpenNothingUnsolicitedAndTheOtherBundlesRunning()
            throws Exception {
        WebConsole console = lab.console();
        Path nftables = imageJar("flexwall-hook-nftables-");
        Path bypass = imageJar("flexwall-packet-bypass-");
        Map<String, Set<String>> servicesBefore = new LinkedHashMap<>();
        for (String b : UNTOUCHED) {
            servicesBefore.put(b, console.services(b));
            assertFalse(servicesBefore.get(b).isEmpty(), b + " registers no service");
        }
        Path capture = work.resolve("update.pcap");
        Process session;
        long started = System.nanoTime();
        try (Capture c = Capture.start(capture)) {
            List<Process> flood = UntrustedTargets.flood(lab.outside);
            session = lab.startSession();
            Process prober = lab.outside.startOutside(work.resolve("prober.out"), "python3", lab.traffic("prober.py"),
                    ApplianceLab.APPLIANCE, String.valueOf(ApplianceLab.TRUSTED), "3600");
            for (int i = 0; i < 100; i++) {
                boolean hook = i % 2 == 0;
                String version = "0.1.0.u" + String.format("%03d", i);
                Path jar = rewrite(hook ? nftables : bypass, work.resolve("v" + i + ".jar"),
                        m -> withVersion(m, version), null);
                JsonObject answer = lab.flexwall("update", jar.toString());
                assertTrue(answer.getBoolean("ok"), "update " + i + ": " + answer + "\n" + lab.appliance().output());
                assertEquals(version, answer.getString("version"), answer.toString());
                assertEquals(version, console.bundle(hook ? NFTABLES : BYPASS).getString("version"));
                lab.awaitSessionFlows("after update " + i);
            }
            stopAll(List.of(prober));
            stopAll(flood);
        }
        System.out.printf("100 updates with flexwall update in %.1f s%n", (System.nanoTime() - started) / 1e9);
        System.out.println("session across the updates: " + lab.endSession(session));
        String probed = Files.readString(work.resolve("prober.out")).strip();
        System.out.println("new connections during the updates: " + probed.lines().reduce((a, b) -> b).orElse("")
                + ", answered late by the server (not counted as failed): "
                + probed.lines().filter(l -> l.startsWith("slow:")).count());
        if (!probed.matches("(?s).*ok [1-9][0-9]* failed 0")) {
            fail("new connections failed:\n" + probed + "\nwhat wan0 saw of them:\n" + seenOf(probed, capture)
                    + "\nthe appliance's warnings:\n" + lab.appliance().output().lines()
                            .filter(l -> l.contains("WARN") || l.contains("ERROR")).collect(Collectors.joining("\n")));
        }
        List<String> resent = Capture.synsSentAgain(capture, ApplianceLab.TRUSTED);
        System.out.println("new connections whose first SYN went unanswered: " + resent.size() + " " + resent);
        for (String from : resent) {
            printAround(from, capture);
        }
        // Packet bypass's updates once emptied the kernel's sets: 8 first SYNs of 289 new connections went unanswered.
        // None of 1 631 since, with two other classes' load or without; the spare is for a loaded machine's odd loss.
        int connections = Integer.parseInt(probed.replaceAll("(?s).*ok (\\d+) failed \\d+$", "$1"));
        assertTrue(resent.size() <= 1 + connections / 100, "first SYNs unanswered during the updates: " + resent);
        lab.untrusted.assertNothingGotIn(capture, 10000);
        for (String b : UNTOUCHED) {
            assertEquals(servicesBefore.get(b), console.services(b), b + " was restarted by the updates");
        }
    }

    @Test
    void aDamagedJarIsRefusedAndABundleThatFailsToStartIsRolledBackToThePreviousVersion() throws Exception {
        WebConsole console = lab.console();
        Path bypass = imageJar("flexwall-packet-bypass-");
        Path nftables = imageJar("flexwall-hook-nftables-");
        String running = console.bundle(BYPASS).getString("version");
        Process session = lab.startSession();

        byte[] whole = Files.readAllBytes(nftables);
        Path truncated = Files.write(work.resolve("truncated.jar"), Arrays.copyOf(whole, whole.length / 2));
        JsonObject refused = lab.flexwall("update", truncated.toString());
        assertFalse(refused.getBoolean("ok"), refused.toString());
        assertTrue(refused.getString("error").contains("nothing was changed"), refused.toString());

        Path noActivator = rewrite(bypass, work.resolve("no-activator.jar"), m -> {
            withVersion(m, "0.1.0.broken1");
            m.getMainAttributes().put(new Attributes.Name("Bundle-Activator"), "org.flexwall.packet.bypass.Missing");
            return m;
        }, null);
        assertRolledBack(console, lab.flexwall("update", noActivator.toString()), running);

        Path noComponentClass = rewrite(bypass, work.resolve("no-component-class.jar"),
                m -> withVersion(m, "0.1.0.broken2"),
                xml -> xml.replaceAll("class=\"[^\"]+\"", "class=\"org.flexwall.packet.bypass.Missing\""));
        assertRolledBack(console, lab.flexwall("update", noComponentClass.toString()), running);

        assertTrue(lab.probe(2).endsWith(" failed 0"), "the trusted service after the failed updates");
        lab.awaitSessionFlows("after the failed updates");
        System.out.println("session across the failed updates: " + lab.endSession(session));
        assertTrue(lab.flexwall("status").getBoolean("healthy"), lab.flexwall("status").toString());
    }

    /** A connection's packets ({@code from}: address.port), and what the appliance logged from 3 s before its SYN. */
    private void printAround(String from, Path capture) throws IOException {
        String address = from.substring(0, from.indexOf(' '));
        List<String> seen = Capture.connection(capture, address.substring(address.lastIndexOf('.') + 1));
        double at = Double.parseDouble(seen.get(0).substring(0, seen.get(0).indexOf(' ')));
        System.out.println(String.join("\n", seen));
        lab.appliance().output().lines().filter(l -> l.length() > 24 && l.charAt(4) == '-' && l.charAt(10) == 'T')
                .filter(l -> {
                    double t = Instant.parse(l.substring(0, l.indexOf(' '))).toEpochMilli() / 1000.0;
                    return t > at - 3 && t < at + 1.5;
                }).forEach(System.out::println);
    }

    /** The packets of each failed probe's connection in the capture, found by its local port. */
    private static String seenOf(String probed, Path capture) throws IOException {
        StringBuilder seen = new StringBuilder();
        Matcher failed = Pattern.compile("local port (\\d+)").matcher(probed);
        while (failed.find()) {
            seen.append(String.join("\n", Capture.connection(capture, failed.group(1)))).append('\n');
        }
        return seen.toString();
    }

    private static void assertRolledBack(WebConsole console, JsonObject answer, String running) throws Exception {
        assertFalse(answer.getBoolean("ok"), answer.toString());
        assertTrue(answer.getString("error").contains("rolled back to the previous version " + running),
                answer.toString());
        JsonObject bundle = console.bundle(BYPASS);
        assertEquals(running, bundle.getString("version"), bundle.toString());
        assertEquals("Active", bundle.getString("state"), bundle.toString());
    }

    private static Path imageJar(String prefix) {
        return ApplianceImage.bundles().stream().filter(p -> p.getFileName().toString().startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + prefix + "*.jar in the image"));
    }

    static Manifest withVersion(Manifest m, String version) {
        m.getMainAttributes().put(new Attributes.Name("Bundle-Version"), version);
        return m;
    }

    /** A copy of {@code jar} with its manifest changed, and its component descriptions changed when given. */
    static Path rewrite(Path jar, Path to, UnaryOperator<Manifest> manifest, UnaryOperator<String> components)
            throws IOException {
        try (JarFile in = new JarFile(jar.toFile());
                JarOutputStream out = new JarOutputStream(Files.newOutputStream(to),
                        manifest.apply(new Manifest(in.getManifest())))) {
            for (JarEntry e : java.util.Collections.list(in.entries())) {
                if (e.getName().equalsIgnoreCase(JarFile.MANIFEST_NAME)) {
                    continue;
                }
                out.putNextEntry(new JarEntry(e.getName()));
                try (InputStream data = in.getInputStream(e)) {
                    if (components != null && e.getName().startsWith("OSGI-INF/") && e.getName().endsWith(".xml")) {
                        out.write(components.apply(new String(data.readAllBytes(), StandardCharsets.UTF_8))
                                .getBytes(StandardCharsets.UTF_8));
                    } else {
                        data.transferTo(out);
                    }
                }
                out.closeEntry();
            }
        }
        return to;
    }

    private static void stopAll(List<Process> processes) throws InterruptedException {
        for (Process p : processes) {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
