package org.flexwall.api.packet;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The decision of FIG. 8: a registered destination passes, anything else meets the stateful firewall. Must not
 * allocate or block; called on a hook's receive thread for every packet a hook hands over whole (the NFQUEUE hook in
 * userspace mode; in firstPacket mode it asks the {@link BypassTable} about first packets instead).
 *
 * <p>Each decider service names its place in that chain in the service property {@link #STAGE}: a hook binds the
 * entry stage ({@link #STAGE_BYPASS}), never a later one, which would skip the stages before it.
 */
@ProviderType
public interface PacketDecider {
    /** The service property that names a decider's stage. */
    String STAGE = "flexwall.stage";
    /** {@link #STAGE} of packet bypass, the entry stage: a permitted destination passes, the rest goes on. */
    String STAGE_BYPASS = "bypass";
    /** {@link #STAGE} of the stateful ICF, which packet bypass asks about every packet it does not pass. */
    String STAGE_ICF = "icf";
    /** The target filter of a reference to the entry stage. */
    String TARGET_BYPASS = "(" + STAGE + "=" + STAGE_BYPASS + ")";
    /** The target filter of a reference to the stateful ICF stage. */
    String TARGET_ICF = "(" + STAGE + "=" + STAGE_ICF + ")";

    Verdict decide(PacketView packet);
}
