package org.flexwall.hook.pcap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** What the bridge passes by itself (ARP, neighbour discovery), hands to the engine (IP) and drops (the rest). */
class FramesTest {

    @Test
    void arpPassesAsArp() {
        assertEquals(Frames.ARP, Frames.kind(frame(0x0806, 28), 14 + 28));
    }

    @Test
    void ipv4AndIpv6GoToTheEngine() {
        assertEquals(Frames.IPV4, Frames.kind(frame(0x0800, 20), 34));
        assertEquals(Frames.IPV6, Frames.kind(frame(0x86dd, 40), 54));
    }

    @Test
    void neighbourSolicitationWithHopLimit255IsNeighbourDiscovery() {
        assertEquals(Frames.NEIGHBOUR_DISCOVERY, Frames.kind(icmpv6(135, 255), 14 + 48));
    }

    @Test
    void neighbourDiscoveryFromBeyondTheLinkIsNotPassedButGoesToTheEngine() {
        assertEquals(Frames.IPV6, Frames.kind(icmpv6(135, 64), 14 + 48)); // RFC 4861: a router decremented it
    }

    @Test
    void otherIcmpv6GoesToTheEngine() {
        assertEquals(Frames.IPV6, Frames.kind(icmpv6(128, 255), 14 + 48)); // echo request
        assertEquals(Frames.IPV6, Frames.kind(icmpv6(1, 255), 14 + 48)); // destination unreachable
    }

    @Test
    void aVlanTagIsSkipped() {
        byte[] f = new byte[18 + 20];
        f[12] = (byte) 0x81;
        f[16] = 0x08; // inner EtherType IPv4
        assertEquals(18, Frames.networkOffset(f, f.length));
        assertEquals(Frames.IPV4, Frames.kind(f, f.length));
    }

    @Test
    void anythingElseOrATruncatedFrameIsOther() {
        assertEquals(Frames.OTHER, Frames.kind(frame(0x88cc, 20), 34)); // LLDP
        assertEquals(Frames.OTHER, Frames.kind(new byte[10], 10));
        assertEquals(Frames.IPV6, Frames.kind(frame(0x86dd, 10), 24)); // too short for ND: the engine drops it
    }

    private static byte[] frame(int etherType, int payload) {
        byte[] f = new byte[14 + payload];
        f[12] = (byte) (etherType >> 8);
        f[13] = (byte) etherType;
        return f;
    }

    private static byte[] icmpv6(int type, int hopLimit) {
        byte[] f = frame(0x86dd, 48);
        f[14] = 0x60;
        f[14 + 6] = 58;
        f[14 + 7] = (byte) hopLimit;
        f[14 + 40] = (byte) type;
        return f;
    }
}
