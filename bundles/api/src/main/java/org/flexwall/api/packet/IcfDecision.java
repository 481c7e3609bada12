package org.flexwall.api.packet;

/** Why a {@link PrivateIcf} passed or dropped a packet: the rule of the stateful ICF that decided it. */
public enum IcfDecision {
    /** Sent by the appliance or its LAN: passed, its flow remembered. */
    OUTBOUND(Verdict.ACCEPT),
    /** A reply to a remembered flow. */
    REPLY(Verdict.ACCEPT),
    /** Inbound neither a reply nor dropped: a later fragment of an admitted packet, or neighbour discovery. */
    ON_LINK_OR_FRAGMENT(Verdict.ACCEPT),
    /** Inbound and part of no flow the appliance or its LAN opened. */
    UNSOLICITED(Verdict.DROP),
    /** Of a remembered TCP flow, but outside its sequence window. */
    OUT_OF_WINDOW(Verdict.DROP),
    /** Opens a flow, but the connection table is full of flows that may not be evicted. */
    TABLE_FULL(Verdict.DROP),
    /** A later fragment of no admitted packet. */
    UNKNOWN_FRAGMENT(Verdict.DROP),
    /** An ICMP error about no remembered flow. */
    UNKNOWN_ICMP_ERROR(Verdict.DROP),
    /** Not a well-formed IP packet. */
    MALFORMED(Verdict.DROP);

    private final Verdict verdict;

    IcfDecision(Verdict verdict) {
        this.verdict = verdict;
    }

    public Verdict verdict() {
        return verdict;
    }
}
