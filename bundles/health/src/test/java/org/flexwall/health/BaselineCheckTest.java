package org.flexwall.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.apache.felix.hc.api.Result;
import org.flexwall.testing.Commands;
import org.flexwall.testing.NetnsLab;
import org.flexwall.testing.SystemTests;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The baseline check against real nftables, in a network namespace of the test's own. */
class BaselineCheckTest {
    private NetnsLab lab;
    private String ns;

    /** The test's namespace, made on first use: the check that needs no kernel runs without root. */
    private String namespace() throws Exception {
        if (lab == null) {
            SystemTests.requireRootAndTools("ip", "nft");
            lab = new NetnsLab("fw-hc");
            ns = lab.namespace("t");
        }
        return ns;
    }

    @AfterEach
    void removeNamespace() {
        if (lab != null) {
            lab.close();
        }
    }

    private BaselineCheck check() throws Exception {
        namespace();
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
        Commands.Result r = Commands.run(namespace(), ruleset, "nft", "-f", "-");
        assertEquals(0, r.exitCode(), r.output());
    }
}
