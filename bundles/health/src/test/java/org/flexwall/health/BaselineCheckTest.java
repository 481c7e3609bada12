package org.flexwall.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.apache.felix.hc.api.Result;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The baseline check against real nftables, in a network namespace of the test's own. */
class BaselineCheckTest {
    private final String ns = "fw-hc-" + UUID.randomUUID().toString().substring(0, 8);

    @BeforeEach
    void namespace() throws Exception {
        run("ip", "netns", "add", ns);
    }

    @AfterEach
    void removeNamespace() throws Exception {
        run("ip", "netns", "del", ns);
    }

    private BaselineCheck check() {
        return new BaselineCheck(List.of("ip", "netns", "exec", ns, "nft", "-t", "list", "table", "inet",
                BaselineCheck.TABLE));
    }

    @Test
    void noTableMeansTheFirewallIsNotOn() throws Exception {
        Result r = check().execute();
        assertEquals(Result.Status.CRITICAL, r.getStatus());
        assertTrue(r.toString().contains("NOT on"), r.toString());
    }

    @Test
    void aTableOfThatNameThatDoesNotDropByDefaultIsNotOurs() throws Exception {
        nft("add table inet flexwall\nadd chain inet flexwall input { type filter hook input priority filter; "
                + "policy accept; }\n");
        Result r = check().execute();
        assertEquals(Result.Status.CRITICAL, r.getStatus());
        assertTrue(r.toString().contains("not flexwall's baseline"), r.toString());
    }

    @Test
    void theBaselineDroppingByDefaultIsOkAndAFreshAskSeesItRemoved() throws Exception {
        nft("add table inet flexwall\nadd chain inet flexwall input { type filter hook input priority filter; "
                + "policy drop; }\n");
        assertEquals(Result.Status.OK, check().execute().getStatus());
        nft("delete table inet flexwall\n");
        assertEquals(Result.Status.CRITICAL, check().execute().getStatus());
    }

    @Test
    void anNftThatCannotRunIsNeverOk() {
        BaselineCheck check = new BaselineCheck(List.of("/nonexistent/nft", "-t", "list", "table", "inet", "flexwall"));
        Result r = check.execute();
        assertEquals(Result.Status.CRITICAL, r.getStatus());
        assertTrue(r.toString().contains("could not be run"), r.toString());
    }

    private void nft(String ruleset) throws Exception {
        Process p = new ProcessBuilder("ip", "netns", "exec", ns, "nft", "-f", "-").redirectErrorStream(true).start();
        p.getOutputStream().write(ruleset.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
    }

    private static void run(String... command) throws IOException, InterruptedException {
        List<String> c = new ArrayList<>(List.of(command));
        Process p = new ProcessBuilder(c).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", command) + ": " + out);
    }
}
