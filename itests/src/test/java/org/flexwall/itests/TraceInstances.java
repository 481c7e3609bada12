package org.flexwall.itests;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The port monitor's tracefs instances ({@code instances/flexwall-PIDNAMESPACE-PID}) that an appliance killed with
 * SIGKILL left behind. The product removes them at its next start; a test whose appliance never starts again removes
 * them itself, so a run leaves no tracepoints enabled on the machine.
 */
final class TraceInstances {
    private static final Path INSTANCES = Path.of("/sys/kernel/tracing/instances");
    private static final Pattern FLEXWALL = Pattern.compile("flexwall-(\\d+)-(\\d+)");

    private TraceInstances() {
    }

    /** Removes the instances of this PID namespace whose process is gone; one still read is left alone. */
    static void removeAbandoned() {
        if (!Files.isDirectory(INSTANCES)) {
            return;
        }
        try (var list = Files.list(INSTANCES)) {
            String ours = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString(); // pid:[4026531836]
            for (Path p : list.toList()) {
                Matcher m = FLEXWALL.matcher(p.getFileName().toString());
                if (m.matches() && ours.equals("pid:[" + m.group(1) + "]")
                        && ProcessHandle.of(Long.parseLong(m.group(2))).isEmpty()) {
                    try {
                        Files.delete(p);
                    } catch (IOException busy) {
                        // a reader still has it open: not abandoned
                    }
                }
            }
        } catch (IOException e) {
            System.err.println("could not look at " + INSTANCES + ": " + e);
        }
    }
}
