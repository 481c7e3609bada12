package org.flexwall.hook.nftables;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.flexwall.testing.Configs;
import org.flexwall.testing.RecordingLogger;
import org.junit.jupiter.api.Test;

/** Without nft (or its library) the hook says what is wrong and what to do. Needs no root: nothing reaches the kernel. */
class NftMissingTest {

    @Test
    void missingNftIsReportedWithTheFixInStatusAndLog() throws Exception {
        List<String> log = new ArrayList<>();
        NftablesHook hook = new NftablesHook(RecordingLogger.into(log), List.of());
        hook.start(Configs.config(NftablesHook.Config.class, "nftBinary", "/nonexistent/nft"), Origin.NONE);
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

    @Test
    void missingLibnftablesIsAnErrorThatNamesTheLibraryAndTheFix() {
        Nft nft = new NftLibrary(null, "libnftables-flexwall-missing.so.1");
        Nft.NftException e = assertThrows(Nft.NftException.class,
                () -> nft.apply("list tables", "list tables"));
        assertTrue(e.missing);
        assertTrue(e.getMessage().contains("libnftables-flexwall-missing.so.1 could not be loaded"), e.getMessage());
        assertTrue(e.getMessage().contains("install the nftables package"), e.getMessage());
        // and the hook's check of its table says so too, rather than "no table"
        assertThrows(Nft.NftException.class, nft::tablePresent);
    }
}
