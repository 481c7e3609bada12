package org.flexwall.hook.support;

import java.io.IOException;

import org.flexwall.api.packet.ConnectionTracker;
import org.osgi.service.log.Logger;

/** The hand-over of the kernel's established flows to the Java ICF, as a hook that starts deciding in Java does it. */
public final class KernelFlows {

    private KernelFlows() {
    }

    /**
     * Has the stateful ICF take over the flows the kernel's conntrack holds (see {@link ConnectionTracker}), so
     * sessions established before the hook decided in Java keep their replies. A failure is logged, not thrown: the
     * hook starts anyway, and the ICF drops replies to flows it does not know (fail closed).
     *
     * @param hook how the log names the hook, e.g. {@code NFQUEUE 3}
     */
    public static void adopt(ConnectionTracker tracker, Logger log, String hook) {
        try {
            tracker.adoptKernelConnections();
        } catch (IOException | RuntimeException e) {
            log.warn("{}: the kernel's established flows could not be taken over ({}); replies to flows the "
                    + "stateful ICF does not know are dropped", hook, e.getMessage());
        }
    }
}
