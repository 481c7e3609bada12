package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What must never get in: an untrusted listener (this JVM: java is not trusted) on a TCP and on a UDP port, and a
 * closed port next to them. A delivered datagram or connection is counted; a delivered SYN or probe makes the
 * appliance answer (SYN-ACK, RST or ICMP unreachable), which a capture on wan0 shows.
 */
final class UntrustedTargets implements AutoCloseable {
    static final int TCP = 7001;
    static final int UDP = 7002;
    static final int CLOSED = 7003;
    /** tcpdump filter: what is sent to these ports. */
    private static final String[] SENT = { "dst", "port", String.valueOf(TCP), "or", "dst", "port",
            String.valueOf(UDP), "or", "dst", "port", String.valueOf(CLOSED) };

    private final ServerSocket tcp = new ServerSocket();
    private final DatagramSocket udp = new DatagramSocket(null);
    private final AtomicInteger delivered = new AtomicInteger();

    UntrustedTargets() throws IOException {
        tcp.bind(new InetSocketAddress("::", TCP));
        udp.bind(new InetSocketAddress("::", UDP));
        daemon(() -> {
            while (true) {
                try (Socket s = tcp.accept()) {
                    delivered.incrementAndGet();
                }
            }
        });
        daemon(() -> {
            while (true) {
                udp.receive(new DatagramPacket(new byte[2048], 2048));
                delivered.incrementAndGet();
            }
        });
    }

    /** hping3 from the outside, 500 packets a second each: SYNs to both TCP ports, datagrams to the UDP one. */
    static List<Process> flood(OutsideNetwork outside) throws IOException {
        String target = OutsideNetwork.APPLIANCE_V4;
        return List.of(
                outside.startOutside("hping3", "-q", "-S", "-p", String.valueOf(TCP), "-i", "u2000", target),
                outside.startOutside("hping3", "-q", "-S", "-p", String.valueOf(CLOSED), "-i", "u2000", target),
                outside.startOutside("hping3", "-q", "-2", "-p", String.valueOf(UDP), "-d", "32", "-i", "u2000", target));
    }

    /** Nothing was delivered, and in {@code capture} the appliance answered nothing sent to these ports. */
    void assertNothingGotIn(Path capture, int atLeastSent) throws IOException {
        List<String> sent = Capture.read(capture, SENT);
        assertTrue(sent.size() >= atLeastSent, "the flood did not run: " + sent.size() + " packets in the capture");
        assertEquals(0, delivered.get(), "unsolicited packets delivered to the untrusted listeners");
        // ICMPv6 types below 128 are the errors (unreachable, parameter problem…); neighbour discovery is above
        List<String> answers = Capture.read(capture, "(src", "host", OutsideNetwork.APPLIANCE_V4, "or", "src", "host",
                OutsideNetwork.APPLIANCE_V6 + ")", "and", "(icmp", "or", "src", "port", String.valueOf(TCP), "or",
                "src", "port", String.valueOf(CLOSED), "or", "(icmp6", "and", "ip6[40]", "<", "128))");
        assertEquals(List.of(), answers, "the appliance answered unsolicited packets");
        System.out.println(sent.size() + " unsolicited packets captured on their way in, 0 delivered, 0 answered");
    }

    /** How many unsolicited packets {@code capture} saw on their way in between two times (epoch seconds). */
    static long sentBetween(Path capture, double from, double to) throws IOException {
        List<String> argv = new ArrayList<>(List.of("-tt"));
        argv.addAll(List.of(SENT));
        return Capture.read(capture, argv.toArray(String[]::new)).stream()
                .mapToDouble(line -> Double.parseDouble(line.substring(0, line.indexOf(' '))))
                .filter(t -> t >= from && t <= to).count();
    }

    int delivered() {
        return delivered.get();
    }

    private interface Receiver {
        void run() throws IOException;
    }

    private static void daemon(Receiver receiver) {
        Thread t = new Thread(() -> {
            try {
                receiver.run();
            } catch (IOException closed) {
                // the socket was closed: the test is over
            }
        });
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        tcp.close();
        udp.close();
    }
}
