package org.flexwall.port.store;

import java.util.ArrayList;
import java.util.List;

import org.flexwall.api.port.PortMonitor;
import org.flexwall.api.program.ProgramRegistry;
import org.flexwall.testing.RecordingLogger;

/** Builds a running store without OSGi, for the benchmarks in {@code bench}. */
public final class TestStores {
    private TestStores() {}

    public static PortStoreComponent running(ProgramRegistry registry, PortMonitor monitor) {
        PortStoreComponent store = new PortStoreComponent(RecordingLogger.into(new ArrayList<>()));
        store.bindRegistry(registry);
        store.activate(Fakes.config(0, false));
        store.bindMonitor(monitor);
        return store;
    }

    public static void stop(PortStoreComponent store) throws InterruptedException {
        store.deactivate();
    }

    public static Fakes.Registry registry(List<org.flexwall.api.program.TrustedProgram> programs) {
        return new Fakes.Registry(programs.toArray(org.flexwall.api.program.TrustedProgram[]::new));
    }
}
