package org.flexwall.administration.control;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import org.flexwall.api.packet.PacketHook;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceListener;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import jakarta.json.spi.JsonProvider;

/**
 * {@code flexwall hook} and {@code flexwall hook use NAME}: which packet hooks run, and swapping them at runtime.
 *
 * <p>A choice is a set of hook bundles (and the NFQUEUE hook's mode). {@code nftables} is in every choice: its table
 * {@code inet flexwall} is the kernel's default-drop baseline, which stays while the JVM is down, and it renders packet
 * bypass's table whatever decides in Java. The order of a swap: the new hooks start (or the NFQUEUE hook takes its new
 * mode), the swap waits until each reports no {@link PacketHook#problem()} (it protects), and only then the hooks
 * of the old choice stop. A hook that does not come up within {@value #WAIT_SECONDS} s is stopped again, the old
 * choice stays, and the answer names why. The choice is kept as the configuration {@value #PID} ({@code use}), which
 * {@link HookChoice} applies at every start of the appliance.
 */
public final class HookSwitch {
    /** The configuration that keeps the operator's choice. */
    public static final String PID = "org.flexwall.hooks";
    static final String USE = "use";
    static final String NFQUEUE_PID = "org.flexwall.hook.nfqueue";
    static final String BUNDLE_PREFIX = "org.flexwall.hook-";
    static final long WAIT_SECONDS = 30;
    /** A hook whose bundle ran already and that has no service after this long is not coming (no configuration). */
    static final long SETTLE_SECONDS = 3;
    /**
     * How often a hook's problem is asked again while no service event comes: the api has no event for it. A volatile
     * read, so often: at 200 ms each swap waited about 120 ms after the hook was ready.
     */
    static final long RECHECK_MILLIS = 20;
    private static final Object SWAPPING = new Object(); // one swap at a time, the command's or the start's

    /** A choice the operator can name: its hooks, and the NFQUEUE hook's mode when it runs. */
    public enum Choice {
        NETFILTER("netfilter", List.of("nftables", "nfqueue"), "firstPacket",
                "the kernel decides; new flows' first packets to Java (NFQUEUE), conntrack as the stateful firewall"),
        USERSPACE("userspace", List.of("nftables", "nfqueue"), "userspace",
                "every TCP and UDP packet through NFQUEUE to packet bypass and the Java stateful ICF"),
        PCAP("pcap", List.of("nftables", "pcap"), null,
                "the pcap bridge decides every frame in Java, in front of the kernel baseline"),
        NFTABLES("nftables", List.of("nftables"), null,
                "the kernel alone: permitted ports and conntrack, nothing decided in Java");

        public final String label;
        public final List<String> hooks;
        /** The NFQUEUE hook's mode in this choice, or null when it does not run. */
        public final String nfqueueMode;
        public final String description;

        Choice(String label, List<String> hooks, String nfqueueMode, String description) {
            this.label = label;
            this.hooks = hooks;
            this.nfqueueMode = nfqueueMode;
            this.description = description;
        }

        /** A choice's name, or a hook's: nfqueue stands for netfilter, the set it belongs to. */
        public static Choice named(String name) {
            String n = name.strip().toLowerCase(java.util.Locale.ROOT);
            if (n.equals("nfqueue")) {
                return NETFILTER;
            }
            for (Choice c : values()) {
                if (c.label.equals(n)) {
                    return c;
                }
            }
            throw new IllegalArgumentException("no hook or set of hooks called '" + name + "'; one of "
                    + String.join(", ", labels()) + " (nfqueue is netfilter)");
        }

        static List<String> labels() {
            return java.util.Arrays.stream(values()).map(c -> c.label).toList();
        }
    }

    /** What a swap did, or why it did not. */
    public record Outcome(boolean ok, String message, List<String> started, List<String> stopped) {
    }

    private final BundleContext context;
    private final ConfigurationAdmin config; // may be null: then nothing is kept and the mode cannot change
    private final JsonProvider json = JsonSupport.json();

    public HookSwitch(BundleContext context, ConfigurationAdmin config) {
        this.context = context;
        this.config = config;
    }

