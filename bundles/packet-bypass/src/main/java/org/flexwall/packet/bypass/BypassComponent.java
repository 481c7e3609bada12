package org.flexwall.packet.bypass;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import org.flexwall.api.packet.BypassTable;
import org.flexwall.api.packet.BypassTableListener;
import org.flexwall.api.packet.PacketCounters;
import org.flexwall.api.packet.PacketDecider;
import org.flexwall.api.packet.PacketView;
import org.flexwall.api.packet.PrivateBypassFactory;
import org.flexwall.api.packet.Verdict;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.PortStore;
import org.flexwall.api.port.PortStoreListener;
import org.flexwall.api.port.Protocol;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;

/**
 * The device that makes the ICF flexible (FIG. 6, 620; FIG. 8) as a DS component. It owns the bypass table, a bitmap
 * of the ports the port store permits (a {@link PortStoreListener}: the store's snapshot, then each port opened and
 * closed), and answers from it
 * <ul>
 * <li>every packet a hook brings to Java, as the {@link PacketDecider} with {@link PacketDecider#STAGE_BYPASS} (ranked
 * above the ICF, so a hook that binds any decider gets this one): a permitted port passes, everything else meets the
 * stateful ICF (S807);</li>
 * <li>the first packet of a new flow the kernel could not accept by itself, as the {@link BypassTable}: the port
 * store verifies the receiving socket now.</li>
 * </ul>
 * and publishes the table to every {@link BypassTableListener} (the nftables hook renders it into the kernel's
 * permitted sets): each change goes on to them on the thread that brought it, right after the bitmap has it: no copy,
 * no hand-off, no delay between; a listener bound later hears the table as it is first, or, when it is bound before
 * the port store's snapshot came (DS binds it while this component activates), that snapshot. When this component stops
 * (an update of its bundle, say), its listeners keep what they hold until the next one's snapshot: what they render
 * admits only packets to a socket the port store verified (the verified mark dies with the socket, and the store clears
 * it when it closes the port), so the kernel alone is safe meanwhile, and the trusted services take new connections
 * through the update. Immediate: the table is kept, and published, whether or not a hook asks it yet.
 * As the {@link PrivateBypassFactory} it makes bypass stages of their own over given ports (capture replay decides on
 * one), which share nothing with this one.
 *
 * <p>Both references are optional, dynamic and greedy (DESIGN principle 5), read once per packet from a volatile
 * field: without an ICF what it would decide is dropped, without a port store no first packet passes (fail closed).
 * When the store stops it says so with the empty snapshot, which closes every port here.
 */
@Component(name = BypassComponent.NAME, immediate = true,
        service = { PacketDecider.class, BypassTable.class, PortStoreListener.class, PacketCounters.class,
                PrivateBypassFactory.class },
        property = { PacketDecider.STAGE + "=" + PacketDecider.STAGE_BYPASS, "service.ranking:Integer=100" })
public final class BypassComponent implements PacketDecider, BypassTable, PortStoreListener, PacketCounters,
        PrivateBypassFactory {
    public static final String NAME = "org.flexwall.packet.bypass";

    @Reference(service = LoggerFactory.class)
    private Logger log;

    private final PortBitmap table = new PortBitmap();
    private volatile PacketDecider icf;
    private volatile PortStore store;
    private final Bypass bypass = new Bypass(table, () -> icf, System::nanoTime);
    /** Orders the table's changes and the listeners' binding, so each hears the table once, then every change. */
    private final Object publishing = new Object();
    private final List<BypassTableListener> listeners = new ArrayList<>(); // guarded by publishing
    // guarded by publishing: a port store's snapshot came; until then the table says nothing to the listeners
    private boolean tableKnown;

    @Override
    public Verdict decide(PacketView packet) {
        return bypass.decide(packet);
    }

    @Override
    public boolean firstPacket(Protocol protocol, AddressFamily family, int port) {
        return bypass.firstPacket(protocol, family, port, store);
    }

    @Override
    public PacketDecider newBypass(Set<PortKey> permitted, PacketDecider icf, LongSupplier clock) {
        return Bypass.of(permitted, icf, clock);
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

    // --- the permitted port storage (Table 2): verifies sockets for first packets -------------------------------

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindStore(PortStore s) {
        store = s;
    }

    void unbindStore(PortStore s) {
        if (store == s) {
            store = null; // no first packet passes until one is back; the table follows the store's own snapshot
        }
    }

    // --- the bypass table, as the port store publishes it (S709 registered, S707 deleted) --------------------------

    @Override
    public void snapshot(Set<PortKey> open) {
        synchronized (publishing) {
            table.replace(open);
            tableKnown = true;
            tellAll("the snapshot", l -> l.snapshot(open));
        }
        log("bypass table: " + open.size() + " permitted ports from the port store");
    }

    @Override
    public void opened(PortKey port) {
        synchronized (publishing) {
            table.set(port.protocol(), port.family(), port.port(), true);
            tellAll("opened " + port, l -> l.opened(port));
        }
    }

    @Override
    public void closed(PortKey port) {
        synchronized (publishing) {
            table.set(port.protocol(), port.family(), port.port(), false);
            tellAll("closed " + port, l -> l.closed(port));
        }
    }

    // --- the table's followers: the kernel hooks that render it ---------------------------------------------------

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void bindListener(BypassTableListener l) {
        synchronized (publishing) {
            listeners.add(l);
            if (tableKnown) { // else the store's snapshot reaches it soon: an empty table now would close every port
                tell(l, "the snapshot", x -> x.snapshot(table.keys()));
            }
        }
    }

    void unbindListener(BypassTableListener l) {
        synchronized (publishing) {
            listeners.remove(l);
        }
    }

    private void tellAll(String what, Consumer<BypassTableListener> call) {
        for (BypassTableListener l : listeners) {
            tell(l, what, call);
        }
    }

    /** One listener's failure reaches neither the store nor the other listeners. */
    private void tell(BypassTableListener l, String what, Consumer<BypassTableListener> call) {
        try {
            call.accept(l);
        } catch (RuntimeException e) {
            Logger g = log;
            if (g != null) {
                g.error("bypass table listener {} failed on {}", l.getClass().getName(), what, e);
            }
        }
    }

    // --- counters ---------------------------------------------------------------------------------------------------

    @Override
    public String part() {
        return "packet bypass";
    }

    @Override
    public Map<String, Long> counters() {
        Map<String, Long> m = bypass.counters();
        m.put("ports in the table", (long) table.size());
        return m;
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
