package org.flexwall.administration.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.flexwall.api.packet.PacketCounters;
import org.flexwall.api.packet.PacketHook;

import jakarta.json.JsonObject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control server on a real Unix-domain socket, driven by the real client class. */
class ControlChannelTest {
    @TempDir
    Path tmp;

    private final Fakes.Registry registry = new Fakes.Registry();
    private final Fakes.Store store = new Fakes.Store(registry);
    private final List<String> warnings = new ArrayList<>();
    private Path socket;
    private ControlServer server;

    /** What one run of the client printed and returned. */
    record Run(int exit, String out, String err) {}

    @BeforeEach
    void start() throws IOException {
        socket = tmp.resolve("control.sock");
        server = ControlServer.start(socket, ControlChannel.handler(Operations.using(registry, store, Fakes.MONITOR,
                List.of(store)).withPacketHooks(List.of(Fakes.HOOK)).withHealthChecks(Fakes.CHECKS_PASS)), warnings::add);
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
    }

    private Run client(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--socket");
        all.add(socket.toString());
        int exit = new ControlClient(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of()).run(all.toArray(String[]::new));
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void trustThroughTheSocketTrustsTheProgramAndOpensItsListeningPort() {
        store.listening.add(Fakes.tcp(22, 7001, Fakes.process(812, "/usr/sbin/sshd")));

        Run r = client("trust", "/usr/sbin/sshd", "ssh server");

        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("Trusted 'ssh server' at /usr/sbin/sshd"), r.out());
        assertTrue(r.out().contains("Open now: tcp/22 (ipv4)"), r.out());
        assertEquals(1, registry.programs().size());
        assertEquals(1, store.changes.get(), "the store re-evaluated at once");
    }

    @Test
    void trustAnswersJsonWithTheProgramWhenAsked() {
        Run r = client("trust", "/usr/sbin/sshd", "--json");

        assertEquals(0, r.exit(), r.err());
        JsonObject answer = JsonSupport.parse(r.out().strip());
        assertTrue(answer.getBoolean("ok"));
        assertEquals("/usr/sbin/sshd", answer.getJsonObject("program").getString("path"));
        assertEquals(Fakes.Registry.shaOf(Path.of("/usr/sbin/sshd")), answer.getJsonObject("program").getString("sha256"));
    }

    @Test
    void refusedTrustExitsNonZeroWithTheRegistrysReason() {
        Run r = client("trust", "/usr/bin/python3");

        assertEquals(ControlClient.REFUSED, r.exit());
        assertTrue(r.err().startsWith("flexwall: /usr/bin/python3 is the general interpreter"), r.err());
        assertTrue(registry.programs().isEmpty());
    }

    @Test
    void insistReachesTheRegistry() {
        Run r = client("trust", "/usr/bin/python3", "--insist");

        assertEquals(0, r.exit(), r.err());
        assertTrue(registry.lastInsist);
        assertTrue(r.out().contains("general interpreter"), r.out());
    }

    @Test
    void relativePathIsSentAsFullPath() {
        Run r = client("trust", "bin/server", "--json");

        assertEquals(0, r.exit(), r.err());
        String sent = JsonSupport.parse(r.out().strip()).getJsonObject("program").getString("path");
        assertEquals(Path.of("bin/server").toAbsolutePath().normalize().toString(), sent);
    }

