package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.json.JsonObject;

import org.flexwall.testing.Await;
import org.flexwall.testing.Commands;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The installed archive started the way systemd starts it (issue 17): {@code flexwall-install} puts it in a system
 * tree of its own, then the units' own command lines run in this test's network namespace — the baseline unit's
 * ExecStart as root, then the service's ExecStartPre as root and its ExecStart as the unit's User with exactly its
 * AmbientCapabilities (setpriv: uid, gid, ambient, inheritable and bounding sets, no_new_privs), and its Restart=always
 * emulated: this machine's PID 1 is not systemd, so systemctl cannot run units here, and the file-system sandboxing
 * (ProtectSystem and the like) is not applied. The environment is the unit's alone, as under systemd. From before the
 * baseline loads, a prober in the outside namespace tries a non-permitted port every 10 ms.
 */
class InstalledApplianceSystemTest {
    private static final int TRUSTED = 7000;
    private static final int UNTRUSTED = 7011;
    /** What the nftables hook's status says with managementInterface=lo. */
    private static final String MANAGED = "SSH (tcp 22) on lo";
    private static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    /** Linux capability numbers, for reading /proc/PID/status. */
    private static final Map<Integer, String> CAPABILITIES = Map.ofEntries(Map.entry(0, "CAP_CHOWN"),
            Map.entry(1, "CAP_DAC_OVERRIDE"), Map.entry(2, "CAP_DAC_READ_SEARCH"), Map.entry(3, "CAP_FOWNER"),
            Map.entry(5, "CAP_KILL"), Map.entry(6, "CAP_SETGID"), Map.entry(7, "CAP_SETUID"),
            Map.entry(10, "CAP_NET_BIND_SERVICE"), Map.entry(12, "CAP_NET_ADMIN"), Map.entry(13, "CAP_NET_RAW"),
            Map.entry(19, "CAP_SYS_PTRACE"), Map.entry(21, "CAP_SYS_ADMIN"), Map.entry(38, "CAP_PERFMON"),
            Map.entry(39, "CAP_BPF"));
    @TempDir
    Path work;
    private OutsideNetwork outside;
    private String user;
    private Path root;
    private Path data;
    private Service service;

