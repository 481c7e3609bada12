package org.flexwall.hook.nftables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.flexwall.api.packet.DropCount;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.flexwall.testing.Commands;
import org.flexwall.testing.RecordingLogger;
import org.junit.jupiter.api.Test;

/**
 * The drop record against the real kernel: unsolicited packets from the outside namespace (socat, both families)
 * are counted per source, protocol and port in the baseline's sets and read back through {@code nft -j}; permitted
 * traffic is not counted, and the record stays within its size under more sources than it holds.
 */
class DropRecorderSystemTest extends LabTest {

    private DropRecorder recorder() {
        return new DropRecorder(new NftProgram(List.of("ip", "netns", "exec", lab.appliance), "nft"), RecordingLogger.into(logLines));
    }

    @Test
    void droppedConnectionAttemptsAreCountedPerSourceAndPortInBothFamilies() throws Exception {
        activate("antiLockout", false);
        store.permit(Protocol.TCP, AddressFamily.IPV4, TCP_PERMITTED);
        hook.awaitSync();
        Instant before = Instant.now().minusSeconds(1);
        for (int i = 0; i < 3; i++) {
            assertTrue(lab.blocked(lab.outside, lab.applianceV4, TCP_NOBODY));
        }
        assertTrue(lab.blocked(lab.outside, lab.applianceV6, TCP_UNPERMITTED));
        assertTrue(lab.connects(lab.outside, lab.applianceV4, TCP_PERMITTED));
        assertTrue(!lab.udpAnswered(lab.outside, lab.applianceV4, UDP_UNPERMITTED));

        List<DropCount> counts = recorder().counts();
        DropCount v4 = find(counts, lab.outsideV4, 6, TCP_NOBODY).orElseThrow(() -> new AssertionError(counts.toString()));
        // three connects, each a SYN and at least one retransmission within its second
        assertTrue(v4.packets() >= 3, v4.toString());
        assertTrue(!v4.lastSeen().isBefore(before.minusSeconds(1)), v4.toString());
        assertTrue(find(counts, lab.outsideV6, 6, TCP_UNPERMITTED).isPresent(), counts.toString());
        assertTrue(find(counts, lab.outsideV4, 17, UDP_UNPERMITTED).isPresent(), counts.toString());
        assertEquals(Optional.empty(), find(counts, lab.outsideV4, 6, TCP_PERMITTED), "permitted traffic is no drop");
    }

    @Test
    void theRecordHoldsNoMoreThanItsSizeWhateverArrives() throws Exception {
        activate("antiLockout", false);
        // far more distinct (source, port) pairs than the set holds, from spoofed sources, as fast as hping3 sends
        Commands.run(lab.outside, null, "hping3", "-q", "-S", "-i", "u20", "-c", String.valueOf(Ruleset.DROP_RECORD_SIZE + 2000),
                "--rand-source", "-p", "++1000", lab.applianceV4);
        List<DropCount> counts = recorder().counts();
        assertTrue(counts.size() > Ruleset.DROP_RECORD_SIZE / 2, "the flood was recorded: " + counts.size());
        assertTrue(counts.size() <= Ruleset.DROP_RECORD_SIZE, "bounded: " + counts.size());
    }

    private static Optional<DropCount> find(List<DropCount> counts, String source, int protocol, int port) {
        return counts.stream().filter(c -> c.source().equals(source) && c.protocol() == protocol && c.port() == port)
                .findFirst();
    }
}
