package org.flexwall.hook.pcap.replay;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.stream.Collectors;

import org.flexwall.api.packet.PrivateBypassFactory;
import org.flexwall.api.packet.PrivateIcfFactory;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.PortStore;
import org.flexwall.api.replay.CaptureReplay;
import org.flexwall.api.replay.ReplayException;
import org.flexwall.api.replay.ReplayOptions;
import org.flexwall.api.replay.ReplayReport;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * Capture replay as a service: the permitted ports the port store holds now (or the request's), the addresses of the
 * appliance's interfaces now (or the request's), and a private engine made by the running packet-bypass and
 * stateful-icf bundles' factory services: the ICF with the live one's settings (a table of its own, about 6 MB for the
 * default 65536 flow slots, while a replay runs). Without either factory a replay is refused, never decided by less.
 */
@Component(name = "org.flexwall.hook.pcap.replay", service = CaptureReplay.class)
public final class CaptureReplayComponent implements CaptureReplay {

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile PortStore store;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile PrivateBypassFactory bypasses;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile PrivateIcfFactory icfs;

    /** One replay at a time: each holds a connection table and flows, and the appliance's heap is small. */
    private final Semaphore running = new Semaphore(1);

    @Override
    public ReplayReport replay(Path capture, ReplayOptions options) throws ReplayException {
        if (!running.tryAcquire()) {
            throw new ReplayException("another replay is running; try again when it has ended");
        }
        try {
            return replayAlone(capture, options);
        } finally {
            running.release();
        }
    }

    private ReplayReport replayAlone(Path capture, ReplayOptions options) throws ReplayException {
        PrivateBypassFactory b = bypasses;
        PrivateIcfFactory i = icfs;
        if (b == null || i == null) {
            throw new ReplayException("replay needs packet bypass and the stateful ICF running; "
                    + (b == null ? "packet bypass" : "the stateful ICF") + " is not (see flexwall status)");
        }
        Set<PortKey> ports;
        String portsFrom;
        if (options.ports().isPresent()) {
            ports = options.ports().get();
            portsFrom = "the request";
        } else {
            PortStore s = store;
            if (s == null) {
                throw new ReplayException("the port store is not running, so the permitted ports are unknown; name "
                        + "them with --ports (e.g. --ports tcp/5400,udp/53)");
            }
            ports = s.permitted().stream().map(PortKey::of).collect(Collectors.toSet());
            portsFrom = "the port store now";
        }
        List<InetAddress> local = options.local().isEmpty() ? interfaceAddresses() : options.local();
        String localFrom = options.local().isEmpty() ? "the appliance's interfaces" : "the request";
        return new Replayer(ports, local, b, i, Replayer.TRACKED_FLOWS).replay(capture,
                portsFrom, local.stream().map(Flows::text).toList(), localFrom, options.flowLimit());
    }

    private static List<InetAddress> interfaceAddresses() throws ReplayException {
        try {
            return NetworkInterface.networkInterfaces().flatMap(NetworkInterface::inetAddresses)
                    .map(Replayer::withoutScope).distinct().toList();
        } catch (SocketException e) {
            throw new ReplayException("the appliance's addresses cannot be read (" + e.getMessage()
                    + "); name them with --local ADDR");
        }
    }
}