    /**
     * The control socket's {@code hook} operation: with {@code use} null the list, else the swap. The answer is
     * {@code {"ok":true,"op":"hook",…}} or {@code {"ok":false,"op":"hook","error":…}}.
     */
    public JsonObject execute(String use) {
        if (use == null) {
            return list().add("ok", true).add("op", "hook").build();
        }
        Outcome o = use(Choice.named(use));
        JsonObjectBuilder b = list().add("ok", o.ok()).add("op", "hook").add("use", Choice.named(use).label)
                .add("started", json.createArrayBuilder(o.started())).add("stopped", json.createArrayBuilder(o.stopped()));
        return (o.ok() ? b.add("message", o.message()) : b.add("error", o.message())).build();
    }

    /** Every hook bundle of the appliance, whether it runs, and whether it protects; and the kept choice. */
    public JsonObjectBuilder list() {
        JsonArrayBuilder hooks = json.createArrayBuilder();
        for (Map.Entry<String, Bundle> e : hookBundles().entrySet()) {
            Bundle b = e.getValue();
            Optional<PacketHook> hook = service(e.getKey());
            String problem = hook.isEmpty() ? null : hook.get().problem().orElse(null);
            hooks.add(json.createObjectBuilder().add("name", e.getKey()).add("bundle", b.getSymbolicName())
                    .add("bundleState", state(b)).add("active", hook.isPresent() && problem == null)
                    .add("status", hook.map(PacketHook::status).orElse(b.getState() == Bundle.ACTIVE
                            ? "bundle active, no hook service (its configuration?)" : "stopped"))
                    .add("problem", problem == null ? JsonValue.NULL : json.createValue(problem)));
        }
        JsonArrayBuilder choices = json.createArrayBuilder();
        for (Choice c : Choice.values()) {
            choices.add(json.createObjectBuilder().add("name", c.label).add("hooks", json.createArrayBuilder(c.hooks))
                    .add("description", c.description));
        }
        String kept = keptChoice();
        return json.createObjectBuilder().add("hooks", hooks).add("choices", choices)
                .add("choice", kept == null ? JsonValue.NULL : json.createValue(kept))
                .add("running", running().<JsonValue>map(c -> json.createValue(c.label)).orElse(JsonValue.NULL));
    }

