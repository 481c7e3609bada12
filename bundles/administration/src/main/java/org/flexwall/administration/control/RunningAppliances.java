package org.flexwall.administration.control;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * The flexwall appliances running in this process's network namespace, found in {@code /proc}: the JVMs started
 * by {@code flexwall run}, with the data directory each uses (worked out from its command line and environment
 * the way the launcher does). Their kernel rules live in this namespace, so the command finds them without being
 * told where their data is, and never takes "I cannot reach it" for "it is not running".
 */
final class RunningAppliances {
    static final String LAUNCHER = "org.flexwall.launcher.Main";

    /** One appliance JVM and the data directory it uses. */
    record Appliance(long pid, Path data) {
        Path socket() {
            return data.resolve(ControlChannel.SOCKET_NAME);
        }

        @Override
        public String toString() {
            return "pid " + pid + ", data in " + data;
        }
    }

    private RunningAppliances() {}

    static List<Appliance> inThisNetworkNamespace() {
        return find(Path.of("/proc"));
    }

    static List<Appliance> find(Path proc) {
        String ownNamespace = namespace(proc.resolve("self"));
        return ownNamespace == null ? List.of() : find(proc, ownNamespace::equals);
    }

    /**
     * The appliance that keeps its data in {@code data}, in whatever network namespace it runs (its kernel rules are
     * there, not necessarily in the caller's), or null when none runs.
     */
    static Appliance serving(Path proc, Path data) {
        Path wanted = data.toAbsolutePath().normalize();
        return find(proc, namespace -> true).stream().filter(a -> a.data().equals(wanted)).findFirst().orElse(null);
    }

    private static List<Appliance> find(Path proc, java.util.function.Predicate<String> inNamespace) {
        List<Appliance> found = new ArrayList<>();
        try (Stream<Path> entries = Files.list(proc)) {
            for (Path p : (Iterable<Path>) entries::iterator) {
                String name = p.getFileName().toString();
                String namespace = name.chars().allMatch(Character::isDigit) ? namespace(p) : null;
                if (namespace == null || !inNamespace.test(namespace)) {
                    continue;
                }
                Appliance a = appliance(p, Long.parseLong(name));
                if (a != null) {
                    found.add(a);
                }
            }
        } catch (IOException e) {
            // no /proc: nothing found
        }
        return found;
    }

    private static String namespace(Path process) {
        try {
            return Files.readSymbolicLink(process.resolve("ns/net")).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return null; // gone, or not ours to read
        }
    }

    /** The appliance a process runs, or null when it runs something else. */
    private static Appliance appliance(Path process, long pid) {
        try {
            List<String> argv = nulSeparated(Files.readAllBytes(process.resolve("cmdline")));
            int main = argv.indexOf(LAUNCHER);
            if (main < 0) {
                return null;
            }
            List<String> options = argv.subList(main + 1, argv.size());
            String data = null;
            for (int i = 0; i + 1 < options.size(); i++) {
                if (options.get(i).equals("--data")) {
                    data = options.get(i + 1);
                }
            }
            if (data == null) {
                data = nulSeparated(Files.readAllBytes(process.resolve("environ"))).stream()
                        .filter(e -> e.startsWith("FLEXWALL_DATA=") && e.length() > "FLEXWALL_DATA=".length())
                        .map(e -> e.substring("FLEXWALL_DATA=".length())).reduce((a, b) -> b).orElse(null);
            }
            if (data == null) {
                String home = argv.subList(0, main).stream().filter(a -> a.startsWith("-Dflexwall.home="))
                        .map(a -> a.substring("-Dflexwall.home=".length())).reduce((a, b) -> b).orElse(".");
                data = Path.of(home).resolve("data").toString();
            }
            Path cwd = Files.readSymbolicLink(process.resolve("cwd"));
            return new Appliance(pid, cwd.resolve(data).normalize());
        } catch (IOException | RuntimeException e) {
            return null; // exited meanwhile, or not readable
        }
    }

    private static List<String> nulSeparated(byte[] bytes) {
        return Arrays.asList(new String(bytes, StandardCharsets.UTF_8).split("\0"));
    }
}