    @BeforeEach
    void install() throws Exception {
        OutsideNetwork.require();
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x")); // the service user's way in
        user = "fwt-" + Integer.toHexString(ThreadLocalRandom.current().nextInt());
        OutsideNetwork.here("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                "--user-group", user).check();
        root = InstallerSystemTest.systemTree(work.resolve("root"), true);
        OutsideNetwork.here(InstallerSystemTest.INSTALLER.toString(), "install",
                InstallerSystemTest.ARCHIVE.toString(), "--root", root.toString(), "--user", user).check();
        data = root.resolve("var/lib/flexwall");
        outside = OutsideNetwork.create();
        // what systemd mounts at boot (sys-kernel-tracing.mount): a service without CAP_SYS_ADMIN cannot mount it
        if (!Files.isDirectory(Path.of("/sys/kernel/tracing/instances"))) {
            OutsideNetwork.here("mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing").check();
        }
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (service != null) {
            service.close();
        }
        if (outside != null) {
            outside.close();
        }
        if (data != null) {
            ApplianceImage.flexwall(data, "disable");
        }
        if (user != null) {
            OutsideNetwork.here("pkill", "-9", "-u", user);
            OutsideNetwork.here("userdel", user);
        }
    }

    @Test
    void startedAsTheUnitsSayItIsClosedFromTheBaselineOnServesTheTrustedProgramAndSurvivesKillDashNine()
            throws Exception {
        SystemdUnit baselineUnit = SystemdUnit.read(root.resolve("etc/systemd/system/flexwall-baseline.service"));
        SystemdUnit unit = SystemdUnit.read(root.resolve("etc/systemd/system/flexwall.service"));
        assertEquals(List.of(user), unit.values("User"));
        service = new Service(unit);

        outside.startHere("python3", "-c", "import socket\n"
                + "s = socket.create_server(('0.0.0.0', " + UNTRUSTED + "))\n"
                + "while True:\n"
                + "    c = s.accept()[0]\n"
                + "    c.sendall(b'untrusted')\n"
                + "    c.close()\n");
        Await.until("the untrusted listener listening", Duration.ofSeconds(20),
                () -> !OutsideNetwork.here("ss", "-Hltn", "sport = :" + UNTRUSTED).output().isBlank());
        Path probes = work.resolve("untrusted.out");
        Process prober = outside.startOutside(probes, "python3", traffic("syn_prober.py"), OutsideNetwork.APPLIANCE_V4,
                String.valueOf(UNTRUSTED));
        // open until the baseline: the prober sees it
        Await.until("the prober reaching the untrusted listener before the baseline", Duration.ofSeconds(20),
                () -> Files.readString(probes).contains("answered by"));

        for (String command : baselineUnit.values("ExecStart")) {
            asRoot(command).check();
        }
        double baselineAt = System.currentTimeMillis() / 1000.0;
        Thread.sleep(1000); // pacing, not synchronisation: the prober meets the baseline alone for a second
        service.start();
        service.awaitReady();

        // the firewall, the port monitor and the console, with the unit's capabilities only
        long pid = service.pid();
        Map<String, String> status = procStatus(pid);
        System.out.println("the service's JVM, pid " + pid + ": Uid " + status.get("Uid") + ", CapEff "
                + status.get("CapEff") + " = " + capabilities(status.get("CapEff")));
        Set<String> granted = new TreeSet<>(unit.words("AmbientCapabilities"));
        assertEquals(granted, capabilities(status.get("CapEff")), "effective capabilities");
        assertEquals(granted, capabilities(status.get("CapBnd")), "bounding set");
        assertFalse(granted.contains("CAP_SYS_ADMIN"));
        String uid = OutsideNetwork.here("id", "-u", user).check().output().strip();
        assertEquals(List.of(uid, uid, uid, uid), List.of(status.get("Uid").split("\\s+")), "runs as " + user);
        // without CAP_SYS_NICE, the unit's LimitRTPRIO lets the tracefs reader run at SCHED_FIFO 1 (and no higher);
        // where the limit cannot be set as systemd would, the reader runs at normal priority and the log says why
        boolean limited = !service.realtimeLimit().isEmpty();
        System.out.println("LimitRTPRIO " + (limited ? "applied" : "not applied: this machine cannot raise the limit")
                + "; the tracefs reader: " + scheduling(pid, "flexwall-tracef"));
        assertEquals(limited ? "policy 1 priority 1" : "policy 0 priority 0", scheduling(pid, "flexwall-tracef"),
                "the tracefs reader thread");
        assertTrue(limited || Files.readString(service.output).contains("the tracefs reader runs at normal priority: "
                + "sched_setscheduler failed, errno 1 (EPERM"), "the log says why");
        assertEquals("policy 0 priority 0", scheduling(Path.of("/proc/" + pid + "/stat")), "the JVM's first thread");

        Path server = Files.copy(Path.of("/usr/bin/socat"), Files.createDirectories(work.resolve("bin")).resolve("server"));
        Files.setPosixFilePermissions(server, PosixFilePermissions.fromString("rwx--x--x")); // others may run, not read
        JsonObject trusted = installed("trust", server.toString(), "server");
        assertTrue(trusted.getBoolean("ok"), trusted.toString());
        Process nobodys = outside.startHere("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                server.toString(), "TCP-LISTEN:" + TRUSTED + ",fork,reuseaddr", "EXEC:/bin/cat");
        JsonObject port = awaitPermitted();
        System.out.println("permitted for a process of user nobody: " + port);
        assertTrue(port.getJsonArray("processes").stream().anyMatch(p -> p.asJsonObject().getInt("pid") == nobodys.pid()
                && p.asJsonObject().getInt("uid") == 65534), port.toString());
        assertTrue(probeTrusted().endsWith(" failed 0"));
        JsonObject health = installed("status");
        assertTrue(health.getBoolean("healthy"), health.toString());
        // the operator's command finds the service's JVM (another user's) and its data directory by itself
        JsonObject found = ApplianceImage.json(OutsideNetwork.here(
                root.resolve("opt/flexwall/current/bin/flexwall").toString(), "status", "--json"));
        assertTrue(found.getBoolean("healthy"), found.toString());
        awaitConsoleLogin();
        String password = initialPassword();
        assertEquals(200, console("admin:" + password));

        // kill -9; the unit's Restart= brings it back: baseline (ExecStartPre), then the JVM
        OutsideNetwork.here("kill", "-9", String.valueOf(pid)).check();
        service.awaitRestart(pid);
        service.awaitReady();
        awaitPermitted();
        String afterRestart = probeTrusted();
        System.out.println("trusted service after kill -9 and the restart: " + afterRestart);
        assertTrue(afterRestart.endsWith(" failed 0"), afterRestart);
        assertEquals(200, console("admin:" + password));

        prober.destroy();
        assertTrue(prober.waitFor(20, TimeUnit.SECONDS));
        String report = Files.readString(probes);
        Matcher total = Pattern.compile("answered (\\d+) refused (\\d+) silent (\\d+)\\s*$").matcher(report);
        assertTrue(total.find(), report);
        List<Double> answered = new ArrayList<>();
        Matcher sent = Pattern.compile("(?m)^answered by .* sent at ([0-9.]+)$").matcher(report);
        while (sent.find()) {
            answered.add(Double.parseDouble(sent.group(1)));
        }
        long afterBaseline = answered.stream().filter(t -> t >= baselineAt).count();
        System.out.printf("non-permitted port %d: %d probes answered before the baseline, %d after it (of %s); "
                + "restarts by the unit's policy: %d%n", UNTRUSTED, answered.size() - afterBaseline, afterBaseline,
                total.group(0), service.restarts.get());
        assertTrue(answered.size() > 0, "the prober saw the port open before the baseline");
        assertEquals(0, afterBaseline, "probes answered after the baseline was in place:\n" + report);
        assertEquals("0", total.group(2), "RSTs from the non-permitted port");
        assertEquals(1, service.restarts.get(), "the unit's restart after kill -9");
    }

    @Test
    void anUpgradeKeepsTrustedProgramsConsoleSettingsThePasswordAndALiveUpdateAndBringsTheNewBundles()
            throws Exception {
        service = new Service(SystemdUnit.read(root.resolve("etc/systemd/system/flexwall.service")));
        for (String command : SystemdUnit.read(root.resolve("etc/systemd/system/flexwall-baseline.service"))
                .values("ExecStart")) {
            asRoot(command).check();
        }
        service.start();
        service.awaitReady();
        Path server = Files.copy(Path.of("/usr/bin/socat"), Files.createDirectories(work.resolve("bin")).resolve("server"));
        assertTrue(installed("trust", server.toString(), "server").getBoolean("ok"));
        awaitConsoleLogin();
        String password = initialPassword();
        WebConsole console = new WebConsole(8080, password);
        assertFalse(installed("status").toString().contains(MANAGED), "anti-lockout before the console's setting");
        console.configure("org.flexwall.hook.nftables", Map.of("managementInterface", "lo"));
        awaitHookStatus("nftables", MANAGED);
        Path bypass = BundleUpdateSystemTest.rewrite(ApplianceImage.bundles().stream()
                .filter(p -> p.getFileName().toString().startsWith("flexwall-packet-bypass-")).findFirst().orElseThrow(),
                work.resolve("bypass-live.jar"), m -> BundleUpdateSystemTest.withVersion(m, "0.1.0.live1"), null);
        assertTrue(installed("update", bypass.toString()).getBoolean("ok"));

        // the next release: another nfqueue hook
        Path unpacked = Files.createDirectories(work.resolve("next"));
        OutsideNetwork.here("tar", "-xzf", InstallerSystemTest.ARCHIVE.toString(), "-C", unpacked.toString()).check();
        Path nfqueue;
        try (var jars = Files.list(unpacked.resolve("bundles"))) {
            nfqueue = jars.filter(p -> p.getFileName().toString().startsWith("flexwall-hook-nfqueue-")).findFirst()
                    .orElseThrow();
        }
        Path changed = BundleUpdateSystemTest.rewrite(nfqueue, work.resolve("nfqueue.jar"),
                m -> BundleUpdateSystemTest.withVersion(m, "0.1.0.upgraded"), null);
        Files.move(changed, nfqueue, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path next = work.resolve("next.tar.gz");
        OutsideNetwork.here("tar", "-czf", next.toString(), "-C", unpacked.toString(), ".").check();

        service.close(); // systemctl stop; flexwall-install upgrade; systemctl start
        OutsideNetwork.here(InstallerSystemTest.INSTALLER.toString(), "upgrade", next.toString(), "--root",
                root.toString(), "--user", user).check();
        service.start();
        service.awaitReady();

        assertTrue(installed("programs").getJsonArray("programs").stream()
                .anyMatch(p -> p.asJsonObject().getString("path").equals(server.toString())), "trusted programs kept");
        awaitHookStatus("nftables", MANAGED); // the console's setting, from DATA/configuration
        assertEquals("0.1.0.live1", console.bundle("org.flexwall.packet-bypass").getString("version"),
                "a live update stays until the image brings another jar for the bundle");
        assertEquals("0.1.0.upgraded", console.bundle("org.flexwall.hook-nfqueue").getString("version"),
                "the upgrade's new jar");
        assertTrue(installed("status").getBoolean("healthy"));
    }

    /** Waits until the console asks for a login (Jetty listens a moment after flexwall says it is ready). */
    private static void awaitConsoleLogin() throws Exception {
        AtomicReference<String> last = new AtomicReference<>("");
        Await.until("the console asking for a login", Duration.ofSeconds(120), () -> {
            try {
                int code = console(null);
                last.set("HTTP " + code); // 404 until the Web Console has registered
                return code == 401;
            } catch (IOException e) { // not listening yet, or busy creating the first password
                last.set(e.toString());
                return false;
            }
        }, last::get);
    }

    /** The console's generated password, written when its login first runs. */
    private String initialPassword() throws Exception {
        Path file = data.resolve("console-initial-password");
        Await.until(file + " written", Duration.ofSeconds(30), () -> Files.exists(file));
        return Files.readString(file).strip();
    }

    private void awaitHookStatus(String hook, String text) throws Exception {
        AtomicReference<String> status = new AtomicReference<>("");
        Await.until("the " + hook + " hook saying '" + text + "'", Duration.ofSeconds(30), () -> {
            JsonObject answer = installed("status");
            if (answer.getBoolean("ok", false)) {
                status.set(answer.getJsonArray("packetHooks").stream().map(h -> h.asJsonObject())
                        .filter(h -> h.getString("name").equals(hook)).map(h -> h.getString("status")).findFirst()
                        .orElse(""));
            }
            return status.get().contains(text);
        }, status::get);
    }

    /** The service unit run as systemd would, with Restart=always and RestartSec emulated by a watching thread. */
    private final class Service implements AutoCloseable {
        private final SystemdUnit unit;
        private final AtomicInteger restarts = new AtomicInteger();
        private final AtomicInteger starts = new AtomicInteger();
        private volatile Process jvm;
        private volatile Path output;
        private volatile boolean stopping;
        private Thread watcher;

        Service(SystemdUnit unit) {
            this.unit = unit;
            assertEquals(List.of("always"), unit.values("Restart"));
        }

        void start() throws Exception {
            stopping = false;
            launch("start-" + starts.incrementAndGet());
            watcher = new Thread(this::watch, "restart-policy");
            watcher.setDaemon(true);
            watcher.start();
        }

        private void launch(String name) throws Exception {
            for (String pre : unit.values("ExecStartPre")) {
                asRoot(pre.startsWith("+") ? pre.substring(1) : pre).check(); // "+": with full privileges
            }
            String caps = String.join(",", unit.words("AmbientCapabilities").stream()
                    .map(c -> "+" + c.substring(4).toLowerCase(Locale.ROOT)).toList());
            List<String> command = new ArrayList<>(realtimeLimit());
            command.addAll(List.of("setpriv", "--reuid=" + user, "--regid=" + user,
                    "--init-groups", "--inh-caps=-all," + caps, "--ambient-caps=-all," + caps,
                    "--bounding-set=-all," + caps, "--no-new-privs", "env", "-i"));
            command.addAll(environment());
            command.addAll(words(unit.values("ExecStart").get(0)));
            output = work.resolve("service-" + name + ".out");
            jvm = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        }

        /**
         * prlimit with the unit's LimitRTPRIO, as systemd sets it; empty where this machine cannot raise the limit
         * (its hard limit is 0 and raising it needs CAP_SYS_RESOURCE, which these test machines withhold).
         */
        List<String> realtimeLimit() throws IOException {
            List<String> prlimit = List.of("prlimit", "--rtprio=" + unit.values("LimitRTPRIO").get(0) + ":"
                    + unit.values("LimitRTPRIO").get(0));
            List<String> probe = new ArrayList<>(prlimit);
            probe.add("true");
            return OutsideNetwork.here(probe.toArray(String[]::new)).ok() ? prlimit : List.of();
        }

        private void watch() {
            long restartMillis = (long) (Double.parseDouble(unit.values("RestartSec").get(0)) * 1000);
            while (!stopping) {
                try {
                    jvm.waitFor();
                    if (stopping) {
                        return;
                    }
                    Thread.sleep(restartMillis); // systemd's RestartSec, emulated: not synchronisation
                    restarts.incrementAndGet();
                    launch("restart-" + restarts.get());
                } catch (Exception e) {
                    return;
                }
            }
        }

        /** The unit's Environment= lines, paths moved into the tree, and systemd's PATH. */
        private List<String> environment() {
            List<String> env = new ArrayList<>(List.of("PATH=" + PATH));
            unit.values("Environment").forEach(e -> env.add(inTree(e)));
            return env;
        }

        long pid() {
            return jvm.pid();
        }

        void awaitReady() throws Exception {
            Await.until("flexwall ready", Duration.ofSeconds(90),
                    () -> Files.exists(output) && Files.readString(output).contains("flexwall ready"),
                    () -> Files.exists(output) ? Files.readString(output) : "(no output)");
        }

        void awaitRestart(long killed) throws Exception {
            Await.until("the restart policy starting the JVM again", Duration.ofSeconds(30),
                    () -> jvm.pid() != killed && restarts.get() != 0);
        }

        /** systemctl stop: SIGTERM, no restart. */
        @Override
        public void close() throws Exception {
            stopping = true;
            Process p = jvm;
            if (p != null) {
                p.destroy();
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor();
                }
            }
            if (watcher != null) {
                watcher.join(TimeUnit.SECONDS.toMillis(10));
            }
            TraceInstances.removeAbandoned(); // the JVMs the restart test killed left theirs
        }
    }

    /** The installed {@code flexwall ARGS --json} as root, as the operator runs it. */
    private JsonObject installed(String... args) throws IOException {
        List<String> argv = new ArrayList<>(List.of(root.resolve("opt/flexwall/current/bin/flexwall").toString()));
        argv.addAll(List.of(args));
        argv.addAll(List.of("--data", data.toString(), "--json"));
        return ApplianceImage.json(OutsideNetwork.here(argv.toArray(String[]::new)));
    }

    private Commands.Result asRoot(String command) throws IOException {
        List<String> argv = new ArrayList<>(List.of("env", "-i", "PATH=" + PATH));
        argv.addAll(words(command));
        return OutsideNetwork.here(argv.toArray(String[]::new));
    }

    /** A unit's command line as words, its absolute paths moved into the installed tree. */
    private List<String> words(String commandLine) {
        return List.of(inTree(commandLine).split("\\s+"));
    }

    private String inTree(String text) {
        return text.replace("/opt/flexwall", root.resolve("opt/flexwall").toString())
                .replace("/etc/flexwall", root.resolve("etc/flexwall").toString())
                .replace("/var/lib/flexwall", root.resolve("var/lib/flexwall").toString());
    }

    private JsonObject awaitPermitted() throws Exception {
        AtomicReference<JsonObject> last = new AtomicReference<>();
        return Await.value("port " + TRUSTED + " permitted", Duration.ofSeconds(30), () -> {
            JsonObject ports = installed("ports");
            last.set(ports);
            if (!ports.getBoolean("ok", false)) {
                return null;
            }
            return ports.getJsonArray("permitted").stream().map(v -> v.asJsonObject())
                    .filter(p -> p.getInt("port") == TRUSTED).findFirst().orElse(null);
        }, () -> String.valueOf(last.get()));
    }

    private String probeTrusted() throws IOException {
        String out = outside.outside("python3", traffic("prober.py"), OutsideNetwork.APPLIANCE_V4,
                String.valueOf(TRUSTED), "2").output().strip();
        assertTrue(out.contains("ok "), out);
        return out;
    }

    /** The console's answer to its bundles page, with {@code credentials} (user:password) or none. */
    private static int console(String credentials) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:8080/system/console/bundles").toURL()
                .openConnection();
        c.setConnectTimeout(5000);
        c.setReadTimeout(30000);
        if (credentials != null) {
            c.setRequestProperty("Authorization", "Basic "
                    + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8)));
        }
        try {
            return c.getResponseCode();
        } finally {
            c.disconnect();
        }
    }

    private static Map<String, String> procStatus(long pid) throws IOException {
        Map<String, String> fields = new java.util.HashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            int colon = line.indexOf(':');
            fields.put(line.substring(0, colon), line.substring(colon + 1).strip());
        }
        return fields;
    }

    /** "policy P priority R" of the JVM's thread called {@code name} (as /proc/PID/task/TID/comm shows it, 15 chars). */
    private static String scheduling(long pid, String name) throws IOException {
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks.toList()) {
                if (Files.readString(task.resolve("comm")).strip().equals(name)) {
                    return scheduling(task.resolve("stat"));
                }
            }
        }
        throw new AssertionError("no thread " + name + " in JVM " + pid);
    }

    /** "policy P priority R" from a /proc stat file (fields 41 and 40). */
    private static String scheduling(Path stat) throws IOException {
        String line = Files.readString(stat);
        String[] f = line.substring(line.lastIndexOf(')') + 2).split(" "); // f[0] is field 3
        return "policy " + f[41 - 3] + " priority " + f[40 - 3];
    }

    /** The names of the capabilities in a /proc/PID/status mask. */
    static Set<String> capabilities(String hexMask) {
        long mask = Long.parseUnsignedLong(hexMask, 16);
        Set<String> names = new TreeSet<>();
        for (int bit = 0; bit < 64; bit++) {
            if ((mask & (1L << bit)) != 0) {
                names.add(CAPABILITIES.getOrDefault(bit, "CAP_" + bit));
            }
        }
        return names;
    }

    private String traffic(String script) throws IOException {
        return Programs.resource(work, "traffic/" + script).toString();
    }
}
