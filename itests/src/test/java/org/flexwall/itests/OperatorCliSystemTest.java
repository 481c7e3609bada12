package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.flexwall.testing.Await;
import org.flexwall.testing.Commands;
import org.flexwall.testing.NetnsLab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The flexwall command as a new user runs it, following the README: the appliance started the way run.sh starts it
 * (data outside the image), then bin/flexwall from the checkout with no --data and no FLEXWALL_DATA.
 */
class OperatorCliSystemTest {
    private static final Pattern READY = Pattern.compile("flexwall ready .*: all (\\d+) components active");

    @TempDir
    Path work;

    /** Started as run.sh starts it: data in a var/data of its own, not in the image. */
    private ApplianceProcess startLikeRunSh(Path dir) throws Exception {
        return startLikeRunSh(dir, List.of());
    }

    /** As above, with {@code prefix} in front of the command (such as ip netns exec NAME). */
    private ApplianceProcess startLikeRunSh(Path dir, List<String> prefix) throws Exception {
        int port = ApplianceImage.freePort();
        Path config = ApplianceImage.runtimeConfig(work.resolve("config"), port, null);
        Path data = work.resolve("var/data");
        if (!Files.isDirectory(data)) {
            Files.createDirectories(data);
            Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
        }
        Files.createDirectories(dir);
        ApplianceProcess appliance = ApplianceProcess.start(dir, port, prefix, "--data", data.toString(),
                "--config", config.toString());
        awaitLine(appliance, "flexwall ready");
        return appliance;
    }

    /** bin/flexwall ARGS with nothing in the environment saying where the appliance keeps its data. */
    private static Commands.Result flexwall(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(ApplianceImage.HOME.resolve("bin/flexwall").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().remove("FLEXWALL_DATA");
        pb.environment().remove("FLEXWALL_CONTROL_SOCKET");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("flexwall " + String.join(" ", args) + " did not end: " + out);
        }
        return new Commands.Result(command, p.exitValue(), out);
    }

    private static boolean tableExists() throws IOException, InterruptedException {
        return tableExists(List.of());
    }

