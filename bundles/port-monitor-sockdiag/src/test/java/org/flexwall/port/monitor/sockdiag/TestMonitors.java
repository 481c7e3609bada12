package org.flexwall.port.monitor.sockdiag;

import java.util.ArrayList;
import org.flexwall.testing.RecordingLogger;

/** Package-private parts of the monitor for the benchmark (which lives in its own package). */
public final class TestMonitors {
    private TestMonitors() {}

    /** A started monitor without OSGi, logging nowhere. */
    public static SockDiagPortMonitor started(long pollIntervalMs, long ownerRescanMs) {
        SockDiagPortMonitor m = new SockDiagPortMonitor(RecordingLogger.into(new ArrayList<>()));
        m.start(pollIntervalMs, ownerRescanMs);
        return m;
    }

    public static void addListener(SockDiagPortMonitor m, org.flexwall.api.port.PortEventListener l) {
        m.bindListener(l);
    }

    /** One poll on the caller's thread (only while the monitor's own schedule is idle: interval of hours). */
    public static void poll(SockDiagPortMonitor m) {
        m.poll();
    }

    public static void stop(SockDiagPortMonitor m) throws InterruptedException {
        m.deactivate();
    }

    /** A resolver sharing {@code warm}'s image hashes. */
    public static OwnerResolver resolver(ImageHasher warm) {
        return new OwnerResolver(warm, null);
    }

    /** The benchmark's resolver (sharing {@code warm}'s hashes when not null): -Downers=proc reads /proc/PID/fd. */
    public static OwnerResolver benchResolver(ImageHasher warm) {
        TaskFileIterator it = "proc".equals(System.getProperty("owners")) ? null : TaskFileIterator.open();
        return new OwnerResolver(warm != null ? warm : new ImageHasher(), it);
    }

    /** Empties the resolver's index: its next lookup of any socket is a full scan. */
    public static void forgetIndex(OwnerResolver r) {
        r.forgetIndex();
    }
}
