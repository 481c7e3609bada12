package org.flexwall.hook.nftables;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Without nft the hook says what is wrong and what to do. Needs no root: nothing reaches the kernel. */
class NftMissingTest {

    @Test
    void missingNftIsReportedWithTheFixInStatusAndLog() throws Exception {
        List<String> log = new ArrayList<>();
        NftablesHook hook = new NftablesHook(Fakes.logger(log), List.of());
        hook.start(Configs.config("nftBinary", "/nonexistent/nft"), Origin.NONE);
        try {
            String status = hook.status();
            assertTrue(status.startsWith("not active: "), status);
            assertTrue(status.contains("\"/nonexistent/nft\" could not be started"), status);
            assertTrue(status.contains("install the nftables package"), status);
            assertTrue(log.stream().anyMatch(l -> l.startsWith("ERROR") && l.contains("install the nftables package")),
                    log.toString());
        } finally {
            hook.deactivate();
        }
    }
}
