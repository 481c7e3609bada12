package org.flexwall.administration.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;

/**
 * The {@code flexwall} command's way into the running appliance: sends one request to the control socket and prints
 * the answer, as tables or, with {@code --json}, as the JSON line itself. Runs outside OSGi with only this bundle's
 * jar, jakarta.json and Parsson on the class path.
 *
 * <p>Exit codes: 0 done; 1 flexwall refused or failed the request (or {@code status} found a part not working);
 * 2 wrong usage; 3 flexwall is not running or cannot be reached.
 */
public final class ControlClient {
    public static final int OK = 0;
    public static final int REFUSED = 1;
    public static final int USAGE = 2;
    public static final int UNREACHABLE = 3;

    static final String USAGE_TEXT = String.join("\n",
            "usage: flexwall COMMAND [ARGUMENTS] [--json] [--socket PATH]",
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
            "  --json                        print the answer as JSON",
            "  --socket PATH                 the control socket (default: $FLEXWALL_CONTROL_SOCKET, $FLEXWALL_DATA/"
                    + ControlChannel.SOCKET_NAME + ", /var/lib/flexwall/" + ControlChannel.SOCKET_NAME + ")");

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
        java.util.Map<String, String> runsAs = new java.util.LinkedHashMap<>();
        List<String> words = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--json" -> json = true;
                case "--insist" -> insist = true;
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
        JsonObject request;
        try {
            request = request(words, insist, runsAs);
        } catch (IllegalArgumentException e) {
            return usage(e.getMessage());
        }
        Path path = socketPath(socket);
        JsonObject answer;
        try {
            answer = JsonSupport.parse(exchange(path, JsonSupport.line(request)));
        } catch (Unreachable e) {
            err.println("flexwall: " + e.getMessage());
            return UNREACHABLE;
        } catch (IllegalArgumentException e) {
            err.println("flexwall: the answer from " + path + " is " + e.getMessage());
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

    /** The request for a command line, paths made absolute against the current directory. */
    static JsonObject request(List<String> words, boolean insist) {
        return request(words, insist, java.util.Map.of());
    }

    /** As above, with the --user and --unit a trusted program is restricted to ({@code runsAs}: "user", "unit"). */
    static JsonObject request(List<String> words, boolean insist, java.util.Map<String, String> runsAs) {
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
            case "programs", "ports", "status", "reload", "reset", "disable", "enable" ->
                    arguments(words, 0, 0, command);
            default -> throw new IllegalArgumentException("unknown command '" + command + "'");
        }
        if ((insist || !runsAs.isEmpty()) && !command.equals("trust")) {
            throw new IllegalArgumentException("--insist, --user and --unit belong to trust only");
        }
        return b.build();
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

    /** The socket: --socket, else the environment, else the systemd unit's data directory. */
    Path socketPath(String option) {
        if (option != null) {
            return Path.of(option);
        }
        String explicit = env.get("FLEXWALL_CONTROL_SOCKET");
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String data = env.get("FLEXWALL_DATA");
        if (data != null && !data.isBlank()) {
            return Path.of(data).resolve(ControlChannel.SOCKET_NAME);
        }
        return Path.of("/var/lib/flexwall").resolve(ControlChannel.SOCKET_NAME);
    }

    /** Sends one line, reads one line. */
    static String exchange(Path socket, String line) throws Unreachable {
        if (!Files.exists(socket)) {
            throw new Unreachable("flexwall is not running (no control socket at " + socket + "); " + HOW_TO_START);
        }
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            ByteBuffer out = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
            while (out.hasRemaining()) {
                c.write(out);
            }
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            ByteBuffer in = ByteBuffer.allocate(8192);
            while (c.read(in.clear()) >= 0) {
                answer.write(in.array(), 0, in.position());
            }
            String text = answer.toString(StandardCharsets.UTF_8).strip();
            if (text.isEmpty()) {
                throw new Unreachable("flexwall closed the control socket " + socket + " without answering; "
                        + "its log says why");
            }
            return text;
        } catch (AccessDeniedException e) {
            throw new Unreachable("permission denied on the control socket " + socket + ": only root may control "
                    + "flexwall; run this as root");
        } catch (IOException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("Permission denied")) {
                throw new Unreachable("permission denied on the control socket " + socket + ": only root may "
                        + "control flexwall; run this as root");
            }
            if (m.contains("Connection refused")) {
                throw new Unreachable("flexwall is not running (the control socket " + socket + " is left from an "
                        + "earlier run and nobody answers); " + HOW_TO_START);
            }
            throw new Unreachable("cannot talk to flexwall on " + socket + ": " + m);
        }
    }

    private int usage(String problem) {
        err.println("flexwall: " + problem);
        err.println(USAGE_TEXT);
        return USAGE;
    }

    /** flexwall cannot be reached; the message says why and what to do. */
    static final class Unreachable extends Exception {
        private static final long serialVersionUID = 1L;

        Unreachable(String message) {
            super(message);
        }
    }
}
