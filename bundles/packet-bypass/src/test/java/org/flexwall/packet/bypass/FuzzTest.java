package org.flexwall.packet.bypass;

import static org.flexwall.packet.testing.PacketBuilder.ACK;
import static org.flexwall.packet.testing.PacketBuilder.FIN;
import static org.flexwall.packet.testing.PacketBuilder.RST;
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
import org.flexwall.packet.testing.ByteView;
import org.flexwall.packet.testing.PacketBuilder;
import org.junit.jupiter.api.Test;

/**
 * 10^5 random and mutated packets through the bypass and the real ICF: none may throw (the view refuses reads past
 * the packet), and with no outbound traffic nothing inbound may pass unless a plain reading of its headers shows a
 * permitted port, a later fragment (admitted only after a bypassed first fragment) or on-link neighbour discovery.
 */
class FuzzTest {
    static final long SEED = 0x5eed_f1e1_d0c5L;
    static final String US = "192.0.2.1", THEM = "198.51.100.7", US6 = "2001:db8::1", THEM6 = "2001:db8:ffff::7";

    final Random random = new Random(SEED);
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
        List<byte[]> t = new ArrayList<>();
        int[] portsToTry = { 22, 23, 5632, 443 };
        for (int port : portsToTry) {
            for (int flags : new int[] { SYN, SYN | ACK, ACK, RST, FIN | ACK }) {
                t.add(PacketBuilder.v4(THEM, US).tcp(40000, port, flags).seq(7).ack(9).windowScale(7).build());
                t.add(PacketBuilder.v6(THEM6, US6).hopByHop().destinationOptions(16).routing(2).authentication()
                        .tcp(40000, port, flags).payload(20).build());
            }
            t.add(PacketBuilder.v4(THEM, US).udp(53, port).payload(40).build());
            t.add(PacketBuilder.v6(THEM6, US6).fragment(0, true, 3).udp(53, port).payload(64).build());
            t.add(PacketBuilder.v4(THEM, US).udp(53, port).payload(64).fragment(0, true, port).build());
            t.add(PacketBuilder.v4(THEM, US).raw(17, new byte[64]).fragment(72, false, port).build());
            t.add(PacketBuilder.v4(THEM, US).icmpError(3, 3, PacketBuilder.v4(US, THEM).udp(port, 53).build())
                    .build());
            t.add(PacketBuilder.v6(THEM6, US6).icmpError(1, 4, PacketBuilder.v6(US6, THEM6).tcp(port, 80, SYN)
                    .build()).build());
        }
        t.add(PacketBuilder.v4(THEM, US).echoRequest(1, 1).build());
        t.add(PacketBuilder.v4(THEM, US).echoReply(1, 1).build());
        t.add(PacketBuilder.v6(THEM6, US6).echoReply(1, 1).build());
        t.add(PacketBuilder.v6("fe80::1", US6).icmp(135, 0, 0).hopLimit(255).payload(16).build());
        return t;
    }

    @Test
    void randomAndMutatedPacketsNeverThrowAndNeverReachAClosedPort() {
        List<byte[]> templates = templates();
        int accepted = 0;
        for (int i = 0; i < 100_000; i++) {
            byte[] p = i % 10 == 0 ? randomBytes() : mutate(templates.get(random.nextInt(templates.size())));
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
        templates.add(PacketBuilder.v4(US, THEM).tcp(40000, 443, SYN).seq(1).build());
        templates.add(PacketBuilder.v4(US, THEM).udp(40000, 53).build());
        templates.add(PacketBuilder.v6(US6, THEM6).echoRequest(9, 1).build());
        Direction[] directions = Direction.values();
        for (int i = 0; i < 100_000; i++) {
            byte[] p = mutate(templates.get(random.nextInt(templates.size())));
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

    byte[] randomBytes() {
        byte[] p = new byte[random.nextInt(120)];
        random.nextBytes(p);
        if (p.length > 0 && random.nextBoolean()) {
            p[0] = (byte) (random.nextBoolean() ? 0x45 : 0x60); // get past the version check now and then
        }
        return p;
    }

    byte[] mutate(byte[] template) {
        byte[] p = template.clone();
        switch (random.nextInt(6)) {
        case 0: // flip some bytes
            for (int n = 1 + random.nextInt(4); n > 0; n--) {
                p[random.nextInt(p.length)] = (byte) random.nextInt(256);
            }
            break;
        case 1: // cut short
            p = Arrays.copyOf(p, random.nextInt(p.length + 1));
            break;
        case 2: // garbage after
            p = Arrays.copyOf(p, p.length + 1 + random.nextInt(40));
            break;
        case 3: // lengths and header lengths
            int at = new int[] { 0, 2, 3, 4, 5, 6 }[random.nextInt(6)];
            p[at] = (byte) random.nextInt(256);
            break;
        case 4: // one bit
            int bit = random.nextInt(p.length * 8);
            p[bit / 8] ^= 1 << bit % 8;
            break;
        default: // unchanged
        }
        return p;
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
