package org.flexwall.api.health;

/**
 * Property values of flexwall's health checks ({@code org.apache.felix.hc.api.HealthCheck} services). Every check
 * carries {@link #TAG} in {@code hc.tags}; {@code flexwall status} and the console run exactly the checks with that tag.
 */
public final class FlexwallHealth {
    /** The tag of every flexwall check: "is it protecting?". */
    public static final String TAG = "flexwall";

    /** Check names ({@code hc.name}), one per fact the operator must be able to rely on. */
    public static final String BASELINE = "flexwall baseline table";
    public static final String PACKET_HOOK = "flexwall packet hook";
    public static final String PORT_MONITOR = "flexwall port monitor";
    public static final String REGISTRY = "flexwall program registry";
    public static final String AUDIT_TRAIL = "flexwall audit trail";
    public static final String COMPONENTS = "flexwall components";

    private FlexwallHealth() {}
}
