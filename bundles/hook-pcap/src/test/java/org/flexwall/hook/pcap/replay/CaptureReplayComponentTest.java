package org.flexwall.hook.pcap.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;

import org.flexwall.api.replay.ReplayException;
import org.flexwall.api.replay.ReplayOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The service without the engine's factory services bound, as SCR leaves it while those bundles are stopped. */
class CaptureReplayComponentTest {
    @TempDir
    Path dir;

    @Test
    void withoutPacketBypassAndTheIcfRunningAReplayIsRefusedAndSaysWhy() throws Exception {
        Path file = new CaptureFile(LinkLayer.EN10MB).add(ReplayerTest.T0, new byte[20]).write(dir.resolve("a.pcap"));

        ReplayException e = assertThrows(ReplayException.class,
                () -> new CaptureReplayComponent().replay(file, ReplayOptions.live()));

        assertEquals("replay needs packet bypass and the stateful ICF running; packet bypass is not "
                + "(see flexwall status)", e.getMessage());
    }
}
