package org.flexwall.packet.bypass;

import java.util.List;

import org.flexwall.api.packet.PacketDecider;
import org.flexwall.api.packet.PacketView;
import org.flexwall.api.packet.Verdict;
import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.PortStore;
import org.flexwall.api.port.PortStoreListener;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;

/**
 * The device that makes the ICF flexible (FIG. 6, 620; FIG. 8) as a DS component: a {@link PacketDecider} with
 * {@link PacketDecider#STAGE_BYPASS} (ranked above the ICF, so a hook that binds any decider gets this one) and a
 * {@link PortStoreListener} that mirrors the permitted ports into a bitmap.
 *
 * <p>Both references are optional, dynamic and greedy (DESIGN principle 5): the ICF is read once per packet from a
 * volatile field and, while none is bound, whatever it would decide is dropped (fail closed). Without a port store
 * nobody would tell us when a port closes, so unbinding it clears the bitmap: only the ICF's replies pass then.
 */
@Component(name = BypassComponent.NAME, service = { PacketDecider.class, PortStoreListener.class },
        property = { PacketDecider.STAGE + "=" + PacketDecider.STAGE_BYPASS, "service.ranking:Integer=100" })
public final class BypassComponent implements PacketDecider, PortStoreListener {
    public static final String NAME = "org.flexwall.packet.bypass";

    @Reference(service = LoggerFactory.class)
    private Logger log;

    private final PortBitmap bitmap = new PortBitmap();
    private final PermittedPorts ports = new PermittedPorts(bitmap);
    private volatile PacketDecider icf;
    private volatile PortStore store;
    private final Bypass bypass = new Bypass(bitmap, () -> icf, System::nanoTime);

    @Override
    public Verdict decide(PacketView packet) {
        return bypass.decide(packet);
    }

    // --- the stateful ICF (S807) -----------------------------------------------------------------------------------

    @Reference(target = PacketDecider.TARGET_ICF, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindIcf(PacketDecider d) {
        icf = d;
        log("stateful ICF bound: packets to ports that are not permitted go to it");
    }

    void unbindIcf(PacketDecider d) {
        if (icf == d) {
            icf = null; // fail closed until another is bound
            log("stateful ICF unbound: only packets to permitted ports pass until one is back");
        }
    }

    // --- the permitted port storage (Table 2) ----------------------------------------------------------------------

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindStore(PortStore s) {
        // Under our lock, so a revocation delivered meanwhile is applied after this snapshot, never before it.
        synchronized (ports) {
            store = s;
            List<PermittedPort> now = s.permitted();
            ports.replaceAll(now);
        }
        log("port store bound: " + ports.size() + " permitted ports");
    }

    void unbindStore(PortStore s) {
        synchronized (ports) {
            if (store != s) {
                return; // replaced by a greedier one already
            }
            store = null;
            ports.clear(); // nobody would tell us when these close: fail closed
        }
        log("port store unbound: no port is permitted until one is back");
    }

    @Override
    public void permitted(PermittedPort port) {
        synchronized (ports) {
            if (store != null) { // without a store nobody would revoke it; bindStore takes a fresh snapshot
                ports.permit(port); // S709
            }
        }
    }

    @Override
    public void revoked(PermittedPort port) {
        ports.revoke(port); // S707
    }

    Bypass bypass() {
        return bypass;
    }

    private void log(String message) {
        Logger l = log;
        if (l != null) {
            l.info(message);
        }
    }
}
