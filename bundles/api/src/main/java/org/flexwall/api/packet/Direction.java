package org.flexwall.api.packet;

/** Where a packet travels relative to the appliance. */
public enum Direction {
    /** addressed to the appliance itself */
    INBOUND,
    /** sent by the appliance itself */
    OUTBOUND,
    /** routed through the appliance, from the LAN side */
    FORWARD_FROM_LAN,
    /** routed through the appliance, from the outside */
    FORWARD_FROM_WAN
}
