import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * A console login flood: CLIENTS threads, each from its own loopback address (127.0.2.N), send wrong passwords for
 * admin as fast as the console answers, ignoring Retry-After, until killed; then prints how they were answered.
 * Usage: java LoginFlood.java PORT CLIENTS
 */
public class LoginFlood {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        int clients = Integer.parseInt(args[1]);
        Map<String, LongAdder> answers = new ConcurrentHashMap<>();
        long start = System.nanoTime();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            double seconds = (System.nanoTime() - start) / 1e9;
            long total = answers.values().stream().mapToLong(LongAdder::sum).sum();
            System.out.printf("login flood: %d clients, %d requests in %.1f s (%.0f/s), answers %s%n", clients, total,
                    seconds, total / seconds, answers);
        }));
        for (int i = 0; i < clients; i++) {
            InetAddress from = InetAddress.getByName("127.0.2." + (i + 1));
            Thread t = new Thread(() -> {
                for (long n = 0; ; n++) {
                    String status = attempt(from, port, "guess-" + n);
                    answers.computeIfAbsent(status, k -> new LongAdder()).increment();
                }
            });
            t.setDaemon(true);
            t.start();
        }
        Thread.currentThread().join();
    }

    private static String attempt(InetAddress from, int port, String password) {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(from, 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(30_000);
            String auth = Base64.getEncoder().encodeToString(("admin:" + password).getBytes(StandardCharsets.UTF_8));
            OutputStream out = s.getOutputStream();
            out.write(("GET /system/console/bundles HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nAuthorization: Basic "
                    + auth + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            return answer.length() >= 12 ? answer.substring(9, 12) : "short";
        } catch (Exception e) {
            return e.getClass().getSimpleName();
        }
    }
}
