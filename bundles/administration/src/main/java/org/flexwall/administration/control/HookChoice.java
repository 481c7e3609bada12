package org.flexwall.administration.control;

import java.util.concurrent.TimeUnit;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/**
 * Applies the packet hooks the operator chose with {@code flexwall hook use} at every start of the appliance. The
 * launcher starts every bundle, so the appliance comes up with all hooks deciding (each one protects on its own);
 * once it has, the hooks outside the choice stop, in the order of {@link HookSwitch}. Does nothing until a choice
 * was made (the configuration {@value HookSwitch#PID} exists): the hooks then stay as they started. Its configuration
 * is optional, so an appliance without a choice has no component waiting for one.
 */
@Component(name = HookSwitch.PID, service = {}, configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = HookChoice.Config.class)
public class HookChoice {
    /** How long the start may take to bring every hook bundle up before the choice is applied anyway. */
    static final long START_SECONDS = 60;

    @ObjectClassDefinition(id = HookSwitch.PID, name = "flexwall packet hooks",
            description = "Which packet hooks decide, as chosen with `flexwall hook use`; applied at every start")
    public @interface Config {
        @AttributeDefinition(name = "Packet hooks", options = {
                @Option(label = "netfilter: nftables + NFQUEUE first packets", value = "netfilter"),
                @Option(label = "userspace: nftables + NFQUEUE, every packet through Java", value = "userspace"),
                @Option(label = "pcap: nftables + the pcap bridge", value = "pcap"),
                @Option(label = "nftables: the kernel alone", value = "nftables") },
                description = "netfilter: the kernel decides, first packets of new flows go to Java. userspace: every "
                + "TCP and UDP packet crosses Java (NFQUEUE). pcap: the pcap bridge decides every frame in Java. "
                + "nftables: the kernel alone. The nftables baseline runs in every choice")
        String use() default "netfilter";
    }

    @Reference(service = LoggerFactory.class)
    private Logger log;

    @Reference
    private ConfigurationAdmin configurationAdmin;

    private Thread applier;

    @Activate
    void activate(BundleContext context, Config config, java.util.Map<String, Object> properties) {
        if (!properties.containsKey(org.osgi.framework.Constants.SERVICE_PID)) {
            return; // no choice made: every hook runs as the launcher started it
        }
        HookSwitch.Choice choice;
        try {
            choice = HookSwitch.Choice.named(config.use());
        } catch (IllegalArgumentException e) {
            log.error("configuration {}: {}; every hook stays as it started", HookSwitch.PID, e.getMessage());
            return;
        }
        HookSwitch hooks = new HookSwitch(context, configurationAdmin);
        applier = new Thread(() -> apply(hooks, choice), "flexwall-hook-choice");
        applier.setDaemon(true);
        applier.start();
    }

    /** A choice written by {@code flexwall hook use} is in force already: nothing to do. */
    @Modified
    void modified() {
    }

    @Deactivate
    void deactivate() {
        Thread t = applier;
        if (t != null) {
            t.interrupt();
        }
    }

    private void apply(HookSwitch hooks, HookSwitch.Choice choice) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_SECONDS);
        // the launcher starts the bundles after this one too: stopping one before it did would be undone
        while (hooks.hookBundles().values().stream().anyMatch(b -> b.getState() != Bundle.ACTIVE)
                && System.nanoTime() - end < 0) {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
        }
        if (hooks.running().equals(java.util.Optional.of(choice))) {
            log.info("packet hooks: {} as chosen", choice.label);
            return;
        }
        HookSwitch.Outcome o = hooks.use(choice);
        if (o.ok()) {
            log.info("packet hooks as chosen with `flexwall hook use`: {}", o.message());
        } else {
            log.error("packet hooks: the chosen {} could not be applied at this start: {}", choice.label, o.message());
        }
    }
}
