package org.flexwall.itests;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** tcpdump on the appliance's wan0 for the length of a try block; the capture file is complete once closed. */
record Capture(Process tcpdump) implements AutoCloseable {
    static Capture start(Path file, String... options) throws Exception {
        List<String> argv = new ArrayList<>(List.of("tcpdump", "-i", "wan0", "-nn", "-U", "-w", file.toString()));
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
        return new Capture(p);
    }

    /** The packets in a capture file that match a tcpdump filter, one line each. */
    static List<String> read(Path file, String... filter) throws IOException {
        List<String> argv = new ArrayList<>(List.of("tcpdump", "-r", file.toString(), "-nn"));
        argv.addAll(List.of(filter));
        return OutsideNetwork.here(argv.toArray(String[]::new)).check().output().lines()
                .filter(l -> !l.startsWith("reading from file")).toList(); // tcpdump's own note on stderr
    }

    @Override
    public void close() throws InterruptedException {
        tcpdump.destroy(); // SIGTERM: tcpdump writes what it has and exits
        tcpdump.waitFor(10, TimeUnit.SECONDS);
    }
}