    @Test
    void untrustClosesTheProgramsPorts() {
        store.listening.add(Fakes.tcp(22, 7001, Fakes.process(812, "/usr/sbin/sshd")));
        client("trust", "/usr/sbin/sshd");

        Run r = client("untrust", "/usr/sbin/sshd");

        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("No longer trusted: 'sshd' at /usr/sbin/sshd"), r.out());
        assertTrue(r.out().contains("Closed: tcp/22 (ipv4)"), r.out());
        assertTrue(store.permitted().isEmpty());
    }

    @Test
    void untrustOfAPathNeverTrustedIsAnError() {
        Run r = client("untrust", "/usr/sbin/nothing");

        assertEquals(ControlClient.REFUSED, r.exit());
        assertTrue(r.err().contains("no trusted program was approved at /usr/sbin/nothing"), r.err());
    }

    @Test
    void programsListsEveryTrustedProgramAsATable() {
        client("trust", "/usr/sbin/sshd");
        client("trust", "/usr/sbin/nginx", "web", "--user", "www-data", "--unit", "nginx");

        Run r = client("programs");

        assertEquals(0, r.exit(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertTrue(lines[0].startsWith("NAME"), r.out());
        assertTrue(lines[1].startsWith("sshd") && lines[1].contains("/usr/sbin/sshd") && lines[1].contains("anyone"),
                r.out());
        assertTrue(lines[2].startsWith("web") && lines[2].contains("/usr/sbin/nginx")
                && lines[2].contains("user www-data, unit nginx.service"), r.out());
    }

    @Test
    void programsShowsTheMd5OfEachProgramAsTheReadmeSays() {
        client("trust", "/usr/sbin/sshd");

        Run r = client("programs");

        String md5 = registry.programs().get(0).md5();
        assertTrue(r.out().lines().findFirst().orElseThrow().contains("MD5"), r.out());
        assertTrue(r.out().contains(md5), r.out());
    }

    @Test
    void programsOfAnUnusableRegistryIsAnErrorSayingWhatToDo() {
        registry.problem = "programs.json is damaged; restore programs.json.bak";

        Run r = client("programs");

        assertEquals(ControlClient.REFUSED, r.exit());
        assertTrue(r.err().contains("programs.json is damaged; restore programs.json.bak"), r.err());
    }

    @Test
    void reapproveReportsTheNewHash() {
        client("trust", "/usr/sbin/sshd");

        Run r = client("reapprove", "/usr/sbin/sshd");

        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("Re-approved 'sshd'") && r.out().contains("e".repeat(64)), r.out());
    }

    @Test
    void portsShowsOpenPortsAndRefusedSocketsWithTheirProcesses() {
        store.listening.add(Fakes.tcp(22, 7001, Fakes.process(812, "/usr/sbin/sshd")));
        store.listening.add(Fakes.tcp(8080, 7002, Fakes.process(700, "/usr/sbin/nginx"),
                Fakes.process(4242, "/usr/bin/python3")));
        client("trust", "/usr/sbin/sshd");
        client("trust", "/usr/sbin/nginx");

        Run r = client("ports");

        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("Open ports (1):"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("tcp\\s+ipv4\\s+22\\s+sshd\\s+/usr/sbin/sshd\\s+812\\s+.*")), r.out());
        assertTrue(r.out().contains("Refused (1)"), r.out());
        assertTrue(r.out().contains("700 /usr/sbin/nginx (trusted: nginx), 4242 /usr/bin/python3 (untrusted)"), r.out());
        assertTrue(r.out().contains("Why:\n  tcp 0.0.0.0 port 8080: pid 4242 /usr/bin/python3 is not a trusted program"),
                r.out());
        JsonObject refused = JsonSupport.parse(client("ports", "--json").out().strip()).getJsonArray("refused")
                .getJsonObject(0);
        assertEquals("pid 4242 /usr/bin/python3 is not a trusted program", refused.getString("reason"));
        assertEquals("0.0.0.0", refused.getString("address"));
    }

    @Test
    void trustWithUserAndUnitReachesTheRegistryAndSaysWhatItWillAccept() {
        Run r = client("trust", "/usr/sbin/nginx", "--user", "www-data", "--unit", "nginx");

        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("Accepted: a process whose running image has exactly these bytes, running as user "
                + "www-data (uid 33), in systemd unit nginx.service"), r.out());
        assertTrue(r.out().contains("without LD_PRELOAD"), r.out());
        assertEquals("nginx.service", registry.programs().get(0).unit());
        assertEquals(ControlClient.USAGE, client("programs", "--user", "x").exit(), "--user belongs to trust only");
        assertTrue(client("trust", "/usr/sbin/sshd").out().contains("of any user, in any systemd unit or none"));
    }

    @Test
    void statusIsHealthyWhenEveryPartRuns() {
        client("trust", "/usr/sbin/sshd");

        Run r = client("status");

        assertEquals(0, r.exit(), r.err() + r.out());
        assertTrue(r.out().contains("1 trusted program"), r.out());
    }

    @Test
    void statusWithoutRegistryExitsNonZeroAndSaysNothingIsTrusted() throws IOException {
        server.close();
        server = ControlServer.start(socket, ControlChannel.handler(Operations.using(null, store, null, List.of())),
                warnings::add);

        Run r = client("status");

        assertEquals(ControlClient.REFUSED, r.exit());
        assertTrue(r.out().contains("program registry") && r.out().contains("NOT RUNNING: nothing is trusted"), r.out());
        assertTrue(r.out().contains("port monitor") && r.out().contains("NOT RUNNING"), r.out());
    }

    @Test
    void statusNamesEachPacketHookWithItsState() {
        Run r = client("status");

        assertTrue(r.out().contains("packet hook fake") && r.out().contains("filtering"), r.out());
    }

    @Test
    void statusOfAHookWithAProblemExitsNonZeroAndNamesTheProblem() throws IOException {
        PacketHook broken = new PacketHook() {
            @Override
            public String name() {
                return "nftables";
            }

            @Override
            public String status() {
                return "starting";
            }

            @Override
            public Optional<String> problem() {
                return Optional.of("the baseline table could not be installed: nft not found");
            }
        };
        server.close();
        server = ControlServer.start(socket, ControlChannel.handler(Operations.using(registry, store, Fakes.MONITOR,
                List.of(store)).withPacketHooks(List.of(Fakes.HOOK, broken)).withHealthChecks(Fakes.CHECKS_PASS)), warnings::add);

        Run r = client("status");

        assertEquals(ControlClient.REFUSED, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("packet hook nftables") && r.out().contains(
                "NOT PROTECTING: the baseline table could not be installed: nft not found"), r.out());
        assertTrue(r.out().contains("NOT fully working"), r.out());
    }

    @Test
    void statusShowsThePacketPathCountersOfEveryPartAndAllOfThemInJson() throws IOException {
        PacketCounters bypass = new PacketCounters() {
            @Override
            public String part() {
                return "packet bypass";
            }

            @Override
            public Map<String, Long> counters() {
                Map<String, Long> m = new LinkedHashMap<>();
                m.put("bypassed to permitted ports", 12L);
                m.put("dropped malformed", 0L);
                return m;
            }
        };
        server.close();
        server = ControlServer.start(socket, ControlChannel.handler(Operations.using(registry, store, Fakes.MONITOR,
                List.of(store)).withPacketHooks(List.of(Fakes.HOOK)).withPacketCounters(List.of(bypass))),
                warnings::add);

        Run text = client("status");
        Run json = client("status", "--json");

        assertTrue(text.out().contains("packet bypass")
                && text.out().matches("(?s).*bypassed to permitted ports +12.*"), text.out());
        assertFalse(text.out().contains("dropped malformed"), "zeros are left out of the text: " + text.out());
        JsonObject engine = JsonSupport.parse(json.out().strip()).getJsonObject("engine");
        assertEquals(12, engine.getJsonObject("packet bypass").getInt("bypassed to permitted ports"));
        assertEquals(0, engine.getJsonObject("packet bypass").getInt("dropped malformed"));
    }

    @Test
    void statusWithoutAnyPacketHookExitsNonZeroAndSaysSo() throws IOException {
        server.close();
        server = ControlServer.start(socket, ControlChannel.handler(Operations.using(registry, store, Fakes.MONITOR,
                List.of(store))), warnings::add);

        Run r = client("status");

        assertEquals(ControlClient.REFUSED, r.exit());
        assertTrue(r.out().contains("packet hooks") && r.out().contains("NONE RUNNING"), r.out());
    }

    @Test
    void disableWithoutDeclarativeServicesIsRefusedWithAReason() {
        Run r = client("disable");

        assertEquals(ControlClient.REFUSED, r.exit());
        assertTrue(r.err().contains("packet hooks cannot be switched"), r.err() + r.out());
    }

    @Test
    void wrongUsageExitsWithTwoAndTheUsage() {
        assertEquals(ControlClient.USAGE, client("trust").exit());
        assertEquals(ControlClient.USAGE, client("frobnicate").exit());
        assertEquals(ControlClient.USAGE, client("ports", "--insist").exit());
        Run r = client("untrust");
        assertTrue(r.err().contains("expected: flexwall untrust PATH") && r.err().contains("usage: flexwall"), r.err());
    }

    @Test
    void notRunningSaysSoAndHowToStart() throws IOException {
        server.close();

        Run r = client("status");

        assertEquals(ControlClient.NOT_RUNNING, r.exit());
        assertEquals("flexwall: flexwall is not running (no control socket at " + socket + "); "
                + ControlClient.HOW_TO_START, r.err().strip());
    }

    @Test
    void socketLeftByADeadInstanceIsReportedAsNotRunning() throws IOException {
        server.close();
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket)); // closing leaves the file behind, like a killed JVM
        }

        Run r = client("status");

        assertEquals(ControlClient.NOT_RUNNING, r.exit());
        assertTrue(r.err().contains("is left from an earlier run and nobody answers"), r.err());
    }

    @Test
    void serverReplacesASocketLeftByADeadInstance() throws IOException {
        server.close();
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket));
        }
        server = ControlServer.start(socket, ControlChannel.handler(Operations.using(registry, store, Fakes.MONITOR,
                List.of(store)).withPacketHooks(List.of(Fakes.HOOK)).withHealthChecks(Fakes.CHECKS_PASS)), warnings::add);

        assertEquals(0, client("status").exit());
    }

    @Test
    void secondServerOnALiveSocketIsRefused() {
        IOException e = assertThrows(IOException.class, () -> ControlServer.start(socket, line -> line, warnings::add));
        assertTrue(e.getMessage().startsWith("another flexwall already answers on the control socket"), e.getMessage());
        assertEquals(0, client("status").exit(), "the first server still answers");
    }

    @Test
    void socketIsReadableAndWritableByItsOwnerOnly() throws IOException {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        try (var left = Files.list(tmp)) {
            assertEquals(List.of(socket), left.toList(), "the private directory it was made in is gone");
        }
    }

    @Test
    void directoryOthersMayWriteIsRefused() throws IOException {
        Path open = Files.createDirectory(tmp.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));

        IOException e = assertThrows(IOException.class,
                () -> ControlServer.start(open.resolve("control.sock"), line -> line, warnings::add));
        assertTrue(e.getMessage().contains("may be written by other users"), e.getMessage());
    }

    @Test
    void closingTheServerRemovesTheSocket() throws IOException {
        server.close();
        assertFalse(Files.exists(socket));
    }

    @Test
    void requestThatIsNotJsonGetsAClearError() throws Exception {
        JsonObject answer = JsonSupport.parse(ControlConnection.exchange(socket, "trust /usr/sbin/sshd", ControlClient.QUERY_MILLIS));
        assertFalse(answer.getBoolean("ok"));
        assertTrue(answer.getString("error").startsWith("the request is not valid JSON"), answer.toString());
    }

    @Test
    void requestWithoutOperationOrWithUnknownOneIsAnError() throws Exception {
        JsonObject none = JsonSupport.parse(ControlConnection.exchange(socket, "{}", ControlClient.QUERY_MILLIS));
        JsonObject unknown = JsonSupport.parse(ControlConnection.exchange(socket, "{\"op\":\"format-disk\"}", ControlClient.QUERY_MILLIS));
        JsonObject noPath = JsonSupport.parse(ControlConnection.exchange(socket, "{\"op\":\"trust\"}", ControlClient.QUERY_MILLIS));
        JsonObject relative = JsonSupport.parse(ControlConnection.exchange(socket, "{\"op\":\"trust\",\"path\":\"sshd\"}", ControlClient.QUERY_MILLIS));

        assertTrue(none.getString("error").startsWith("the request names no operation"), none.toString());
        assertTrue(unknown.getString("error").startsWith("unknown operation 'format-disk'"), unknown.toString());
        assertEquals("the trust request needs \"path\"", noPath.getString("error"));
        assertTrue(relative.getString("error").startsWith("give the full path"), relative.toString());
    }

    @Test
    void oversizedRequestIsRefusedWithoutReadingItAll() throws Exception {
        String huge = "{\"op\":\"status\",\"pad\":\"" + "x".repeat(ControlServer.MAX_REQUEST + 10) + "\"}";
        JsonObject answer = JsonSupport.parse(ControlConnection.exchange(socket, huge, ControlClient.QUERY_MILLIS));
        assertFalse(answer.getBoolean("ok"));
        assertTrue(answer.getString("error").contains("longer than"), answer.toString());
    }

    @Test
    void reloadAfterTheOperatorRepairedTheStoreMakesItUsable() {
        client("trust", "/usr/sbin/sshd");
        registry.problem = "programs.json is damaged";
        int before = store.changes.get();

        Run r = client("reload");

        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("The trusted-program store is usable: 1 trusted program."), r.out());
        assertEquals(before + 1, store.changes.get(), "the store re-evaluated with the reloaded programs");
    }

    @Test
    void reloadOfAStoreStillDamagedSaysWhatIsWrong() {
        registry.problem = "programs.json is damaged";
        registry.problemAfterReload = "programs.json is still damaged";

        Run r = client("reload");

        assertEquals(ControlClient.REFUSED, r.exit());
        assertTrue(r.err().contains("still unusable: programs.json is still damaged"), r.err());
    }

    @Test
    void resetStartsADamagedStoreEmptyButLeavesAUsableOneAlone() {
        client("trust", "/usr/sbin/sshd");

        Run refused = client("reset");
        assertEquals(ControlClient.REFUSED, refused.exit());
        assertTrue(refused.err().contains("nothing to reset"), refused.err());
        assertEquals(1, registry.programs().size());

        registry.problem = "programs.json is damaged";
        Run r = client("reset");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("no program is trusted now"), r.out());
        assertTrue(registry.usable() && registry.programs().isEmpty());
    }
}
