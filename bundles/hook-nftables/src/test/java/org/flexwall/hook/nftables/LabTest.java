package org.flexwall.hook.nftables;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.flexwall.api.packet.Marks;
import org.flexwall.testing.Commands;
import org.flexwall.testing.Configs;
import org.flexwall.testing.RecordingLogger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestInstance;

/**
 * The frame of the system tests: one {@link Lab} per class with real listeners (socat), and per test a fresh
 * {@link NftablesHook} whose nft runs inside the appliance namespace, fed by a stand-in port store.
 */
@Tag("system")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class LabTest {
    static final int TCP_PERMITTED = 8443;   // echo server with a verified socket, permitted by the tests
    static final int TCP_UNPERMITTED = 9001; // echo server (unverified socket), permitted only to show it stays shut
    static final int TCP_NOBODY = 9002;     // nothing listens
    static final int SSH = 22;               // echo server standing in for sshd
    static final int UDP_PERMITTED = 5353;   // answers "pong"
    static final int UDP_UNPERMITTED = 5354; // answers "pong", never permitted
    static final int OUTSIDE_TCP = 7000;     // echo server in the outside namespace
    static final int OUTSIDE_UDP = 7001;     // answers "pong", in the outside namespace
    static final int LAN_TCP = 7100;         // echo server on the LAN host

    Lab lab;
    NftablesHook hook;
    Fakes.Store store;
    final List<String> logLines = new CopyOnWriteArrayList<>();

    @BeforeAll
    void createLab() throws Exception {
        Lab.require("nft", "socat", "nmap", "tcpdump", "ss", "ping", "hping3");
        lab = Lab.create();
        // the servers of permitted ports carry the verified mark the port store would put on a trusted socket
        lab.verifiedTcpEcho(lab.appliance, TCP_PERMITTED);
        for (int port : List.of(TCP_UNPERMITTED, SSH)) {
            lab.tcpEcho(lab.appliance, port);
        }
        lab.udpPong(lab.appliance, UDP_PERMITTED, Marks.VERIFIED_SOCKET);
        lab.udpPong(lab.appliance, UDP_UNPERMITTED);
        lab.tcpEcho(lab.outside, OUTSIDE_TCP);
        lab.udpPong(lab.outside, OUTSIDE_UDP);
        lab.tcpEcho(lab.lan, LAN_TCP);
    }

    @AfterAll
    void removeLab() {
        if (lab != null) {
            lab.close();
        }
    }

    @AfterEach
    void removeTable() throws Exception {
        if (hook != null) {
            hook.deactivate();
            hook = null;
        }
        Main.disable(nft());
    }

    /** A new hook in the appliance namespace, bound to a new store, activated with {@code config} pairs. */
    NftablesHook activate(Object... config) throws Exception {
        return activateFrom(Origin.NONE, config);
    }

    /** As {@link #activate}, as if started from {@code origin} (an SSH session, a console address). */
    NftablesHook activateFrom(Origin origin, Object... config) throws Exception {
        store = new Fakes.Store();
        hook = new NftablesHook(RecordingLogger.into(logLines), List.of("ip", "netns", "exec", lab.appliance));
        hook.bindPortStore(store);
        store.bind(hook);
        hook.start(Configs.config(NftablesHook.Config.class, config), origin);
        return hook;
    }

    /** A new hook as after a bundle update or a configuration change: same store, new component instance. */
    NftablesHook reactivate(Object... config) throws Exception {
        hook = new NftablesHook(RecordingLogger.into(logLines), List.of("ip", "netns", "exec", lab.appliance));
        hook.bindPortStore(store);
        store.bind(hook);
        hook.start(Configs.config(NftablesHook.Config.class, config), Origin.NONE);
        return hook;
    }

    /** nft inside the appliance namespace. */
    Nft nft() {
        return new NftProgram(List.of("ip", "netns", "exec", lab.appliance), "nft");
    }

    /** The elements of one permitted set, as nft lists them ("tcp . 8443"), without their counters. */
    List<String> elements(String set) throws Exception {
        String out = Commands.ok(lab.appliance, "nft", "list", "set", "inet", "flexwall", set);
        int start = out.indexOf("elements = {");
        if (start < 0) {
            return List.of();
        }
        String inner = out.substring(start + 12, out.indexOf('}', start));
        return java.util.Arrays.stream(inner.split(",")).map(e -> e.replaceFirst(" counter .*", "").trim())
                .filter(e -> !e.isEmpty()).sorted().toList();
    }
}