    /** The choice the hooks that run now make, if they make one. */
    Optional<Choice> running() {
        List<String> active = new ArrayList<>();
        hookBundles().forEach((name, b) -> {
            if (b.getState() == Bundle.ACTIVE && service(name).isPresent()) {
                active.add(name); // a bundle without its hook (pcap not configured) decides nothing
            }
        });
        String mode = nfqueueMode();
        for (Choice c : Choice.values()) {
            if (active.size() == c.hooks.size() && active.containsAll(c.hooks)
                    && (c.nfqueueMode == null || c.nfqueueMode.equals(mode))) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    /** Swaps to {@code choice} in the safe order and keeps it; see the class comment. */
    public Outcome use(Choice choice) {
        synchronized (SWAPPING) {
            Map<String, Bundle> bundles = hookBundles();
            for (String h : choice.hooks) {
                if (!bundles.containsKey(h)) {
                    return failed("the hook bundle " + BUNDLE_PREFIX + h + " is not installed in this appliance; "
                            + "nothing changed");
                }
            }
            if (choice.nfqueueMode != null && config == null) {
                return failed("Configuration Admin is not running, so the NFQUEUE hook's mode cannot be set; nothing "
                        + "changed");
            }
            List<String> started = new ArrayList<>();
            String modeBefore = nfqueueMode();
            boolean modeChanged = false;
            try {
                if (choice.nfqueueMode != null && !choice.nfqueueMode.equals(modeBefore)) {
                    setNfqueueMode(choice.nfqueueMode); // SCR takes the queue's rules away, then puts the new ones
                    modeChanged = true;
                }
                for (String h : choice.hooks) {
                    Bundle b = bundles.get(h);
                    if (b.getState() != Bundle.ACTIVE) {
                        b.start();
                        started.add(h);
                    }
                }
                String notUp = awaitProtecting(choice, started);
                if (notUp != null) {
                    undo(bundles, started, modeChanged ? modeBefore : null);
                    return failed("not swapped to " + choice.label + ": " + notUp + "; the hooks that ran before "
                            + "still run");
                }
            } catch (BundleException | IOException | RuntimeException e) {
                undo(bundles, started, modeChanged ? modeBefore : null);
                return failed("not swapped to " + choice.label + ": " + e.getMessage() + "; the hooks that ran "
                        + "before still run");
            }
            List<String> stopped = new ArrayList<>();
            for (Map.Entry<String, Bundle> e : bundles.entrySet()) {
                if (!choice.hooks.contains(e.getKey()) && e.getValue().getState() == Bundle.ACTIVE) {
                    try {
                        e.getValue().stop();
                        stopped.add(e.getKey());
                    } catch (BundleException ex) {
                        return new Outcome(false, choice.label + " runs, but " + e.getKey() + " could not be stopped ("
                                + ex.getMessage() + "); both decide now", started, stopped);
                    }
                }
            }
            String keepProblem = keep(choice);
            String message = "packet hooks now: " + choice.label + " (" + String.join(" + ", choice.hooks)
                    + (choice.nfqueueMode != null ? ", NFQUEUE mode " + choice.nfqueueMode : "") + ")"
                    + (started.isEmpty() ? "" : "; started " + String.join(", ", started))
                    + (modeChanged ? "; NFQUEUE mode was " + modeBefore : "")
                    + (stopped.isEmpty() ? "" : "; stopped " + String.join(", ", stopped))
                    + (keepProblem == null ? "" : "; " + keepProblem);
            return new Outcome(keepProblem == null, message, started, stopped);
        }
    }

    /**
     * Null once every hook of the choice protects (in the choice's mode); else what the last one still says. Wakes at
     * once on a packet hook's service event; a hook's {@link PacketHook#problem()} clears without one (its worker opens
     * the queue or the interfaces), so without events it is asked again every {@value #RECHECK_MILLIS} ms.
     */
    private String awaitProtecting(Choice choice, List<String> started) {
        Semaphore events = new Semaphore(0);
        ServiceListener listener = e -> events.release();
        try {
            context.addServiceListener(listener, "(" + Constants.OBJECTCLASS + "=" + PacketHook.class.getName() + ")");
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        try {
            long begin = System.nanoTime();
            long end = begin + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (true) {
                NotYet waitingFor = notProtecting(choice, started, System.nanoTime() - begin);
                if (waitingFor == null || waitingFor.hopeless()) {
                    return waitingFor == null ? null : waitingFor.why();
                }
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return waitingFor.why() + " within " + WAIT_SECONDS + " s";
                }
                try {
                    events.tryAcquire(Math.min(left, TimeUnit.MILLISECONDS.toNanos(RECHECK_MILLIS)),
                            TimeUnit.NANOSECONDS);
                    events.drainPermits();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return "interrupted while waiting: " + waitingFor.why();
                }
            }
        } finally {
            context.removeServiceListener(listener);
        }
    }

    /** Why a hook of the choice does not protect yet, and whether waiting cannot change it. */
    private record NotYet(String why, boolean hopeless) {
    }

    /** Null when every hook of the choice protects; else why the first one that does not, does not. */
    private NotYet notProtecting(Choice choice, List<String> started, long waitedNanos) {
        for (String h : choice.hooks) {
            Optional<PacketHook> hook = service(h);
            Optional<String> problem = hook.flatMap(PacketHook::problem); // asked once: it changes meanwhile
            if (hook.isEmpty() && !started.contains(h) && waitedNanos > TimeUnit.SECONDS.toNanos(SETTLE_SECONDS)) {
                return new NotYet("the " + h + " hook's bundle runs but has no active hook: its component needs its "
                        + "configuration (org.flexwall.hook." + h + ") or failed (the log says why)", true);
            } else if (hook.isEmpty()) {
                return new NotYet("the " + h + " hook did not register its service", false);
            } else if (problem.isPresent()) {
                return new NotYet("the " + h + " hook does not protect: " + problem.get(), false);
            } else if (h.equals("pcap") && hook.get().status().startsWith("active: monitor")) {
                return new NotYet("the pcap hook is configured as a monitor, which counts and lets everything "
                        + "through; set mode bridge in org.flexwall.hook.pcap", true);
            } else if (h.equals("nfqueue") && !hook.get().status().startsWith("active: " + choice.nfqueueMode + ",")) {
                return new NotYet("the nfqueue hook is not active in mode " + choice.nfqueueMode + ": "
                        + hook.get().status(), false);
            }
        }
        return null;
    }

    /** The swap failed: the bundles it started stop again, the NFQUEUE hook gets its mode back. */
    private void undo(Map<String, Bundle> bundles, List<String> started, String mode) {
        for (String h : started) {
            try {
                bundles.get(h).stop();
            } catch (BundleException | RuntimeException e) {
                // it may be half up: stopping it is best effort, its kernel rules fail closed
            }
        }
        if (mode != null) {
            try {
                setNfqueueMode(mode);
            } catch (IOException | RuntimeException e) {
                // reported by the answer's message through the hook's status
            }
        }
    }

    /** The hook bundles installed, by hook name (the bundle's name after {@value #BUNDLE_PREFIX}). */
    Map<String, Bundle> hookBundles() {
        Map<String, Bundle> m = new LinkedHashMap<>();
        for (Bundle b : context.getBundles()) {
            String bsn = b.getSymbolicName();
            if (bsn != null && bsn.startsWith(BUNDLE_PREFIX) && b.getState() != Bundle.UNINSTALLED) {
                m.put(bsn.substring(BUNDLE_PREFIX.length()), b);
            }
        }
        return m;
    }

    /** The packet hook the bundle of {@code hook} registered, if it did. */
    private Optional<PacketHook> service(String hook) {
        try {
            for (ServiceReference<PacketHook> r : context.getServiceReferences(PacketHook.class, null)) {
                Bundle owner = r.getBundle();
                if (owner != null && (BUNDLE_PREFIX + hook).equals(owner.getSymbolicName())) {
                    PacketHook h = context.getService(r);
                    if (h != null) {
                        context.ungetService(r); // only asked now; the reference's bundle holds the object
                        return Optional.of(h);
                    }
                }
            }
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        return Optional.empty();
    }

    private String nfqueueMode() {
        if (config == null) {
            return null;
        }
        try {
            Configuration[] found = config.listConfigurations("(service.pid=" + NFQUEUE_PID + ")");
            Object mode = found == null || found.length == 0 || found[0].getProperties() == null ? null
                    : found[0].getProperties().get("mode");
            return mode == null ? "firstPacket" : mode.toString();
        } catch (IOException | InvalidSyntaxException e) {
            return null;
        }
    }

    private void setNfqueueMode(String mode) throws IOException {
        Configuration c = config.getConfiguration(NFQUEUE_PID, "?");
        Dictionary<String, Object> p = c.getProperties() == null ? new Hashtable<>() : c.getProperties();
        p.put("mode", mode);
        c.update(p);
    }

    /** The choice kept in {@value #PID}, or null when the operator never chose. */
    String keptChoice() {
        if (config == null) {
            return null;
        }
        try {
            Configuration[] found = config.listConfigurations("(service.pid=" + PID + ")");
            Object use = found == null || found.length == 0 || found[0].getProperties() == null ? null
                    : found[0].getProperties().get(USE);
            return use == null ? null : use.toString();
        } catch (IOException | InvalidSyntaxException e) {
            return null;
        }
    }

    /** Keeps the choice for the next start; null when kept, else why not. */
    private String keep(Choice choice) {
        if (config == null) {
            return "the choice is not kept across a restart: Configuration Admin is not running";
        }
        if (choice.label.equals(keptChoice())) {
            return null;
        }
        try {
            Configuration c = config.getConfiguration(PID, "?");
            Dictionary<String, Object> p = new Hashtable<>();
            p.put(USE, choice.label);
            c.update(p);
            return null;
        } catch (IOException | RuntimeException e) {
            return "the choice is not kept across a restart: " + e.getMessage();
        }
    }

    private static String state(Bundle b) {
        return switch (b.getState()) {
            case Bundle.ACTIVE -> "active";
            case Bundle.STARTING -> "starting";
            case Bundle.STOPPING -> "stopping";
            case Bundle.RESOLVED -> "resolved";
            case Bundle.INSTALLED -> "installed";
            default -> "uninstalled";
        };
    }

    private static Outcome failed(String message) {
        return new Outcome(false, message, List.of(), List.of());
    }
}
