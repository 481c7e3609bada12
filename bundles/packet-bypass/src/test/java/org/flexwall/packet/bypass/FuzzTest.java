package org.flexwall.packet.bypass;

import static org.flexwall.packet.testing.PacketBuilder.SYN;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.Verdict;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.flexwall.icf.StatefulIcf;
import org.flexwall.packet.parse.ByteView;
import org.flexwall.packet.testing.PacketBuilder;
import org.flexwall.packet.testing.PacketFuzzer;
import org.junit.jupiter.api.Test;

/**
 * 10^5 random and mutated packets through the bypass and the real ICF: none may throw (the view refuses reads past
 * the packet), and with no outbound traffic nothing inbound may pass unless a plain reading of its headers shows a
 * permitted port, a later fragment (admitted only after a bypassed first fragment) or on-link neighbour discovery.
 */
class FuzzTest {
    static final long SEED = 0x5eed_f1e1_d0c5L;

    final PacketFuzzer fuzzer = new PacketFuzzer(SEED);
    final Random random = fuzzer.random();
    final PortBitmap bitmap = new PortBitmap();
    long now = 1_000_000_000_000L;
    final StatefulIcf icf = new StatefulIcf(StatefulIcf.Settings.defaults());
    final Bypass bypass = new Bypass(bitmap, () -> p -> icf.decide(p, now), () -> now);
    final ByteView view = new ByteView();

    FuzzTest() {
        bitmap.set(Protocol.TCP, AddressFamily.IPV4, 22, true);
        bitmap.set(Protocol.TCP, AddressFamily.IPV6, 22, true);
        bitmap.set(Protocol.UDP, AddressFamily.IPV4, 5632, true);
    }

    /** Valid packets of many shapes, to and from permitted and closed ports. */
    List<byte[]> templates() {
        return PacketFuzzer.templates(22, 23, 5632, 443);
    }

    @Test
    void randomAndMutatedPacketsNeverThrowAndNeverReachAClosedPort() {
        List<byte[]> templates = templates();
        int accepted = 0;
        for (int i = 0; i < 100_000; i++) {
            byte[] p = fuzzer.next(templates);
            Verdict v;
            try {
                v = bypass.decide(view.set(p, p.length, Direction.INBOUND));
            } catch (RuntimeException e) {
                throw new AssertionError("packet " + i + " threw: " + HexFormat.of().formatHex(p), e);
            }
            if (v == Verdict.ACCEPT) {
                accepted++;
                String why = allowed(p);
                if (why != null) {
                    fail("packet " + i + " accepted although " + why + ": " + HexFormat.of().formatHex(p));
                }
            }
            now += 1_000_000; // 1 ms per packet: fragments and flows age
        }
        assertTrue(accepted > 1000, "the fuzzer should also produce acceptable packets, got " + accepted);
    }

    @Test
    void mutatedTrafficInEveryDirectionNeverThrowsNorOverfillsTheTable() {
        List<byte[]> templates = templates();
        templates.add(PacketBuilder.v4(PacketFuzzer.US, PacketFuzzer.THEM).tcp(40000, 443, SYN).seq(1).build());
        templates.add(PacketBuilder.v4(PacketFuzzer.US, PacketFuzzer.THEM).udp(40000, 53).build());
        templates.add(PacketBuilder.v6(PacketFuzzer.US6, PacketFuzzer.THEM6).echoRequest(9, 1).build());
        Direction[] directions = Direction.values();
        for (int i = 0; i < 100_000; i++) {
            byte[] p = fuzzer.mutate(templates.get(random.nextInt(templates.size())));
            Direction d = directions[random.nextInt(directions.length)];
            try {
                bypass.decide(view.set(p, p.length, d));
            } catch (RuntimeException e) {
                throw new AssertionError("packet " + i + " (" + d + ") threw: " + HexFormat.of().formatHex(p), e);
            }
            now += 1_000_000;
        }
        int live = Arrays.stream(icf.table().census(now)).sum();
        assertTrue(live <= icf.table().capacity(), "live flows " + live);
    }

    /** Null when an accepted inbound packet is allowed through on a plain reading of it, else why not. */
    static String allowed(byte[] p) {
        int version = (p[0] & 0xff) >>> 4;
        int protocol, l4, hopLimit;
        boolean later;
        if (version == 4) {
            protocol = p[9] & 0xff;
            l4 = (p[0] & 0x0f) * 4;
            later = ((p[6] & 0x1f) << 8 | p[7] & 0xff) != 0;
            hopLimit = 0;
        } else if (version == 6) {
            hopLimit = p[7] & 0xff;
            protocol = p[6] & 0xff;
            l4 = 40;
            later = false;
            while (protocol == 0 || protocol == 43 || protocol == 60 || protocol == 51 || protocol == 44) {
                if (protocol == 44) {
                    later = ((p[l4 + 2] & 0xff) << 8 | p[l4 + 3] & 0xf8) != 0;
                    protocol = p[l4] & 0xff;
                    l4 += 8;
                    if (later) {
                        break;
                    }
                    continue;
                }
                int size = protocol == 51 ? ((p[l4 + 1] & 0xff) + 2) * 4 : ((p[l4 + 1] & 0xff) + 1) * 8;
                protocol = p[l4] & 0xff;
                l4 += size;
            }
        } else {
            return "version " + version;
        }
        if (later) {
            return null; // no ports: admitted only after a bypassed first fragment
        }
        if (version == 6 && protocol == 58 && hopLimit == 255 && (p[l4] & 0xff) >= 133 && (p[l4] & 0xff) <= 136) {
            return null;
        }
        int port = (p[l4 + 2] & 0xff) << 8 | p[l4 + 3] & 0xff;
        boolean permitted = protocol == 6 && port == 22 || protocol == 17 && port == 5632 && version == 4;
        return permitted ? null : "protocol " + protocol + " port " + port + " is not permitted";
    }
}
