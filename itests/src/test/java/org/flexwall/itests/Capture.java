package org.flexwall.itests;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.core.ConditionTimeoutException;
import org.flexwall.testing.Await;

/** tcpdump on the appliance's wan0 for the length of a try block; the capture file is complete once closed. */
record Capture(Process tcpdump, Path file) implements AutoCloseable {
    static Capture start(Path file, String... options) throws IOException {
        return start(List.of(), "wan0", file, options);
    }

    /** tcpdump on {@code device}, run through {@code prefix} (such as ip netns exec NAME), until closed. */
    static Capture start(List<String> prefix, String device, Path file, String... options) throws IOException {
        // immediate mode: otherwise the kernel holds packets up to a second in a block, and SIGTERM loses them. Its
        // ring has one frame per packet of the snapshot length: headers only (512 B) and 16 MB, or it holds 8 packets
        List<String> argv = new ArrayList<>(prefix);
        argv.addAll(List.of("tcpdump", "-i", device, "-nn", "-U", "--immediate-mode", "-s", "512", "-B", "16384",
                "-w", file.toString()));
        argv.addAll(List.of(options));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        InputStream out = p.getInputStream();
        StringBuilder said = new StringBuilder();
        int b;
        while (!said.toString().contains("listening on") && (b = out.read()) >= 0) {
            said.append((char) b);
        }
        if (!p.isAlive()) {
            throw new IllegalStateException("tcpdump did not start: " + said);
        }
        return new Capture(p, file);
    }

    /** The packets in a capture file that match a tcpdump filter, one line each. */
    static List<String> read(Path file, String... filter) throws IOException {
        List<String> argv = new ArrayList<>(List.of("tcpdump", "-r", file.toString(), "-nn"));
        argv.addAll(List.of(filter));
        return OutsideNetwork.here(argv.toArray(String[]::new)).check().output().lines()
                .filter(l -> !l.startsWith("reading from file")).toList(); // tcpdump's own note on stderr
    }

    /**
     * The destination ports whose first client SYN no SYN-ACK answered (one connection per port), told by TCP
     * timestamps: a SYN-ACK echoes (ecr) the timestamp (val) of the SYN it answers, and a retransmitted SYN carries a
     * later one. Counts the SYNs seen per port into {@code syns}.
     */
    static List<Integer> firstSynUnanswered(Path capture, Map<Integer, Integer> syns) throws IOException {
        Pattern segment = Pattern.compile(" IP6? [0-9a-f:.]+\\.(\\d+) > [0-9a-f:.]+\\.(\\d+): Flags \\[(S\\.?)\\].*"
                + "TS val (\\d+) ecr (\\d+)");
        Map<Integer, String> firstSynVal = new TreeMap<>();
        Map<Integer, List<String>> echoed = new TreeMap<>();
        for (String line : read(capture)) {
            Matcher m = segment.matcher(line);
            if (!m.find()) {
                continue;
            }
            if (m.group(3).equals("S")) { // client → appliance
                int port = Integer.parseInt(m.group(2));
                syns.merge(port, 1, Integer::sum);
                firstSynVal.putIfAbsent(port, m.group(4));
            } else { // SYN-ACK, appliance → client
                echoed.computeIfAbsent(Integer.parseInt(m.group(1)), k -> new ArrayList<>()).add(m.group(5));
            }
        }
        return firstSynVal.entrySet().stream()
                .filter(e -> !echoed.getOrDefault(e.getKey(), List.of()).contains(e.getValue())).map(Map.Entry::getKey)
                .toList();
    }

    /**
     * The connections to {@code port} whose client sent its SYN more than once (the first went unanswered), as
     * "address.port seq ISN xCOUNT": a connection is its source and its initial sequence number, which a
     * retransmitted SYN repeats and a later connection from the same source port, over a long capture, does not.
     */
    static List<String> synsSentAgain(Path capture, int port) throws IOException {
        Pattern syn = Pattern.compile(" IP6? (\\S+) > .* seq (\\d+),");
        Map<String, Integer> syns = new LinkedHashMap<>();
        String clientSyns = "tcp dst port " + port + " and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn";
        for (String line : read(capture, clientSyns)) {
            Matcher from = syn.matcher(line);
            if (from.find()) {
                syns.merge(from.group(1) + " seq " + from.group(2), 1, Integer::sum);
            }
        }
        return syns.entrySet().stream().filter(e -> e.getValue() > 1).map(e -> e.getKey() + " x" + e.getValue())
                .toList();
    }

    /** Every packet to or from TCP port {@code port} (a client's local port), with epoch timestamps. */
    static List<String> connection(Path capture, String port) throws IOException {
        return read(capture, "-tt", "tcp port " + port);
    }

    @Override
    public void close() throws InterruptedException, IOException {
        // on a loaded machine tcpdump may lag behind the test: let it write what it still has first (at most 3 s,
        // as traffic that goes on past the try block keeps the file growing)
        AtomicLong lastSize = new AtomicLong(-1);
        try {
            Await.await("tcpdump's file to stop growing", Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(300))
                    .until(() -> {
                        long size = Files.size(file);
                        return lastSize.getAndSet(size) == size;
                    });
        } catch (ConditionTimeoutException e) {
            // still growing after 3 s: the traffic goes on, stop tcpdump anyway
        }
        tcpdump.destroy(); // SIGTERM: tcpdump writes what it has and exits
        tcpdump.waitFor(10, TimeUnit.SECONDS);
    }
}
