package org.flexwall.api.replay;

import java.util.List;

/**
 * What a replay found.
 *
 * @param capture      the file replayed
 * @param linkType     the capture's link type, as libpcap names it (EN10MB, LINUX_SLL, LINUX_SLL2, RAW...)
 * @param ports        the permitted ports decided with ("tcp/5400", "udp6/53"), sorted
 * @param portsFrom    where they came from: "the port store now" or "the request"
 * @param local        the appliance's addresses that decided directions
 * @param localFrom    where they came from: "the appliance's interfaces" or "the request"
 * @param packets      packets read
 * @param bytes        their bytes as captured on the wire (original lengths)
 * @param passed       packets the engine passed
 * @param dropped      packets the engine dropped
 * @param notIp        packets without IP (ARP, ...): not the engine's to decide
 * @param transit      IP packets neither to nor from the appliance: not decided
 * @param local2local  IP packets between the appliance's own addresses (loopback): never filtered, not decided
 * @param flows        the flows found
 * @param flowsShown   the flows listed, at most the request's limit: dropped ones first, then by packets
 * @param flowsUntracked packets of flows beyond the report's memory bound, decided and counted only in the totals
 * @param engineNanos  time spent reading and deciding, from opening the file to its end
 */
public record ReplayReport(String capture, String linkType, List<String> ports, String portsFrom, List<String> local,
        String localFrom, long packets, long bytes, long passed, long dropped, long notIp, long transit,
        long local2local, long flows, List<ReplayFlow> flowsShown, long flowsUntracked, long engineNanos) {

    public ReplayReport {
        ports = List.copyOf(ports);
        local = List.copyOf(local);
        flowsShown = List.copyOf(flowsShown);
    }

    /** Flows found but not listed. */
    public long flowsNotShown() {
        return flows - flowsShown.size();
    }
}
