package org.flexwall.hook.nfqueue;

import java.io.IOException;
import java.util.List;

/**
 * Removes the queueing rules without a running framework, for {@code flexwall disable}:
 * <pre>
 * java -cp flexwall-hook-nfqueue.jar:flexwall-api.jar org.flexwall.hook.nfqueue.Main disable
 * </pre>
 * A stopped hook removes its rules itself; a JVM killed with -9 leaves them queueing to nobody, which drops new flows
 * (fail closed) until the appliance runs again or this removes them.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        if (args.length != 1 || !args[0].equals("disable")) {
            System.err.println("usage: Main disable");
            System.exit(2);
        }
        // Only the chain and table names matter to remove(); the mode, queue and rate are those of an install.
        QueueRules rules = new QueueRules(new Commands(List.of()), new QueueRules.Settings(Mode.FIRST_PACKET, 0, 1, 1));
        try {
            rules.remove();
            System.out.println("flexwall NFQUEUE rules removed: no packet is queued to flexwall any more");
        } catch (IOException e) {
            System.err.println("flexwall: could not remove the NFQUEUE rules: " + e.getMessage());
            System.exit(1);
        }
    }
}
