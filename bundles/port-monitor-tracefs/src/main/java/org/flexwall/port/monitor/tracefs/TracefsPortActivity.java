package org.flexwall.port.monitor.tracefs;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import org.flexwall.api.port.PortActivityListener;
import org.flexwall.api.port.Protocol;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Makes the port monitor event-driven (FIG. 7, S701): kernel tracepoints say within microseconds that a socket
 * started or stopped listening, and every {@link PortActivityListener} (the monitor) rescans at once, on this bundle's
 * reader thread, once for all the lines read in one go: the change travels from there to the kernel's sets without
 * waking another thread. Without this bundle, or without tracefs, the monitor falls back to polling.
 */
@Component(name = "org.flexwall.port.monitor.tracefs", service = {})
@Designate(ocd = TracefsPortActivity.Config.class)
public class TracefsPortActivity {

    @ObjectClassDefinition(name = "flexwall port events from kernel tracepoints", description = "Wakes the port "
            + "monitor at once when a socket starts listening, is bound or is taken by another process, through kernel "
            + "tracepoints in a tracefs instance of flexwall's own")
    public @interface Config {
        @AttributeDefinition(name = "tracefs instance",
                description = "Name of flexwall's tracefs instance (under instances/)")
        String instance() default "flexwall";

        @AttributeDefinition(name = "Real-time reader", description = "Run the thread that reads the events, and "
                + "carries each port change to the kernel's sets, at the lowest real-time priority (SCHED_FIFO 1), so "
                + "busy programs on the box do not delay it; only with two CPUs or more")
        boolean realtime() default true;
    }

    @Reference(service = LoggerFactory.class)
    private Logger log;

    private final List<PortActivityListener> listeners = new CopyOnWriteArrayList<>();
    private TraceInstance trace;
    private Thread reader;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addListener(PortActivityListener l) {
        listeners.add(l);
    }

    void removeListener(PortActivityListener l) {
        listeners.remove(l);
    }

    @Activate
    void activate(Config config) {
        try {
            Path tracefs = TraceInstance.locate();
            trace = TraceInstance.create(tracefs, config.instance());
        } catch (IOException | SecurityException e) {
            log.warn("kernel tracepoints unavailable ({}); the port monitor falls back to polling", e.getMessage());
            return;
        }
        boolean realtime = config.realtime();
        reader = new Thread(() -> {
            if (realtime) {
                String notRaised = ReaderPriority.raiseCallingThread(Runtime.getRuntime().availableProcessors());
                if (notRaised != null) {
                    log.info("the tracefs reader runs at normal priority: {}", notRaised);
                }
            }
            readEvents();
        }, "flexwall-tracefs");
        reader.setDaemon(true);
        reader.start();
        log.info("port events from kernel tracepoints in {}", trace.directory());
        if (!trace.missing.isEmpty()) {
            log.warn("this kernel lacks the tracepoints {}: a socket taken from its holder through pidfd_getfd is "
                    + "noticed only by the next full owner scan, if the taker still holds it then", trace.missing);
        }
    }

    private void readEvents() {
        Hints hints = new Hints();
        PortActivityListener fanOut = new PortActivityListener() {
            @Override
            public void portActivity(Protocol protocol, int port) {
                hints.add(protocol, port);
            }

            @Override
            public void socketTaken(int pid, long inode) {
                hints.tell(TracefsPortActivity.this::tell);
                tell(l -> l.socketTaken(pid, inode));
            }
        };
        TakenSockets taken = new TakenSockets();
        try {
            trace.read(line -> {
                if (!taken.dispatch(line, fanOut)) {
                    TraceLine.dispatch(line, fanOut);
                }
            }, () -> hints.tell(this::tell));
        } catch (IOException e) {
            log.error("reading kernel tracepoints failed ({}); the port monitor falls back to polling", e.getMessage());
        }
    }

    /**
     * The hints of the lines read in one go, told once the reader has caught up with the kernel: the listeners (the
     * monitor) rescan on this thread, and one rescan covers a burst. The reader thread only.
     */
    static final class Hints {
        private int count;
        private Protocol protocol;
        private int port;

        void add(Protocol protocol, int port) {
            count++;
            this.protocol = protocol;
            this.port = port;
        }

        void tell(Consumer<Consumer<PortActivityListener>> to) {
            if (count == 0) {
                return;
            }
            Protocol p = count == 1 ? protocol : null; // several: the hint names no port
            int n = count == 1 ? port : 0;
            count = 0;
            to.accept(l -> l.portActivity(p, n));
        }
    }

    private void tell(Consumer<PortActivityListener> event) {
        for (PortActivityListener l : listeners) {
            try {
                event.accept(l);
            } catch (RuntimeException e) {
                log.error("a port activity listener failed", e);
            }
        }
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        if (trace == null) {
            return;
        }
        try {
            trace.close();
            reader.join(2000);
            trace.remove();
        } catch (IOException e) {
            log.warn("could not remove the tracefs instance {}: {}", trace.directory(), e.getMessage());
        }
    }
}
