package org.flexwall.hook.nftables;

import java.util.List;

import org.flexwall.hook.nftables.Nft.NftException;

/**
 * The firewall's off switch and the boot-time ruleset, without a running framework:
 * <pre>
 * java -cp flexwall-hook-nftables.jar:flexwall-api.jar org.flexwall.hook.nftables.Main disable [nft]
 * java -cp flexwall-hook-nftables.jar:flexwall-api.jar org.flexwall.hook.nftables.Main ruleset
 * </pre>
 * {@code disable} deletes table inet flexwall (same as {@code nft delete table inet flexwall}): afterwards flexwall
 * filters nothing. Stop the component first ({@code flexwall disable} does), or its periodic check re-applies the
 * baseline within {@value NftablesHook#CHECK_SECONDS} s. {@code ruleset} prints the baseline of the default
 * configuration, for loading at boot ({@code nft -f}) before the JVM runs; the image ships the same text as
 * {@code lib/builtin-baseline.nft} (kept equal by ShippedRulesetsTest), which {@code flexwall baseline} loads without
 * starting a JVM.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        String command = args.length > 0 ? args[0] : "";
        switch (command) {
            case "disable" -> {
                try {
                    disable(new NftProgram(List.of(), args.length > 1 ? args[1] : "nft"));
                    System.out.println("flexwall firewall disabled: table inet " + Ruleset.TABLE + " deleted; "
                            + "the kernel no longer filters for flexwall");
                } catch (NftException e) {
                    System.err.println("flexwall: " + e.getMessage());
                    System.exit(1);
                }
            }
            case "ruleset" -> System.out.print(Ruleset.baseline(Settings.defaults(Origin.NONE)));
            default -> {
                System.err.println("usage: Main disable [nft-binary] | Main ruleset");
                System.exit(2);
            }
        }
    }

    /** Deletes table inet flexwall; succeeds when it is gone already. */
    static void disable(Nft nft) throws NftException {
        nft.apply(Ruleset.disable(), "delete table inet " + Ruleset.TABLE);
    }
}
