package org.flexwall.packet.parse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import org.flexwall.api.packet.Direction;
import org.flexwall.packet.testing.PacketFuzzer;
import org.junit.jupiter.api.Test;

/**
 * 10^5 random and mutated packets through each way of parsing: none may throw (the view refuses reads past the
 * packet), and whatever parses names the protocol and ports a plain reading of the bytes finds.
 */
class IpFuzzTest {
    final PacketFuzzer fuzzer = new PacketFuzzer(0x5eed_0000_1b_0dL);
    final List<byte[]> templates = PacketFuzzer.templates(22, 443, 5632);
    final ByteView view = new ByteView();

    @Test
    void whatParsesAsAWholePacketHasTheProtocolAndPortsAPlainReadingFinds() {
        int withPorts = 0;
        for (int i = 0; i < 100_000; i++) {
            byte[] p = fuzzer.next(templates);
            long d = parse(i, p);
            if (d >= 0 && Ip.hasPorts(d)) {
                withPorts++;
                int[] plain = plainReading(p);
                String packet = "packet " + i + ": " + HexFormat.of().formatHex(p);
                assertEquals(plain[1], Ip.protocol(d), packet);
                assertEquals(plain[2], Ip.transportOffset(d), packet);
                assertEquals(plain[3], Ip.destinationPort(view, d), packet);
            }
        }
        assertTrue(withPorts > 10_000, "the fuzzer should also produce packets that parse, got " + withPorts);
    }

    @Test
    void aDestinationIsTheOneAPlainReadingFindsAndNeverAFragments() {
        int found = 0;
        for (int i = 0; i < 100_000; i++) {
            byte[] p = fuzzer.next(templates);
            int destination = destination(i, p, fuzzer.random().nextBoolean());
            if (destination != Ip.NO_DESTINATION) {
                found++;
                int[] plain = plainReading(p);
                String packet = "packet " + i + ": " + HexFormat.of().formatHex(p);
                assertEquals(0, plain[4], "a fragment has no destination: " + packet);
                assertEquals(plain[0] == 6, Ip.isV6Destination(destination), packet);
                assertEquals(plain[1], Ip.protocolOf(destination), packet);
                assertEquals(plain[3], Ip.portOf(destination), packet);
            }
        }
        assertTrue(found > 10_000, "the fuzzer should also produce packets with a destination, got " + found);
    }

    @Test
    void aPacketCutAnywhereYieldsItsOwnDestinationOrNone() {
        for (int i = 0; i < 20_000; i++) {
            byte[] whole = templates.get(fuzzer.random().nextInt(templates.size()));
            int expected = destination(i, whole, false);
            byte[] head = Arrays.copyOf(whole, fuzzer.random().nextInt(whole.length + 1));
            int destination = destination(i, head, false);
            if (destination != Ip.NO_DESTINATION) {
                assertEquals(expected, destination, "packet " + i + ": " + HexFormat.of().formatHex(head));
            }
        }
    }

    private long parse(int i, byte[] p) {
        try {
            return Ip.parse(view.set(p, p.length, Direction.INBOUND));
        } catch (RuntimeException e) {
            throw new AssertionError("packet " + i + " threw: " + HexFormat.of().formatHex(p), e);
        }
    }

    private int destination(int i, byte[] p, boolean newFlowOnly) {
        try {
            return Ip.destination(view.set(p, p.length, Direction.INBOUND), newFlowOnly);
        } catch (RuntimeException e) {
            throw new AssertionError("packet " + i + " threw: " + HexFormat.of().formatHex(p), e);
        }
    }

    /**
     * {version, protocol, transport offset, destination port, fragment} of a packet the parser accepted, read with
     * no checks at all: the extension headers walked by their lengths, fragment 1 for any sign of fragmentation.
     */
    static int[] plainReading(byte[] p) {
        int version = (p[0] & 0xff) >>> 4, protocol, l4, fragment = 0;
        if (version == 4) {
            protocol = p[9] & 0xff;
            l4 = (p[0] & 0x0f) * 4;
            fragment = ((p[6] & 0x3f) << 8 | p[7] & 0xff) != 0 ? 1 : 0;
        } else {
            protocol = p[6] & 0xff;
            l4 = 40;
            while (protocol == 0 || protocol == 43 || protocol == 60 || protocol == 51 || protocol == 44) {
                int size = protocol == 44 ? 8
                        : protocol == 51 ? ((p[l4 + 1] & 0xff) + 2) * 4 : ((p[l4 + 1] & 0xff) + 1) * 8;
                fragment |= protocol == 44 ? 1 : 0;
                protocol = p[l4] & 0xff;
                l4 += size;
            }
        }
        return new int[] { version, protocol, l4, (p[l4 + 2] & 0xff) << 8 | p[l4 + 3] & 0xff, fragment };
    }
}
