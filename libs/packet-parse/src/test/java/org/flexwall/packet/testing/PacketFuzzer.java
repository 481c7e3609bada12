package org.flexwall.packet.testing;

import static org.flexwall.packet.testing.PacketBuilder.ACK;
import static org.flexwall.packet.testing.PacketBuilder.FIN;
import static org.flexwall.packet.testing.PacketBuilder.RST;
import static org.flexwall.packet.testing.PacketBuilder.SYN;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Random and mutated packets for the fuzz tests of the parser and of the engine: valid templates of many shapes
 * (options, IPv6 extension headers, fragments, ICMP errors quoting packets), then bytes flipped, cut, appended.
 * Seeded, so a failure repeats.
 */
public final class PacketFuzzer {
    public static final String US = "192.0.2.1", THEM = "198.51.100.7", US6 = "2001:db8::1",
            THEM6 = "2001:db8:ffff::7";

    private final Random random;

    public PacketFuzzer(long seed) {
        random = new Random(seed);
    }

    public Random random() {
        return random;
    }

    /** Valid inbound packets of many shapes to each of {@code ports}, and a few without ports. */
    public static List<byte[]> templates(int... ports) {
        List<byte[]> t = new ArrayList<>();
        for (int port : ports) {
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

    /** One packet in ten random bytes, the others a mutated template. */
    public byte[] next(List<byte[]> templates) {
        return random.nextInt(10) == 0 ? randomBytes() : mutate(templates.get(random.nextInt(templates.size())));
    }

    public byte[] randomBytes() {
        byte[] p = new byte[random.nextInt(120)];
        random.nextBytes(p);
        if (p.length > 0 && random.nextBoolean()) {
            p[0] = (byte) (random.nextBoolean() ? 0x45 : 0x60); // get past the version check now and then
        }
        return p;
    }

    public byte[] mutate(byte[] template) {
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
}
