package org.flexwall.itests;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

    @Override
    public void close() throws InterruptedException, IOException {
        // on a loaded machine tcpdump may lag behind the test: let it write what it still has first (at most 3 s,
        // as traffic that goes on past the try block keeps the file growing)
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        long size = -1;
        while (Files.size(file) != size && System.nanoTime() < end) {
            size = Files.size(file);
            Thread.sleep(300);
        }
        tcpdump.destroy(); // SIGTERM: tcpdump writes what it has and exits
        tcpdump.waitFor(10, TimeUnit.SECONDS);
    }
}
