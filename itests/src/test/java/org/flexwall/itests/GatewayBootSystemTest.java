package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.json.Json;
import jakarta.json.JsonObject;

import org.flexwall.testing.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway from power-on (issue "The gateway", finding 2): the boot sequence as the systemd unit runs it —
 * `flexwall baseline`, then the JVM; the JVM failing to start and the baseline loaded again; a restart after kill -9 —
 * probed every 10 ms from the outside (an untrusted listener on the appliance's TCP 22, with anti-lockout off in the
 * configuration) and from the LAN (new connections to a server outside): from the first baseline on, the untrusted
 * listener is never reached, and LAN to WAN forwarding follows the configuration without a gap.
 */
class GatewayBootSystemTest {
    private static final String LAN_APPLIANCE = "10.90.1.1";
    private static final String LAN_HOST = "10.90.1.2";
    private static final String LAN_APPLIANCE_V6 = "fd90:1::1";
    private static final String LAN_HOST_V6 = "fd90:1::2";
    private static final int OUTSIDE_SERVER = 7100;
    @TempDir
    Path work;
    private OutsideNetwork outside;
    private String lan;
    private ApplianceProcess appliance;
    private Path data;

    @BeforeEach
    void network() throws Exception {
        OutsideNetwork.require();
        outside = OutsideNetwork.create();
        lan = outside.namespace("lan"); // removed with the outside network
        outside.veth(null, "lan0", lan, "host0");
        outside.address(null, "lan0", LAN_APPLIANCE + "/24");
        outside.address(null, "lan0", LAN_APPLIANCE_V6 + "/64");
        outside.up(null, "lan0");
        outside.address(lan, "host0", LAN_HOST + "/24");
        outside.address(lan, "host0", LAN_HOST_V6 + "/64");
        outside.up(lan, "host0");
        inLan("ip", "route", "add", "default", "via", LAN_APPLIANCE);
        inLan("ip", "-6", "route", "add", "default", "via", LAN_APPLIANCE_V6);
        OutsideNetwork.here("sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1").check();
        outside.outside("ip", "route", "add", "10.90.1.0/24", "via", OutsideNetwork.APPLIANCE_V4).check();
        outside.outside("ip", "-6", "route", "add", "fd90:1::/64", "via", OutsideNetwork.APPLIANCE_V6).check();
        outside.startOutside("socat", "TCP6-LISTEN:" + OUTSIDE_SERVER + ",ipv6only=0,fork,reuseaddr",
                "SYSTEM:echo outside");
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (appliance != null) {
            appliance.close();
        }
        if (data != null) {
            ApplianceImage.flexwall(data, "disable");
        }
        if (outside != null) {
            outside.close();
        }
    }

