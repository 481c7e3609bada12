package org.flexwall.hook.pcap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.flexwall.testing.Configs;
import org.flexwall.testing.RecordingLogger;
import org.junit.jupiter.api.Test;

class PcapHookConfigurationTest {

    @Test
    void theFirstPacketRateLimitIsConfigurableAndDefaultsToTwoThousandASecond() {
        assertEquals(2000, settings().rateLimit());
        assertEquals(500, settings("rateLimit", 500).rateLimit());
    }

    @Test
    void aRateLimitOutOfRangeLeavesTheHookOffWithOneMessage() throws InterruptedException {
        for (int bad : new int[] { 0, -1, 10_001 }) {
            List<String> logged = new ArrayList<>();
            PcapHook hook = new PcapHook(RecordingLogger.into(logged));
            hook.activate(config("rateLimit", bad));
            String problem = "configuration org.flexwall.hook.pcap: rateLimit must be 1-10000, not " + bad;
            assertEquals(Optional.of("pcap " + problem), hook.problem());
            assertEquals(List.of("ERROR " + problem + "; the hook stays off and forwards nothing (fail closed)"),
                    logged);
            hook.deactivate();
        }
    }

    private static PcapHook.Settings settings(Object... more) {
        return PcapHook.Settings.of(config(more));
    }

    private static PcapHook.Config config(Object... more) {
        List<Object> values = new ArrayList<>(List.of("mode", "bridge", "outsideInterface", "out0",
                "insideInterface", "in0"));
        values.addAll(List.of(more));
        return Configs.config(PcapHook.Config.class, values.toArray());
    }
}
