package org.flexwall.administration.control;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.flexwall.administration.control.ControlConnection.NotRunning;
import org.flexwall.administration.control.ControlConnection.Unreachable;

import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;

/**
 * The {@code flexwall} command's way into the running appliance: sends one request to the control socket and prints
 * the answer, as tables or, with {@code --json}, as the JSON line itself. Runs outside OSGi with only this bundle's
 * jar, jakarta.json and Parsson on the class path.
 *
 * <p>The socket is {@code --socket}, else {@code DATA/control.sock} for {@code --data DATA} or {@code FLEXWALL_DATA},
 * else that of the appliance running in this network namespace (found in /proc, whatever its data directory), else
 * that of the image's default data directory.
 *
 * <p>Exit codes: 0 done; 1 flexwall refused or failed the request (or {@code status} found a part not working);
 * 2 wrong usage; 3 flexwall is not running (no socket, or nobody answers on it, and no appliance runs in this
 * network namespace); 4 flexwall could not be reached although it may run (busy, not answering, no permission,
 * or running with a control socket elsewhere).
 */
public final class ControlClient {
    public static final int OK = 0;
    public static final int REFUSED = 1;
    public static final int USAGE = 2;
    public static final int NOT_RUNNING = 3;
    public static final int UNREACHABLE = 4;

    /** How long to wait for the answer to a question, and to a change (a hook switch waits up to 30 s). */
    static final long QUERY_MILLIS = 10_000;
    static final long CHANGE_MILLIS = 45_000;
    private static final List<String> QUERIES = List.of("programs", "ports", "status", "audit");
    /** A hook swap waits up to 30 s for the new hooks, then stops the old ones. */
    static final long HOOK_SWAP_MILLIS = 75_000;

    static final String USAGE_TEXT = String.join("\n",
            "usage: flexwall COMMAND [ARGUMENTS] [--json] [--data DIR | --socket PATH]",
            "  trust PATH [NAME] [--insist]  trust the program at PATH (its bytes as they are now); --insist to trust",
            "                                a general interpreter such as python3",
            "    [--user USER] [--unit UNIT] only processes of that user (name or uid) in that systemd unit",
            "                                (nginx or nginx.service) count as the program",
            "  untrust PATH                  stop trusting the program approved at PATH; its ports close",
            "  programs                      list the trusted programs",
            "  reapprove PATH                trust the new bytes at PATH after an upgrade",
            "  ports                         list open ports, and sockets refused with the reason (an untrusted",
            "                                sharer, a traced or LD_PRELOADed holder, another user or unit)",
            "  status                        say whether every part of flexwall is working",
            "  reload                        read the trusted-program store again after repairing it",
            "  reset                         give up on a damaged trusted-program store and start with none trusted",
            "  disable                       stop the packet hooks and remove flexwall's kernel rules: nothing is",
            "                                filtered for flexwall until `enable` or its next start",
            "  enable                        start the packet hooks again",
            "  update BUNDLE.jar             replace one running implementation bundle by this version; the others",
            "                                and filtering go on; a version that fails to start is rolled back",
            "  audit [TEXT]                  the audit trail, newest first: who changed trust, and every port opened",
            "    [--since WHEN] [--limit N]  or closed; only entries containing TEXT, since WHEN (a time such as",
            "                                2026-12-07T10:00:00Z, a day such as 2026-12-07, or an age: 30m, 2h, 7d)",
            "  replay FILE.pcap              what the firewall would pass and drop of a capture, per flow: a private",
            "    [--ports LIST] [--local A]  copy of the engine, the permitted ports now (or LIST: tcp/5400,udp/53),",
            "    [--flows N]                 inbound = to the appliance's addresses (or A,...); N flows listed",
            "  hook                          the packet hooks: which run, and whether each protects",
            "  hook use NAME                 swap the packet hooks to NAME (netfilter, userspace, pcap, nftables):",
            "                                the new ones start and protect before the old ones stop; kept",
            "  --json                        print the answer as JSON",
            "  --data DIR                    the appliance's data directory (default: $FLEXWALL_DATA, else that of the",
            "                                appliance running in this network namespace, else the image's data/)",
            "  --socket PATH                 the control socket (default: DIR/" + ControlChannel.SOCKET_NAME + ")");