    @Test
    void fromTheFirstBaselineOnAnUntrustedListenerIsNeverReachedAndTheLanIsForwardedAsConfigured() throws Exception {
        int consolePort = ApplianceImage.freePort();
        Path config = ApplianceImage.runtimeConfig(work.resolve("config"), consolePort, null, Json.createObjectBuilder()
                .add("org.flexwall.hook.nftables", Json.createObjectBuilder().add("antiLockout", false)
                        .add("lanInterfaces", Json.createArrayBuilder().add("lan0")))
                .build());
        data = ApplianceImage.dataDirectory(work.resolve("data"));
        // the first run writes the configured baseline; then power off: nothing of flexwall in the kernel
        start("first");
        appliance.close();
        appliance = null;
        ApplianceImage.flexwall(data, "disable").check();
        assertTrue(Files.exists(data.resolve("baseline.nft")), "the appliance keeps its configured baseline");

        Process untrusted = new ProcessBuilder("python3", "-c", "import socket\n"
                + "s = socket.create_server(('0.0.0.0', 22))\n"
                + "while True:\n"
                + "    c = s.accept()[0]\n"
                + "    c.sendall(b'untrusted')\n"
                + "    c.close()\n").redirectErrorStream(true).start();
        outside.track(untrusted);
        awaitListening(22);

        // neighbours known along the way (ARP, IPv6 neighbour discovery), so that a probe's first second does not
        // go to resolving them
        for (String outsideAddress : List.of(OutsideNetwork.OUTSIDE_V4, OutsideNetwork.OUTSIDE_V6)) {
            Await.until("the LAN host reaching " + outsideAddress, Duration.ofSeconds(20),
                    () -> OutsideNetwork.here("ip", "netns", "exec", lan, "ping", "-c", "1", "-W", "1", outsideAddress)
                            .ok());
        }

        // power on: the unit's ExecStartPre, then ExecStart; both probers from the first baseline on
        ApplianceImage.flexwall(data, "baseline").check();
        Path fromOutside = work.resolve("outside.out");
        Path fromLan = work.resolve("lan.out");
        Path fromLanV6 = work.resolve("lan6.out");
        Process outsideProber = outside.startOutside(fromOutside, "python3", traffic("syn_prober.py"),
                OutsideNetwork.APPLIANCE_V4, "22");
        Process lanProber = outside.track(new ProcessBuilder("ip", "netns", "exec", lan, "python3",
                traffic("syn_prober.py"), OutsideNetwork.OUTSIDE_V4, String.valueOf(OUTSIDE_SERVER))
                .redirectErrorStream(true).redirectOutput(fromLan.toFile()).start());
        Process lanProberV6 = outside.track(new ProcessBuilder("ip", "netns", "exec", lan, "python3",
                traffic("syn_prober.py"), OutsideNetwork.OUTSIDE_V6, String.valueOf(OUTSIDE_SERVER))
                .redirectErrorStream(true).redirectOutput(fromLanV6.toFile()).start());
        // the sleeps pace the boot sequence, not synchronisation: the probers meet each stage for a second
        Thread.sleep(1000); // the baseline alone
        start("boot");
        Thread.sleep(1000);

        appliance.process.destroyForcibly().waitFor(); // kill -9; systemd restarts: baseline, then the JVM
        appliance.close();
        ApplianceImage.flexwall(data, "baseline").check();
        Path broken = Files.createDirectories(work.resolve("broken-config"));
        Files.writeString(broken.resolve("flexwall.json"), "{ not json");
        ApplianceProcess.Result failed = ApplianceProcess.refused(Files.createDirectories(work.resolve("failed")),
                List.of(), "--data", data.toString(), "--config", broken.toString());
        assertTrue(failed.exitCode() != 0, failed.output());
        ApplianceImage.flexwall(data, "baseline").check(); // systemd's next try
        Thread.sleep(1000);
        start("restarted");
        Thread.sleep(1000);

        List<Process> probers = List.of(outsideProber, lanProber, lanProberV6);
        List<Path> outputs = List.of(fromOutside, fromLan, fromLanV6);
        probers.forEach(Process::destroy);
        for (int i = 0; i < probers.size(); i++) {
            String tail = String.join("\n", Files.readAllLines(outputs.get(i)).stream()
                    .skip(Math.max(0, Files.readAllLines(outputs.get(i)).size() - 5)).toList());
            assertTrue(probers.get(i).waitFor(20, TimeUnit.SECONDS), outputs.get(i) + " did not end:\n" + tail);
        }
        int[] out = counts(fromOutside);
        int[] in = counts(fromLan);
        int[] in6 = counts(fromLanV6);
        System.out.printf("boot sequence, untrusted tcp 22 from outside: answered %d refused %d silent %d; "
                + "LAN to WAN: IPv4 answered %d refused %d silent %d, IPv6 answered %d refused %d silent %d%n",
                out[0], out[1], out[2], in[0], in[1], in[2], in6[0], in6[1], in6[2]);
        assertEquals(0, out[0], "the untrusted listener was reached from outside");
        assertEquals(0, out[1], "the untrusted listener's port answered RST");
        assertTrue(in[0] >= 300 && in6[0] >= 300, "LAN to WAN connections: " + in[0] + " and " + in6[0]);
        assertEquals(0, in[1] + in[2] + in6[1] + in6[2],
                "LAN to WAN connections that failed at some moment of the boot sequence: " + unanswered(fromLan)
                        + unanswered(fromLanV6));
    }

    private void start(String name) throws Exception {
        appliance = ApplianceProcess.start(Files.createDirectories(work.resolve(name)), 0, List.of(), "--data",
                data.toString(), "--config", work.resolve("config").toString());
        OperatorCliSystemTest.awaitLine(appliance, "flexwall ready");
    }

    /** answered, refused, silent: the prober's last line. */
    /** The prober's lines about attempts that were not answered, with when they were sent. */
    private static String unanswered(Path output) throws Exception {
        return Files.readString(output).lines().filter(l -> !l.startsWith("answered by")).toList().toString();
    }

    private static int[] counts(Path output) throws Exception {
        String last = Files.readString(output).lines().reduce((a, b) -> b).orElse("");
        Matcher m = Pattern.compile("answered (\\d+) refused (\\d+) silent (\\d+)").matcher(last);
        assertTrue(m.matches(), Files.readString(output));
        return new int[] { Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)) };
    }

    private void inLan(String... argv) throws Exception {
        String[] all = new String[argv.length + 4];
        all[0] = "ip";
        all[1] = "netns";
        all[2] = "exec";
        all[3] = lan;
        System.arraycopy(argv, 0, all, 4, argv.length);
        OutsideNetwork.here(all).check();
    }

    private String traffic(String script) throws Exception {
        return Programs.resource(work, "traffic/" + script).toString();
    }

    private static void awaitListening(int port) throws Exception {
        Await.until("something listening on " + port, Duration.ofSeconds(20),
                () -> !OutsideNetwork.here("ss", "-Hltn", "sport = :" + port).output().isBlank());
    }
}
