package org.flexwall.administration.shell;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.flexwall.administration.control.Operations;
import org.flexwall.administration.control.Render;
import org.flexwall.administration.control.ReplayCommand;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import jakarta.json.JsonObject;

/**
 * The Gogo commands {@code flexwall:trust}, {@code untrust}, {@code programs}, {@code reapprove}, {@code ports},
 * {@code status}, {@code reload}, {@code reset}, {@code disable}, {@code enable}, {@code audit}, {@code replay} and {@code hook}: the same operations and the same text as the {@code flexwall} command, for the Felix shell.
 * A refused request throws, so Gogo shows the message and scripts see the failure.
 */
@Component(name = "org.flexwall.administration.shell", service = FlexwallCommands.class, property = {
        "osgi.command.scope=flexwall",
        "osgi.command.function=trust",
        "osgi.command.function=untrust",
        "osgi.command.function=programs",
        "osgi.command.function=reapprove",
        "osgi.command.function=ports",
        "osgi.command.function=status",
        "osgi.command.function=reload",
        "osgi.command.function=reset",
        "osgi.command.function=disable",
        "osgi.command.function=enable",
        "osgi.command.function=update",
        "osgi.command.function=audit",
        "osgi.command.function=replay",
        "osgi.command.function=hook" })
public class FlexwallCommands {

    @Reference
    private Operations operations;

    public FlexwallCommands() {}

    /** Without OSGi (tests). */
    public FlexwallCommands(Operations operations) {
        this.operations = operations;
    }

    /** trust PATH [NAME] [--user USER] [--unit UNIT] [--insist] */
    public String trust(String... args) {
        String usage = "usage: flexwall:trust PATH [NAME] [--user USER] [--unit UNIT] [--insist]";
        boolean insist = false;
        String user = null;
        String unit = null;
        List<String> words = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--insist")) {
                insist = true;
            } else if ((a.equals("--user") || a.equals("--unit")) && i + 1 < args.length) {
                if (a.equals("--user")) {
                    user = args[++i];
                } else {
                    unit = args[++i];
                }
            } else if (a.startsWith("--")) {
                throw new IllegalArgumentException("unknown option or missing value: " + a + "; " + usage);
            } else {
                words.add(a);
            }
        }
        if (words.isEmpty() || words.size() > 2) {
            throw new IllegalArgumentException(usage);
        }
        return text(operations.trust(Operations.GOGO, absolute(words.get(0)), words.size() > 1 ? words.get(1) : null,
                insist, user, unit));
    }

    /** untrust PATH */
    public String untrust(String path) {
        return text(operations.untrust(Operations.GOGO, absolute(path)));
    }

    public String programs() {
        return text(operations.programs());
    }

    /** reapprove PATH */
    public String reapprove(String path) {
        return text(operations.reapprove(Operations.GOGO, absolute(path)));
    }

    public String ports() {
        return text(operations.ports());
    }

    public String status() {
        return text(operations.status());
    }

    public String reload() {
        return text(operations.reload(Operations.GOGO));
    }

    public String reset() {
        return text(operations.reset(Operations.GOGO));
    }

    public String disable() {
        return text(operations.switchPacketHooks(false));
    }

    public String enable() {
        return text(operations.switchPacketHooks(true));
    }

    /** update BUNDLE.jar: the jar as the framework's user sees it (the shell runs inside the appliance). */
    public String update(String jar) {
        return text(operations.update(absolute(jar)));
    }

    /** replay FILE.pcap [--ports LIST] [--local ADDRS] [--flows N]: the file as the framework's user sees it. */
    public String replay(String... args) {
        return text(operations.execute(ReplayCommand.request(List.of(args)), Operations.GOGO));
    }

    /** hook [use NAME]: the packet hooks, or a swap to NAME. */
    public String hook(String... args) {
        if (args.length != 0 && (args.length != 2 || !args[0].equals("use"))) {
            throw new IllegalArgumentException("usage: flexwall:hook [use NAME]");
        }
        return text(operations.hook(args.length == 2 ? args[1] : null));
    }

    /** audit [TEXT] [--since WHEN] [--limit N] */
    public String audit(String... args) {
        String usage = "usage: flexwall:audit [TEXT] [--since WHEN] [--limit N]";
        String since = null;
        int limit = 0;
        String contains = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--since") && i + 1 < args.length) {
                since = args[++i];
            } else if (a.equals("--limit") && i + 1 < args.length) {
                limit = limit(args[++i], usage);
            } else if (a.startsWith("--") || contains != null) {
                throw new IllegalArgumentException(usage);
            } else {
                contains = a;
            }
        }
        return text(operations.audit(since, limit, contains));
    }

    private static int limit(String text, String usage) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--limit takes a number of entries; " + usage);
        }
    }

    private static String absolute(String path) {
        return Path.of(path).toAbsolutePath().normalize().toString();
    }

    private static String text(JsonObject answer) {
        if (!answer.getBoolean("ok", false)) {
            throw new IllegalStateException(Render.text(answer));
        }
        return Render.text(answer);
    }
}
