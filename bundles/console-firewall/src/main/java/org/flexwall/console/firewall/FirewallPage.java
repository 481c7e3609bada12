package org.flexwall.console.firewall;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.flexwall.api.audit.AuditEntry;
import org.flexwall.api.audit.AuditException;
import org.flexwall.api.audit.AuditTrail;
import org.flexwall.api.audit.TrustChange;
import org.flexwall.api.packet.DropRecord;
import org.flexwall.api.packet.PortTraffic;
import org.flexwall.api.packet.PacketHook;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PortMonitor;
import org.flexwall.api.port.PortStore;
import org.flexwall.api.port.SocketOwner;
import org.flexwall.api.program.ProgramRegistry;
import org.flexwall.api.program.ProgramRegistryListener;
import org.flexwall.api.program.RegistryException;
import org.flexwall.api.program.TrustedProgram;
import org.flexwall.json.JsonProviders;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;

import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.spi.JsonProvider;
import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The Web Console's Firewall page (the patent's FIG. 5 dialog): trusted programs, listeners waiting for trust with
 * one-click trust, permitted ports, refused sockets, dropped attempts, the packet path and the audit trail. The page
 * polls {@code state.json} once a second. Its actions are POSTs: the console's security provider has checked Host,
 * Origin and the login before this servlet runs; the page's own token is checked here.
 */
@Component(service = Servlet.class, property = {
        "felix.webconsole.label=" + FirewallPage.LABEL,
        "felix.webconsole.title=Firewall",
        "felix.webconsole.category=flexwall",
        "felix.webconsole.css=/" + FirewallPage.LABEL + "/res/firewall.css" })
public class FirewallPage extends HttpServlet {
    private static final long serialVersionUID = 1L;
    static final String LABEL = "firewall";
    /** Where the console's security provider leaves the user it authenticated (the Http Whiteboard's REMOTE_USER). */
    static final String REMOTE_USER = "org.osgi.service.http.authentication.remote.user";
    private static final long FRESH_NANOS = TimeUnit.MILLISECONDS.toNanos(900);
    static final long WATCHED_SECONDS = 10;
    static final long UNWATCHED_SECONDS = 10;

    @Reference(service = LoggerFactory.class)
    private transient Logger log;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile transient ProgramRegistry registry;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile transient PortStore portStore;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile transient PortMonitor portMonitor;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile transient DropRecord dropRecord;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile transient PortTraffic portTraffic;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile transient AuditTrail auditTrail;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private final transient List<PacketHook> hooks = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private final transient List<ProgramRegistryListener> registryListeners = new CopyOnWriteArrayList<>();

    private final transient JsonProvider json = JsonProviders.provider();
    private final transient ActionToken token = new ActionToken();
    private final transient DropTally drops = new DropTally(8192);
    private final transient PacketPath path = new PacketPath();
    private final transient DiskHashes disk = new DiskHashes();
    private transient ScheduledExecutorService sampler;
    private transient JsonObject cached;
    private transient String cachedFilter;
    private transient long cachedAt;
    private volatile long lastAsked = Long.MIN_VALUE / 2;
    private transient long lastSampled = Long.MIN_VALUE / 2;

