package org.flexwall.port.store;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.PortMonitor;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.PortStoreListener;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.program.ProgramRegistry;
import org.flexwall.api.program.TrustedProgram;
import org.flexwall.testing.Configs;

/** Small in-test implementations of the services the store uses. */
public final class Fakes {
    private Fakes() {}

    /** A registry holding a list; trust changes go through {@link #set}. */
    public static final class Registry implements ProgramRegistry {
        volatile List<TrustedProgram> programs;
        volatile String problem;

        Registry(TrustedProgram... programs) {
            this.programs = List.of(programs);
        }

        void set(TrustedProgram... p) {
            programs = List.of(p);
        }

        @Override
        public List<TrustedProgram> programs() {
            return problem == null ? programs : List.of();
        }

        @Override
        public Optional<TrustedProgram> bySha256(String sha256) {
            return programs().stream().filter(p -> p.sha256().equals(sha256)).findFirst();
        }

        @Override
        public TrustedProgram trust(Path path, String name, boolean insist) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<TrustedProgram> untrust(Path path) {
            throw new UnsupportedOperationException();
        }

        @Override
        public TrustedProgram reapprove(Path path) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean usable() {
            return problem == null;
        }

        @Override
        public Optional<String> problem() {
            return Optional.ofNullable(problem);
        }
    }

    /** A monitor answering from a list of sockets; counts the owner look-ups it was asked for. */
    public static class Monitor implements PortMonitor {
        public final List<ListeningSocket> sockets = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger ownerLookups = new AtomicInteger();

        @Override
        public List<ListeningSocket> listening() {
            synchronized (sockets) {
                return List.copyOf(sockets);
            }
        }

        @Override
        public Optional<ListeningSocket> ownerOf(Protocol protocol, AddressFamily family, int port) {
            ownerLookups.incrementAndGet();
            return listening().stream().filter(s -> s.protocol() == protocol && s.port() == port && s.serves(family))
                    .findFirst();
        }
    }

    /** Records what it hears as "=[TCP/IPV4/22]" (a snapshot), "+TCP/IPV4/22" (opened) and "-TCP/IPV4/22" (closed). */
    static final class Recorder implements PortStoreListener {
        final List<String> heard = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void snapshot(Set<PortKey> open) {
            heard.add("=" + open.stream().map(Recorder::text).sorted().toList());
        }

        @Override
        public void opened(PortKey k) {
            heard.add("+" + text(k));
        }

        @Override
        public void closed(PortKey k) {
            heard.add("-" + text(k));
        }

        static String text(PortKey k) {
            return k.protocol() + "/" + k.family() + "/" + k.port();
        }
    }

    static PortStoreComponent.Config config(int reconcileSeconds, boolean loopback) {
        return Configs.config(PortStoreComponent.Config.class, "reconcile.interval.seconds", reconcileSeconds,
                "loopback.permitted", loopback);
    }
}
