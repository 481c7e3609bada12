package org.flexwall.administration.control;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.flexwall.api.packet.PacketHook;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.PortMonitor;
import org.flexwall.api.port.PortStore;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.port.SocketOwner;
import org.flexwall.api.program.ProgramRegistry;
import org.flexwall.api.program.ProgramRegistryListener;
import org.flexwall.api.program.RegistryException;
import org.flexwall.api.program.TrustedProgram;

/** Small in-test services behind the operations: a registry in memory, a store that shows its registry's ports. */
public final class Fakes {
    private Fakes() {}

    public static final Instant APPROVED = Instant.parse("2025-06-01T10:00:00Z");

    /** A registry in memory; "hashes" a path by its name, refuses python3 unless insisted. */
    public static final class Registry implements ProgramRegistry {
        public final List<TrustedProgram> programs = new CopyOnWriteArrayList<>();
        public volatile String problem;
        public volatile boolean lastInsist;
        /** What the next reload finds: null for a repaired store. */
        public volatile String problemAfterReload;

        public static String shaOf(Path path) {
            return String.format("%064x", Math.abs((long) path.toString().hashCode()));
        }

        @Override
        public List<TrustedProgram> programs() {
            return problem == null ? List.copyOf(programs) : List.of();
        }

        @Override
        public Optional<TrustedProgram> bySha256(String sha256) {
            return programs().stream().filter(p -> p.sha256().equals(sha256)).findFirst();
        }

        @Override
        public TrustedProgram trust(Path path, String name, boolean insist) throws RegistryException {
            lastInsist = insist;
            if (problem != null) {
                throw new RegistryException(problem);
            }
            if (path.getFileName().toString().equals("python3") && !insist) {
                throw new RegistryException(path + " is the general interpreter 'python3'; trusting it trusts every "
                        + "script it runs: add --insist if you mean it");
            }
            TrustedProgram p = new TrustedProgram(name == null ? path.getFileName().toString() : name, path,
                    shaOf(path), "0".repeat(32), APPROVED, insist);
            programs.add(p);
            return p;
        }

        @Override
        public TrustedProgram trust(Path path, String name, boolean insist, String user, String unit)
                throws RegistryException {
            TrustedProgram plain = trust(path, name, insist);
            if (user == null && unit == null) {
                return plain;
            }
            programs.remove(plain);
            TrustedProgram p = new TrustedProgram(plain.name(), path, plain.sha256(), plain.md5(), APPROVED, insist,
                    user, user == null ? TrustedProgram.ANY_UID : 33, unit == null ? null : unit + ".service");
            programs.add(p);
            return p;
        }

        @Override
        public List<TrustedProgram> untrust(Path path) {
            List<TrustedProgram> gone = programs.stream().filter(p -> p.path().equals(path)).toList();
            programs.removeAll(gone);
            return gone;
        }

        @Override
        public TrustedProgram reapprove(Path path) throws RegistryException {
            TrustedProgram old = programs.stream().filter(p -> p.path().equals(path)).findFirst()
                    .orElseThrow(() -> new RegistryException(path + " is not a trusted program; trust it first"));
            TrustedProgram renewed = new TrustedProgram(old.name(), path, "e".repeat(64), old.md5(),
                    APPROVED.plusSeconds(60), old.interpreter());
            programs.set(programs.indexOf(old), renewed);
            return renewed;
        }

        @Override
        public boolean usable() {
            return problem == null;
        }

        @Override
        public Optional<String> problem() {
            return Optional.ofNullable(problem);
        }

        @Override
        public boolean reload() {
            problem = problemAfterReload;
            return usable();
        }

        @Override
        public void reset() throws RegistryException {
            if (problem == null) {
                throw new RegistryException("the trusted-program store is usable, so there is nothing to reset");
            }
            problem = null;
            programs.clear();
        }
    }

    /**
     * A store that, like the real one, permits the listening sockets whose every owner is trusted, re-evaluated
     * when told the programs changed.
     */
    public static final class Store implements PortStore, ProgramRegistryListener {
        public final List<ListeningSocket> listening = new CopyOnWriteArrayList<>();
        public final AtomicInteger changes = new AtomicInteger();
        private final Registry registry;
        private volatile List<PermittedPort> permitted = List.of();

        public Store(Registry registry) {
            this.registry = registry;
        }

        @Override
        public void programsChanged() {
            changes.incrementAndGet();
            List<PermittedPort> now = new ArrayList<>();
            for (ListeningSocket s : listening) {
                List<Optional<TrustedProgram>> owners = s.owners().stream().map(o -> registry.bySha256(o.sha256())).toList();
                if (!owners.isEmpty() && owners.stream().allMatch(Optional::isPresent)) {
                    now.add(new PermittedPort(owners.get(0).get(), s.protocol(), s.family(), s.port(), s.inode(),
                            s.owners(), APPROVED));
                }
            }
            permitted = List.copyOf(now);
        }

        @Override
        public List<PermittedPort> permitted() {
            return permitted;
        }

        @Override
        public boolean isPermitted(Protocol protocol, AddressFamily family, int port) {
            return permitted.stream().anyMatch(p -> p.protocol() == protocol && p.family() == family && p.port() == port);
        }

        @Override
        public boolean permitNow(Protocol protocol, AddressFamily family, int port) {
            return isPermitted(protocol, family, port);
        }

        @Override
        public List<org.flexwall.api.port.RefusedSocket> refusals() {
            return refused().stream().map(s -> new org.flexwall.api.port.RefusedSocket(s,
                    "pid 4242 /usr/bin/python3 is not a trusted program")).toList();
        }

        @Override
        public List<ListeningSocket> refused() {
            return listening.stream().filter(s -> s.owners().stream().anyMatch(o -> registry.bySha256(o.sha256()).isPresent())
                    && s.owners().stream().anyMatch(o -> registry.bySha256(o.sha256()).isEmpty())).toList();
        }
    }

    /** Health checks that all pass, as the framework's executor answers when flexwall protects. */
    public static final java.util.function.Supplier<List<Operations.Check>> CHECKS_PASS = () -> List.of(
            new Operations.Check("flexwall packet hook", org.apache.felix.hc.api.Result.Status.OK,
                    List.of("packet hook fake protects")));

    public static final PortMonitor MONITOR = new PortMonitor() {
        @Override
        public List<ListeningSocket> listening() {
            return List.of();
        }

        @Override
        public Optional<ListeningSocket> ownerOf(Protocol protocol, AddressFamily family, int port) {
            return Optional.empty();
        }
    };

    /** A packet hook that says it filters. */
    public static final PacketHook HOOK = new PacketHook() {
        @Override
        public String name() {
            return "fake";
        }

        @Override
        public String status() {
            return "filtering";
        }
    };

    public static SocketOwner process(int pid, String executable) {
        return new SocketOwner(pid, 5000 + pid, Path.of(executable), Registry.shaOf(Path.of(executable)));
    }

    public static ListeningSocket tcp(int port, long inode, SocketOwner... owners) {
        return new ListeningSocket(Protocol.TCP, AddressFamily.IPV4, "0.0.0.0", port, inode, false, List.of(owners));
    }
}