    /** How to start flexwall, for the message when it is not running. */
    static final String HOW_TO_START = "start it with `systemctl start flexwall` or `flexwall run`";

    private final PrintStream out;
    private final PrintStream err;
    private final Map<String, String> env;

    ControlClient(PrintStream out, PrintStream err, Map<String, String> env) {
        this.out = out;
        this.err = err;
        this.env = env;
    }

    public static void main(String[] args) {
        System.exit(new ControlClient(System.out, System.err, System.getenv()).run(args));
    }

    /** Runs one command; returns the exit code. */
    int run(String[] args) {
        boolean json = false;
        boolean insist = false;
        String socket = null;
        String data = null;
        java.util.Map<String, String> runsAs = new java.util.LinkedHashMap<>();
        java.util.Map<String, String> auditOptions = new java.util.LinkedHashMap<>();
        List<String> words = new ArrayList<>();
        List<String> replayOptions = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--ports", "--local", "--flows" -> {
                    if (i + 1 >= args.length) {
                        return usage(args[i] + " needs a value");
                    }
                    replayOptions.add(args[i]);
                    replayOptions.add(args[++i]);
                }
                case "--json" -> json = true;
                case "--insist" -> insist = true;
                case "--since", "--limit" -> {
                    if (++i >= args.length) {
                        return usage(args[i - 1] + " needs a value");
                    }
                    auditOptions.put(args[i - 1].substring(2), args[i]);
                }
                case "--user", "--unit" -> {
                    if (++i >= args.length) {
                        return usage(args[i - 1] + " needs a value");
                    }
                    runsAs.put(args[i - 1].substring(2), args[i]);
                }
                case "--socket" -> {
                    if (++i >= args.length) {
                        return usage("--socket needs a path");
                    }
                    socket = args[i];
                }
                case "--data" -> {
                    if (++i >= args.length) {
                        return usage("--data needs a directory");
                    }
                    data = args[i];
                }
                case "-h", "--help", "help" -> {
                    out.println(USAGE_TEXT);
                    return OK;
                }
                default -> {
                    if (args[i].startsWith("--")) {
                        return usage("unknown option " + args[i]);
                    }
                    words.add(args[i]);
                }
            }
        }
        if (words.isEmpty()) {
            return usage("no command given");
        }
        if (words.equals(List.of("where"))) {
            return where(socket, data);
        }
        JsonObject request;
        try {
            boolean replay = words.get(0).equals("replay");
            if (!replayOptions.isEmpty() && !replay) {
                return usage("--ports, --local and --flows belong to replay only");
            }
            request = replay ? ReplayCommand.request(concat(words.subList(1, words.size()), replayOptions))
                    : request(words, insist, runsAs, auditOptions);
        } catch (IllegalArgumentException e) {
            return usage(e.getMessage());
        }
        Path path;
        try {
            path = socketPath(socket, data);
        } catch (IllegalArgumentException e) {
            return usage(e.getMessage());
        }
        Path handedOver = null;
        JsonObject answer;
        try {
            if (words.get(0).equals("update") && Files.exists(path)) {
                handedOver = handOver(Path.of(request.getString("path")), path);
                request = JsonSupport.json().createObjectBuilder(request).add("path", handedOver.toString()).build();
            }
            long timeout = words.get(0).equals("hook") ? (words.size() > 1 ? HOOK_SWAP_MILLIS : QUERY_MILLIS)
                    : words.get(0).equals("replay") ? ReplayCommand.MILLIS
                    : QUERIES.contains(words.get(0)) ? QUERY_MILLIS : CHANGE_MILLIS;
            answer = JsonSupport.parse(ControlConnection.exchange(path, JsonSupport.line(request), timeout));
        } catch (NotRunning e) {
            List<RunningAppliances.Appliance> live = RunningAppliances.inThisNetworkNamespace();
            if (live.isEmpty()) {
                err.println("flexwall: " + e.getMessage());
                return NOT_RUNNING;
            }
            RunningAppliances.Appliance running = live.get(0);
            err.println("flexwall: flexwall is running (" + running + ") but cannot be reached: " + e.what + "; "
                    + (running.socket().equals(path.toAbsolutePath().normalize())
                            ? "it is starting, or its control socket failed (its log says why)"
                            : "name its data directory with --data " + running.data()));
            return UNREACHABLE;
        } catch (Unreachable e) {
            err.println("flexwall: " + e.getMessage());
            return UNREACHABLE;
        } catch (IllegalArgumentException e) {
            err.println("flexwall: the answer from " + path + " is " + e.getMessage());
            return UNREACHABLE;
        } catch (IOException e) {
            err.println("flexwall: " + e.getMessage());
            return REFUSED;
        } finally {
            if (handedOver != null) {
                try {
                    Files.deleteIfExists(handedOver);
                } catch (IOException e) {
                    // a leftover copy in the data directory harms nothing
                }
            }
        }
        if (answer.getBoolean("busy", false)) {
            err.println("flexwall: " + answer.getString("error", "flexwall is busy"));
            return UNREACHABLE;
        }
        boolean ok = answer.getBoolean("ok", false);
        if (json) {
            out.println(JsonSupport.line(answer));
        } else if (ok) {
            out.println(Render.text(answer));
        } else {
            err.println("flexwall: " + Render.text(answer));
        }
        if (!ok) {
            return REFUSED;
        }
        return answer.getBoolean("healthy", true) ? OK : REFUSED;
    }

    /**
     * For the script's {@code disable}: prints the pid of the appliance that the other commands would talk to, in
     * whatever network namespace it runs, so that its kernel rules are removed there; prints nothing when none runs.
     */
    private int where(String socketOption, String dataOption) {
        Path socket;
        try {
            socket = socketPath(socketOption, dataOption);
        } catch (IllegalArgumentException e) {
            return usage(e.getMessage());
        }
        Path data = socket.toAbsolutePath().normalize().getParent();
        RunningAppliances.Appliance serving = RunningAppliances.serving(Path.of("/proc"), data);
        if (serving != null) {
            out.println(serving.pid());
        }
        return OK;
    }

    /** The request for a command line, paths made absolute against the current directory. */
    static JsonObject request(List<String> words, boolean insist) {
        return request(words, insist, java.util.Map.of());
    }

    /** As above, with the --user and --unit a trusted program is restricted to ({@code runsAs}: "user", "unit"). */
    static JsonObject request(List<String> words, boolean insist, java.util.Map<String, String> runsAs) {
        return request(words, insist, runsAs, java.util.Map.of());
    }

    /** As above, with audit's --since and --limit ({@code auditOptions}: "since", "limit"). */
    static JsonObject request(List<String> words, boolean insist, java.util.Map<String, String> runsAs,
            java.util.Map<String, String> auditOptions) {
        String command = words.get(0);
        JsonObjectBuilder b = JsonSupport.json().createObjectBuilder().add("op", command);
        switch (command) {
            case "trust" -> {
                arguments(words, 1, 2, "trust PATH [NAME] [--user USER] [--unit UNIT] [--insist]");
                b.add("path", absolute(words.get(1))).add("insist", insist);
                if (words.size() > 2) {
                    b.add("name", words.get(2));
                }
                runsAs.forEach(b::add);
            }
            case "untrust", "reapprove" -> {
                arguments(words, 1, 1, command + " PATH");
                b.add("path", absolute(words.get(1)));
            }
            case "update" -> {
                arguments(words, 1, 1, "update BUNDLE.jar");
                b.add("path", absolute(words.get(1)));
            }
            case "hook" -> {
                if (words.size() > 1 && (words.size() != 3 || !words.get(1).equals("use"))) {
                    throw new IllegalArgumentException("usage: hook [use NAME]");
                }
                if (words.size() == 3) {
                    b.add("use", words.get(2));
                }
            }
            case "programs", "ports", "status", "reload", "reset", "disable", "enable" ->
                    arguments(words, 0, 0, command);
            case "audit" -> {
                arguments(words, 0, 1, "audit [TEXT] [--since WHEN] [--limit N]");
                if (words.size() > 1) {
                    b.add("contains", words.get(1));
                }
                if (auditOptions.containsKey("since")) {
                    b.add("since", auditOptions.get("since"));
                }
                if (auditOptions.containsKey("limit")) {
                    try {
                        b.add("limit", Integer.parseInt(auditOptions.get("limit")));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("--limit takes a number of entries");
                    }
                }
            }
            default -> throw new IllegalArgumentException("unknown command '" + command + "'");
        }
        if (!auditOptions.isEmpty() && !command.equals("audit")) {
            throw new IllegalArgumentException("--since and --limit belong to audit only");
        }
        if ((insist || !runsAs.isEmpty()) && !command.equals("trust")) {
            throw new IllegalArgumentException("--insist, --user and --unit belong to trust only");
        }
        return b.build();
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static void arguments(List<String> words, int min, int max, String form) {
        int n = words.size() - 1;
        if (n < min || n > max) {
            throw new IllegalArgumentException("expected: flexwall " + form);
        }
    }

    private static String absolute(String path) {
        return Path.of(path).toAbsolutePath().normalize().toString();
    }

    /**
     * A copy of the jar beside the control socket, owned by the appliance's user: the service may not see the
     * operator's file where it is (its /tmp is private, its user may not read it).
     */
    static Path handOver(Path jar, Path socket) throws IOException {
        if (!Files.isRegularFile(jar)) {
            throw new IOException("no file " + jar + "; name the bundle's jar");
        }
        Path dir = socket.toAbsolutePath().getParent();
        Path copy = Files.createTempFile(dir, ".update-", ".jar");
        try {
            Files.copy(jar, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            if (Files.exists(socket)) {
                Files.setOwner(copy, Files.getOwner(socket));
            }
        } catch (IOException e) {
            Files.deleteIfExists(copy);
            throw new IOException("cannot hand " + jar + " to flexwall in " + dir + ": " + e.getMessage());
        }
        return copy;
    }

    /** The socket: see the class comment for the order. */
    Path socketPath(String socketOption, String dataOption) {
        if (socketOption != null) {
            return Path.of(socketOption);
        }
        if (dataOption != null) {
            return Path.of(dataOption).resolve(ControlChannel.SOCKET_NAME);
        }
        String explicit = env.get("FLEXWALL_CONTROL_SOCKET");
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String data = env.get("FLEXWALL_DATA");
        if (data != null && !data.isBlank()) {
            return Path.of(data).resolve(ControlChannel.SOCKET_NAME);
        }
        List<RunningAppliances.Appliance> live = RunningAppliances.inThisNetworkNamespace();
        if (live.size() == 1) {
            return live.get(0).socket();
        }
        if (live.size() > 1) {
            throw new IllegalArgumentException("several flexwall appliances run in this network namespace ("
                    + live.stream().map(Object::toString).collect(Collectors.joining("; ")) + "); name one with --data");
        }
        String home = System.getProperty("flexwall.home");
        return (home != null ? Path.of(home, "data") : Path.of("/var/lib/flexwall")).resolve(ControlChannel.SOCKET_NAME);
    }

    private int usage(String problem) {
        err.println("flexwall: " + problem);
        err.println(USAGE_TEXT);
        return USAGE;
    }
}