    @Activate
    void activate() {
        sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "flexwall-console-sampler");
            t.setDaemon(true);
            return t;
        });
        sampler.scheduleAtFixedRate(this::sampleIfDue, 0, 1, TimeUnit.SECONDS);
    }

    /**
     * Every second while the page was asked for in the last {@value #WATCHED_SECONDS} s, else every
     * {@value #UNWATCHED_SECONDS} s: reading the kernel's drop record costs a process start, and its counters and the
     * queue's only grow, so nothing is lost between two looks.
     */
    private void sampleIfDue() {
        long now = System.nanoTime();
        boolean watched = now - lastAsked < TimeUnit.SECONDS.toNanos(WATCHED_SECONDS);
        if (watched || now - lastSampled >= TimeUnit.SECONDS.toNanos(UNWATCHED_SECONDS) - TimeUnit.MILLISECONDS.toNanos(500)) {
            lastSampled = now;
            sample();
        }
    }

    @Deactivate
    void deactivate() {
        sampler.shutdownNow();
    }

    /** Once a second: the dropped attempts from every source, and the packet path's figures. */
    private void sample() {
        try {
            // the kernel's record counts every attempt, those the queue drops included; without it (no nftables
            // hook) the user-space hooks' recent drops are all there is
            DropRecord record = dropRecord;
            if (record != null) {
                drops.kernel(record.counts());
            } else {
                for (PacketHook h : hooks) {
                    drops.userSpace(h.recentDrops());
                }
            }
            path.sample(Instant.now().getEpochSecond(), PacketPath.readQueues(), drops.total(),
                    PacketPath.readNumber(PacketPath.CONNTRACK_COUNT), PacketPath.readNumber(PacketPath.CONNTRACK_MAX));
        } catch (RuntimeException e) {
            log.warn("the Firewall page could not sample the packet path: {}", e.toString());
        }
    }

    // --- GET: the page and its state ------------------------------------------------------------------------------

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String info = request.getPathInfo() == null ? "" : request.getPathInfo();
        if (info.endsWith("/state.json")) {
            JsonObject state = state(request.getParameter("audit"));
            respond(response, 200, state);
            return;
        }
        String pluginRoot = String.valueOf(request.getAttribute("felix.webconsole.pluginRoot"));
        response.setContentType("text/html;charset=UTF-8");
        PrintWriter w = response.getWriter();
        // the console fills in ${...} in HTML it serves: this markup has none, and every value is filled in by the
        // script with textContent, so a program's name is always shown as text
        w.print(Page.html(pluginRoot, token.forUser(user(request))));
    }

    private synchronized JsonObject state(String auditFilter) {
        long now = System.nanoTime();
        if (now - lastAsked >= TimeUnit.SECONDS.toNanos(WATCHED_SECONDS)) {
            sampler.execute(this::sample); // the first look after a quiet while: figures of now, not of up to 10 s ago
        }
        lastAsked = now;
        String filter = auditFilter == null ? "" : auditFilter;
        if (cached != null && now - cachedAt < FRESH_NANOS && filter.equals(cachedFilter)) {
            return cached; // several browsers polling cost one answer a second
        }
        DropRecord record = dropRecord;
        cached = new FirewallState(json).build(new FirewallState.Sources(registry, portStore, portMonitor,
                List.copyOf(hooks), auditTrail, drops, record == null ? 0 : record.capacity(), path, disk,
                portTraffic), filter);
        cachedFilter = filter;
        cachedAt = now;
        return cached;
    }

    // --- POST: the actions ----------------------------------------------------------------------------------------

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String user = user(request);
        if (!token.valid(user, request.getHeader(ActionToken.HEADER))) {
            log.warn("refused a Firewall page action without the page's token from {} (user {})",
                    request.getRemoteAddr(), user);
            respond(response, 403, result(false, "refused: this action must come from the Firewall page itself"));
            return;
        }
        String info = request.getPathInfo() == null ? "" : request.getPathInfo();
        String action = info.substring(info.lastIndexOf('/') + 1);
        JsonObject answer = switch (action) {
            case "trust-listener" -> trustListener(user, request.getParameter("pid"), request.getParameter("startTime"),
                    request.getParameter("sha256"));
            case "add" -> add(user, request.getParameter("path"), request.getParameter("name"),
                    request.getParameter("user"), request.getParameter("unit"));
            case "remove" -> remove(user, request.getParameter("path"));
            default -> null;
        };
        if (answer == null) {
            respond(response, 404, result(false, "no such action: " + action));
            return;
        }
        synchronized (this) {
            cached = null; // the next poll shows the change
        }
        respond(response, answer.getBoolean("ok") ? 200 : 400, answer);
    }

    /** One click: trusts exactly the image the listening process runs, when the file on disk still holds it. */
    JsonObject trustListener(String user, String pid, String startTime, String sha256) {
        ProgramRegistry r = registry;
        PortMonitor m = portMonitor;
        if (r == null || m == null) {
            return result(false, "the program registry or the port monitor is not running; try again shortly");
        }
        Optional<SocketOwner> owner = m.listening().stream().map(ListeningSocket::owners).flatMap(List::stream)
                .filter(o -> Long.toString(o.pid()).equals(pid) && Long.toString(o.startTime()).equals(startTime)
                        && o.sha256() != null && o.sha256().equals(sha256))
                .findFirst();
        if (owner.isEmpty()) {
            return result(false, "that process no longer listens with that image; the list is up to date now");
        }
        SocketOwner o = owner.get();
        String exe = o.executable().toString();
        if (o.tampered() != null || exe.endsWith(" (deleted)")) {
            return result(false, "not trusted: " + (o.tampered() != null ? o.tampered() : "it runs a deleted file"));
        }
        Path file = o.executable();
        if (r.interpreter(file).isPresent()) {
            return result(false, file + " is an interpreter: trusting it would trust every script it runs. Use "
                    + "`flexwall trust --insist` at the appliance if you really mean it");
        }
        Optional<String> onDisk = disk.sha256(file);
        if (onDisk.isEmpty() || !onDisk.get().equals(sha256)) {
            return result(false, "not trusted: the file " + file + " no longer holds the bytes that process runs");
        }
        Path name = file.getFileName();
        return trust(user, file, name == null ? file.toString() : name.toString(), null, null, sha256);
    }

    JsonObject add(String user, String path, String name, String asUser, String unit) {
        if (path == null || path.isBlank()) {
            return result(false, "give the full path of the program to trust");
        }
        Path file;
        try {
            file = Path.of(path.strip());
        } catch (InvalidPathException e) {
            return result(false, "not a path: " + e.getMessage());
        }
        if (!file.isAbsolute()) {
            return result(false, "give the full path, starting with /, not " + path.strip());
        }
        return trust(user, file, blankToNull(name), blankToNull(asUser), blankToNull(unit), null);
    }

    private JsonObject trust(String user, Path file, String name, String asUser, String unit, String expected) {
        ProgramRegistry r = registry;
        if (r == null) {
            return result(false, "the program registry is not running: nothing can be trusted now");
        }
        TrustedProgram p;
        try {
            p = r.trust(file, name, false, asUser, unit);
        } catch (RegistryException e) {
            return result(false, e.getMessage());
        }
        if (expected != null && !expected.equals(p.sha256())) {
            // the file changed between the check and the hash: trust nothing rather than other bytes
            try {
                r.untrust(p.path());
            } catch (RegistryException e) {
                log.error("the file {} changed while it was trusted from the console, and removing it failed: {}",
                        file, e.getMessage());
            }
            return result(false, "not trusted: " + file + " changed while it was being trusted");
        }
        programsChanged();
        log.info("console user {} trusted program '{}' at {}, SHA-256 {}", user, p.name(), p.path(), p.sha256());
        String note = audit(TrustChange.trusted(user, p));
        return result(true, "trusted '" + p.name() + "' (" + p.path() + ", SHA-256 " + p.sha256().substring(0, 12)
                + "…)" + note);
    }

    JsonObject remove(String user, String path) {
        ProgramRegistry r = registry;
        if (r == null) {
            return result(false, "the program registry is not running: nothing can be removed now");
        }
        if (path == null || path.isBlank()) {
            return result(false, "which program? no path given");
        }
        List<TrustedProgram> removed;
        try {
            removed = r.untrust(Path.of(path));
        } catch (RegistryException | InvalidPathException e) {
            return result(false, e.getMessage());
        }
        if (removed.isEmpty()) {
            return result(false, "no trusted program was approved at " + path);
        }
        programsChanged();
        StringBuilder note = new StringBuilder();
        for (TrustedProgram p : removed) {
            log.info("console user {} no longer trusts program '{}' at {}", user, p.name(), p.path());
            String n = audit(TrustChange.untrusted(user, p));
            if (note.indexOf(n) < 0) {
                note.append(n);
            }
        }
        return result(true, "removed '" + removed.get(0).name() + "' (" + path + "): its ports close" + note);
    }

    /** Records a change; says so in the answer when the trail could not. */
    private String audit(AuditEntry entry) {
        AuditTrail trail = auditTrail;
        if (trail == null) {
            return "; done, but the audit trail could not record it: audit trail not available";
        }
        try {
            trail.record(entry);
            return "";
        } catch (AuditException | RuntimeException e) {
            log.error("the audit trail could not record a console change ({}): {}", entry.summary(), e.getMessage());
            return "; done, but the audit trail could not record it: " + e.getMessage();
        }
    }

    /** Re-evaluation at once, as the CLI does, even if the registry does not notify. */
    private void programsChanged() {
        for (ProgramRegistryListener l : registryListeners) {
            try {
                l.programsChanged();
            } catch (RuntimeException e) {
                log.warn("a ProgramRegistryListener failed: {}", e.toString());
            }
        }
    }

    // --- helpers --------------------------------------------------------------------------------------------------

    static String user(HttpServletRequest request) {
        Object u = request.getAttribute(REMOTE_USER);
        if (u == null) {
            u = request.getRemoteUser();
        }
        return u == null ? "console" : u.toString();
    }

    private JsonObject result(boolean ok, String message) {
        JsonObjectBuilder b = json.createObjectBuilder().add("ok", ok).add("message", message);
        return b.build();
    }

    private static void respond(HttpServletResponse response, int status, JsonObject body) throws IOException {
        byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.setContentType("application/json;charset=UTF-8");
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
