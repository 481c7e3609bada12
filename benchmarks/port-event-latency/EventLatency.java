import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Time from listen() (and close()) returning in a trusted program to the running appliance's port store showing
 * (and dropping) the entry, seen through the appliance's own control socket.
 * Usage: java EventLatency.java CONTROL_SOCKET PORT CYCLES COMMAND...   (COMMAND runs listen_cycles)
 */
public class EventLatency {
    public static void main(String[] args) throws Exception {
        var socket = UnixDomainSocketAddress.of(args[0]);
        int port = Integer.parseInt(args[1]);
        int cycles = Integer.parseInt(args[2]);
        String entry = "\"protocol\":\"tcp\",\"family\":\"ipv4\",\"port\":" + port + ",";
        Process p = new ProcessBuilder(Arrays.copyOfRange(args, 3, args.length)).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII));
        OutputStream in = p.getOutputStream();
        long[] open = new long[cycles], close = new long[cycles];
        long polls = 0;
        for (int i = 0; i < cycles; i++) {
            long listened = stamp(out.readLine(), "listening");
            while (!ports(socket).contains(entry)) {
                polls++;
            }
            open[i] = System.nanoTime() - listened;
            in.write('\n');
            in.flush();
            long closed = stamp(out.readLine(), "closed");
            while (ports(socket).contains(entry)) {
                polls++;
            }
            close[i] = System.nanoTime() - closed;
            in.write('\n');
            in.flush();
        }
        p.waitFor();
        System.out.printf("cycles %d, control-socket polls %d%n", cycles, polls);
        report("listen() -> port-store entry", open);
        report("close()  -> entry removed   ", close);
    }

    private static long stamp(String line, String word) {
        if (line == null || !line.startsWith(word + " ")) {
            throw new IllegalStateException("listen_cycles said: " + line);
        }
        return Long.parseLong(line.substring(word.length() + 1).trim());
    }

    /** One "ports" request over the control socket; the answer as text. */
    private static String ports(UnixDomainSocketAddress address) throws Exception {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(address);
            ch.write(StandardCharsets.UTF_8.encode("{\"op\":\"ports\"}\n"));
            ByteBuffer buf = ByteBuffer.allocate(1 << 16);
            while (ch.read(buf) >= 0 && buf.hasRemaining()) {
                // read to the end of the answer
            }
            buf.flip();
            return StandardCharsets.UTF_8.decode(buf).toString();
        }
    }

    private static void report(String what, long[] ns) {
        long[] s = ns.clone();
        Arrays.sort(s);
        System.out.printf("%s  p50 %.3f ms  p99 %.3f ms  max %.3f ms%n", what,
                s[s.length / 2] / 1e6, s[(int) Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)] / 1e6,
                s[s.length - 1] / 1e6);
    }
}