    /** Whether table inet flexwall exists where {@code prefix} (such as ip netns exec NAME) runs nft. */
    private static boolean tableExists(List<String> prefix) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of("nft", "list", "table", "inet", "flexwall"));
        Process nft = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return nft.waitFor() == 0;
    }

    @Test
    void helpPrintsTheUsageAndNothingOfTheScript() throws Exception {
        Commands.Result help = flexwall("help");

        List<String> lines = help.output().lines().toList();
        assertAll(
                () -> assertEquals(0, help.exitCode(), help.output()),
                () -> assertTrue(lines.get(0).startsWith("flexwall — "), help.output()),
                () -> assertTrue(help.output().contains("flexwall disable | enable"), help.output()),
                () -> assertTrue(help.output().contains("--data DIR"), help.output()),
                () -> assertFalse(help.output().contains("set -") || help.output().contains("#"), help.output()));
    }

    @Test
    void commandsFindTheApplianceWhereverItKeepsItsData() throws Exception {
        try (ApplianceProcess appliance = startLikeRunSh(work.resolve("run"))) {
            Commands.Result status = flexwall("status");
            Commands.Result programs = flexwall("programs", "--data", work.resolve("var/data").toString());
            Commands.Result ports = flexwall("ports", "--json");

            assertAll(
                    () -> assertEquals(0, status.exitCode(), status.output()),
                    () -> assertTrue(status.output().contains("flexwall") && status.output().contains("running"),
                            status.output()),
                    () -> assertEquals(0, programs.exitCode(), programs.output()),
                    () -> assertTrue(programs.output().contains("No program is trusted"), programs.output()),
                    () -> assertEquals(0, ports.exitCode(), ports.output()),
                    () -> assertTrue(ApplianceImage.json(ports).getBoolean("ok"), ports.output()));
        }
    }

    @Test
    void disableThatCannotReachTheRunningApplianceRemovesNothing() throws Exception {
        Path elsewhere = Files.createDirectories(work.resolve("elsewhere"));
        try (ApplianceProcess appliance = startLikeRunSh(work.resolve("run"))) {
            assertTrue(tableExists(), "the running appliance has its table");

            Commands.Result disable = flexwall("disable", "--data", elsewhere.toString());

            assertAll(
                    () -> assertEquals(4, disable.exitCode(), disable.output()),
                    () -> assertTrue(disable.output().contains("flexwall is running (pid " + appliance.process.pid()),
                            disable.output()),
                    () -> assertTrue(disable.output().contains("not removing any rules"), disable.output()),
                    () -> assertFalse(disable.output().contains("is not running"), disable.output()),
                    () -> assertTrue(tableExists(), "table inet flexwall was left alone"));
        }
    }

    @Test
    void disableNamingAnApplianceInAnotherNetworkNamespaceRemovesItsRulesThereAndNoneOfTheCallers() throws Exception {
        NetnsLab lab = new NetnsLab("fwt-cli");
        try {
            List<String> there = Commands.command(lab.namespace("ns"));
            // the caller's own namespace has a table of that name too: another firewall's, or a stale one
            Process nft = new ProcessBuilder("nft", "-f", "-").redirectErrorStream(true).start();
            nft.getOutputStream().write("table inet flexwall { chain input { type filter hook input priority 0; }; }\n"
                    .getBytes(StandardCharsets.UTF_8));
            nft.getOutputStream().close();
            assertEquals(0, nft.waitFor(), new String(nft.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            try (ApplianceProcess appliance = startLikeRunSh(work.resolve("run"), there)) {
                assertTrue(tableExists(there), "the appliance has its table in its own namespace");

                Commands.Result disable = flexwall("disable", "--data", work.resolve("var/data").toString());

                assertAll(
                        () -> assertEquals(0, disable.exitCode(), disable.output()),
                        () -> assertFalse(tableExists(there), "the appliance's table was removed in its namespace"),
                        () -> assertTrue(tableExists(), "the caller's own table was left alone"));
            }
        } finally {
            new ProcessBuilder("nft", "delete", "table", "inet", "flexwall").start().waitFor();
            lab.close();
        }
    }

    @Test
    void applianceThatDoesNotAnswerIsReportedAsNotAnsweringNeverAsNotRunning() throws Exception {
        try (ApplianceProcess appliance = startLikeRunSh(work.resolve("run"))) {
            long pid = appliance.process.pid();
            signal("STOP", pid);
            Commands.Result status;
            try {
                status = flexwall("status");
            } finally {
                signal("CONT", pid);
            }

            assertEquals(4, status.exitCode(), status.output());
            assertTrue(status.output().contains("did not answer"), status.output());
            assertFalse(status.output().contains("not running"), status.output());
        }
    }

    @Test
    void statusAnswersWhileFiveHundredIdleConnectionsAreHeldOnTheControlSocket() throws Exception {
        try (ApplianceProcess appliance = startLikeRunSh(work.resolve("run"));
                IdleClients idle = new IdleClients(work.resolve("var/data/control.sock"), 500)) {
            long start = System.nanoTime();
            Commands.Result status = flexwall("status");
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            System.out.println("flexwall status with " + idle.size() + " idle connections held: " + millis + " ms");

            assertEquals(0, status.exitCode(), status.output());
            assertTrue(status.output().contains("components") && status.output().contains("all active"),
                    status.output());
            assertEquals(500, idle.size(), "the idle connections were held throughout");
        }
    }

    /** Connections that send half a request and nothing more, reopened as soon as the server cuts one off. */
    private static final class IdleClients implements AutoCloseable {
        private final Path socket;
        private final List<SocketChannel> held = new ArrayList<>();
        private final Thread keeper;
        private volatile boolean running = true;

        IdleClients(Path socket, int count) throws IOException {
            this.socket = socket;
            for (int i = 0; i < count; i++) {
                held.add(open());
            }
            keeper = new Thread(this::keep, "idle-clients");
            keeper.setDaemon(true);
            keeper.start();
        }

        private SocketChannel open() throws IOException {
            SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(socket));
            try {
                c.write(ByteBuffer.wrap("{\"op\":".getBytes(StandardCharsets.UTF_8)));
                c.configureBlocking(false);
            } catch (IOException turnedAway) {
                c.close(); // the server closed it at once: reopened on the next round
            }
            return c;
        }

        private void keep() {
            ByteBuffer scratch = ByteBuffer.allocate(256);
            while (running) {
                synchronized (held) {
                    for (int i = 0; i < held.size(); i++) {
                        try {
                            SocketChannel c = held.get(i);
                            if (!c.isOpen() || c.read(scratch.clear()) != 0) {
                                c.close();
                                held.set(i, open());
                            }
                        } catch (IOException e) {
                            // cut off while reading or refused: reopened on the next round
                        }
                    }
                }
                try {
                    Thread.sleep(20); // pacing the idle clients' rounds, not synchronisation
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        int size() {
            synchronized (held) {
                return (int) held.stream().filter(SocketChannel::isOpen).count();
            }
        }

        @Override
        public void close() throws Exception {
            running = false;
            keeper.join();
            for (SocketChannel c : held) {
                c.close();
            }
        }
    }

    @Test
    void warmRestartIsReadyOnlyAfterItsHooksAndStopSaysTheTableStays() throws Exception {
        String first;
        String second;
        try (ApplianceProcess appliance = startLikeRunSh(work.resolve("first"))) {
            first = appliance.output();
        }
        String firstStopped = Files.readString(work.resolve("first/appliance.out"));
        try (ApplianceProcess appliance = startLikeRunSh(work.resolve("second"))) {
            second = appliance.output();
        }
        List<String> lines = second.lines().toList();
        int ready = indexOf(lines, "flexwall ready");
        int firewallOn = indexOf(lines, "firewall on:");
        int queueBound = indexOf(lines, "NFQUEUE 42 bound");
        List<String> stopLines = firstStopped.lines().filter(l -> !l.isBlank()).toList();

        assertAll(
                () -> assertEquals(components(first), components(second), "the same components on a warm start:\n"
                        + second),
                () -> assertTrue(firewallOn >= 0 && firewallOn < ready, second),
                () -> assertTrue(queueBound >= 0 && queueBound < ready, second),
                () -> assertFalse(first.contains("DEBUG") || second.contains("DEBUG"), second),
                () -> assertFalse(firstStopped.contains("DEBUG"), firstStopped),
                () -> assertTrue(stopLines.get(stopLines.size() - 1).startsWith("flexwall stopped; its firewall table "
                        + "inet flexwall stays in the kernel") && stopLines.get(stopLines.size() - 1).contains(
                        "flexwall disable"), firstStopped));
    }

    private static int components(String output) {
        Matcher m = READY.matcher(output);
        assertTrue(m.find(), output);
        return Integer.parseInt(m.group(1));
    }

    private static int indexOf(List<String> lines, String text) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(text)) {
                return i;
            }
        }
        return -1;
    }

    private static void signal(String name, long pid) throws IOException, InterruptedException {
        assertEquals(0, new ProcessBuilder("kill", "-" + name, Long.toString(pid)).start().waitFor());
    }

    /** Waits until the appliance has logged a line containing {@code text}. */
    static void awaitLine(ApplianceProcess appliance, String text) throws Exception {
        Await.until("'" + text + "' logged", Duration.ofSeconds(90), () -> {
            if (!appliance.output().contains(text) && !appliance.process.isAlive()) {
                throw new AssertionError("flexwall exited with " + appliance.process.exitValue() + ":\n"
                        + appliance.output());
            }
            return appliance.output().contains(text);
        }, appliance::output);
    }
}
