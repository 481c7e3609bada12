package org.flexwall.osgitests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Hashtable;

import org.flexwall.api.packet.PacketHook;
import org.flexwall.api.program.ProgramRegistry;
import org.flexwall.testing.Await;
import org.flexwall.testing.Commands;
import org.flexwall.testing.NetnsLab;
import org.flexwall.testing.SystemTests;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.FrameworkUtil;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.common.service.ServiceAware;
import org.osgi.test.junit5.service.ServiceExtension;

/**
 * The nftables hook as shipped, in the appliance's framework (whose JVM has a network namespace of its own, see
 * osgi-tests.bndrun): configured through Config Admin with anti-lockout off, it applies the baseline, renders the
 * port packet bypass's table holds once the real port store opens it for a program trusted in the real registry, and
 * when its bundle stops the kernel keeps the table and that port; when packet bypass stops the sets keep their
 * elements too, which admit the trusted program and not an untrusted one that takes its port meanwhile. An outside
 * namespace across a veth pair checks each from the wire.
 */
@ExtendWith(ServiceExtension.class)
class NftablesHookInTheApplianceTest {
    private static final int TRUSTED = 8443;
    private static final int SSH = 22;

    @TempDir
    Path work;

    @Test
    void theHookAppliesTheConfiguredBaselineRendersPacketBypassAndItsTableOutlivesTheBundle(
            @InjectService ConfigurationAdmin configurations, @InjectService ProgramRegistry registry,
            @InjectService(filter = "(component.name=org.flexwall.hook.nftables)", timeout = 20_000)
            ServiceAware<PacketHook> hooks) throws Exception {
        SystemTests.requireRootAndTools("nft", "socat", "ip", "ss", "python3");
        SystemTests.require(System.getenv("FLEXWALL_IN_TEST_NETNS") != null,
                "the framework's JVM runs in a network namespace of its own (itests/netns/bin/java as root)");
        assertEquals("nftables", hooks.getService().name());

        Configuration conf = configurations.getConfiguration("org.flexwall.hook.nftables", "?");
        Hashtable<String, Object> settings = new Hashtable<>();
        settings.put("antiLockout", false);
        settings.put("sshPort", SSH);
        conf.update(settings);

        try (NetnsLab lab = new NetnsLab("fwo")) {
            String outside = lab.namespace("out");
            String here = "10.79." + lab.subnet + ".2";
            lab.veth(null, "wan0", outside, "out0");
            lab.address(outside, "out0", "10.79." + lab.subnet + ".1/24");
            lab.address(null, "wan0", here + "/24");
            lab.up(outside, "out0");
            lab.up(null, "wan0");

            Path server = Files.copy(Path.of("/usr/bin/socat"), work.resolve("server"));
            server.toFile().setExecutable(true);
            registry.trust(server, "server", false);
            Process trusted = lab.start(null, server.toString(), "TCP4-LISTEN:" + TRUSTED + ",reuseaddr,fork",
                    "EXEC:/bin/cat");
            // python3 here: a socat would be the trusted program's bytes
            lab.start(null, "python3", "-c", echoServer(SSH));
            Await.until("the untrusted listener on " + SSH,
                    () -> !Commands.ok(null, "ss", "-Hltn", "sport = :" + SSH).isBlank());

            // the new configuration makes Declarative Services activate the hook again: ask the current one
            Await.until("the hook's baseline with the trusted port and anti-lockout off", Duration.ofSeconds(30),
                    () -> status(hooks).startsWith("baseline active, 1 permitted ports, anti-lockout: off"),
                    () -> status(hooks));
            assertTrue(echoes(outside, here, TRUSTED), "the trusted program's port from outside");
            assertTrue(!echoes(outside, here, SSH), "anti-lockout is configured off: port 22 stays shut");

            Bundle bundle = FrameworkUtil.getBundle(hooks.getService().getClass());
            bundle.stop();
            try {
                assertTrue(Commands.ok(null, "nft", "list", "set", "inet", "flexwall", "permitted4")
                        .contains("tcp . " + TRUSTED), "the kernel keeps the table and its ports");
                assertTrue(echoes(outside, here, TRUSTED), "the trusted port with the hook's bundle stopped");
                assertTrue(!echoes(outside, here, SSH), "port 22 with the hook's bundle stopped");
            } finally {
                bundle.start();
            }

            // packet bypass stops (an update, say): the sets keep their elements, which admit only verified sockets
            Bundle bypass = bundle("org.flexwall.packet-bypass");
            bypass.stop();
            try {
                assertTrue(status(hooks).startsWith("baseline active, 1 permitted ports"), status(hooks));
                assertTrue(echoes(outside, here, TRUSTED), "the trusted port with packet bypass stopped");
                // the attack: the trusted program goes, an untrusted one takes its port before packet bypass is back
                trusted.destroyForcibly().waitFor();
                Process taker = lab.start(null, "python3", "-c", echoServer(TRUSTED));
                try {
                    Await.until("the untrusted listener on " + TRUSTED,
                            () -> !Commands.ok(null, "ss", "-Hltn", "sport = :" + TRUSTED).isBlank());
                    assertTrue(!echoes(outside, here, TRUSTED), "an untrusted program on the kept port");
                } finally {
                    taker.destroyForcibly().waitFor();
                }
            } finally {
                bypass.start();
            }
            Await.until("packet bypass's table rendered again: the port is gone with its program", Duration.ofSeconds(30),
                    () -> status(hooks).startsWith("baseline active, 0 permitted ports"), () -> status(hooks));
            lab.start(null, server.toString(), "TCP4-LISTEN:" + TRUSTED + ",reuseaddr,fork", "EXEC:/bin/cat");
            Await.until("the trusted program's port again", Duration.ofSeconds(30),
                    () -> status(hooks).startsWith("baseline active, 1 permitted ports"), () -> status(hooks));
            assertTrue(echoes(outside, here, TRUSTED), "the trusted port once packet bypass is back");
        } finally {
            conf.delete();
        }
    }

    /** An untrusted echo server on {@code port} (python3: a socat would be the trusted program's bytes). */
    private static String echoServer(int port) {
        return "import socket\n"
                + "s = socket.create_server(('0.0.0.0', " + port + "))\n"
                + "while True:\n"
                + "    c = s.accept()[0]\n"
                + "    c.sendall(c.recv(100))\n"
                + "    c.close()\n";
    }

    private Bundle bundle(String symbolicName) {
        for (Bundle b : FrameworkUtil.getBundle(getClass()).getBundleContext().getBundles()) {
            if (b.getSymbolicName().equals(symbolicName)) {
                return b;
            }
        }
        throw new AssertionError("no bundle " + symbolicName + " in the appliance");
    }

    private static String status(ServiceAware<PacketHook> hooks) {
        PacketHook hook = hooks.getService();
        return hook == null ? "(no hook service)" : hook.status();
    }

    /** Whether a line sent from {@code ns} to {@code address}:{@code port} comes back (connect timeout 1 s). */
    private static boolean echoes(String ns, String address, int port) throws Exception {
        Commands.Result r = Commands.run(ns, "ping\n", "socat", "-T", "3", "-",
                "TCP4:" + address + ":" + port + ",connect-timeout=1");
        return r.ok() && r.output().contains("ping");
    }
}
