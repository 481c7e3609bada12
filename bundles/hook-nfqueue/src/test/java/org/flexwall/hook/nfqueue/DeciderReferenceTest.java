package org.flexwall.hook.nfqueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.util.List;
import java.util.Map;

import javax.xml.parsers.DocumentBuilderFactory;

import org.flexwall.api.packet.Direction;
import org.flexwall.api.packet.PacketDecider;
import org.flexwall.api.packet.Verdict;
import org.flexwall.packet.parse.ByteView;
import org.flexwall.testing.RecordingLogger;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Filter;
import org.osgi.framework.FrameworkUtil;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The PacketDecider reference: the component description bnd generated (what SCR reads) targets the bypass stage,
 * optional, dynamic and greedy; while nothing is bound, userspace mode drops.
 */
class DeciderReferenceTest {

    /** The reference element of {@code service} in the generated OSGI-INF/org.flexwall.hook.nfqueue.xml. */
    private static Element reference(String service) throws Exception {
        try (InputStream in = DeciderReferenceTest.class.getResourceAsStream("/OSGI-INF/" + NfqueueHook.PID + ".xml")) {
            assertNotNull(in, "no component description in target/classes: did bnd-process run?");
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(true);
            NodeList refs = f.newDocumentBuilder().parse(in).getElementsByTagNameNS("*", "reference");
            for (int i = 0; i < refs.getLength(); i++) {
                Element r = (Element) refs.item(i);
                if (r.getAttribute("interface").equals(service)) {
                    return r;
                }
            }
        }
        throw new AssertionError("no reference to " + service);
    }

    @Test
    void deciderReferencePicksTheBypassStageOptionalDynamicGreedy() throws Exception {
        Element r = reference(PacketDecider.class.getName());
        assertEquals("(flexwall.stage=bypass)", r.getAttribute("target"));
        assertEquals("0..1", r.getAttribute("cardinality"));
        assertEquals("dynamic", r.getAttribute("policy"));
        assertEquals("greedy", r.getAttribute("policy-option"));
    }

    @Test
    void targetMatchesPacketBypassAndNotTheIcfBehindIt() throws Exception {
        Filter target = FrameworkUtil.createFilter(NfqueueHook.DECIDER_TARGET);
        // the service properties of BypassComponent and IcfComponent (bundles packet-bypass and stateful-icf)
        assertTrue(target.matches(Map.of(PacketDecider.STAGE, PacketDecider.STAGE_BYPASS, "service.ranking", 100)));
        assertFalse(target.matches(Map.of(PacketDecider.STAGE, PacketDecider.STAGE_ICF, "service.ranking", -100)),
                "the ICF alone would drop every packet to a permitted port");
        assertFalse(target.matches(Map.of("service.ranking", 1000)), "a decider without a stage");
    }

    @Test
    void bypassTableReferenceIsUntargetedOptionalDynamicGreedy() throws Exception {
        Element r = reference(org.flexwall.api.packet.BypassTable.class.getName());
        assertEquals("", r.getAttribute("target"));
        assertEquals("0..1", r.getAttribute("cardinality"));
        assertEquals("dynamic", r.getAttribute("policy"));
        assertEquals("greedy", r.getAttribute("policy-option"));
    }

    @Test
    void withoutDeciderUserspaceModeDropsAndAGreedySwapKeepsTheNewOne() {
        NfqueueHook hook = new NfqueueHook(RecordingLogger.into(new java.util.ArrayList<>()), new Commands(List.of()),
                Thread::new);
        Policy policy = Policy.userspace(hook::boundDecider);
        ByteView packet = view(Packets.ipv4(6, 8080, 0x02));
        assertEquals(Policy.DROP_UNBOUND, policy.decide(packet), "nothing bound: fail closed");

        PacketDecider first = p -> Verdict.ACCEPT;
        PacketDecider better = p -> Verdict.ACCEPT;
        hook.bindDecider(first);
        assertEquals(Policy.ACCEPT, policy.decide(packet));
        // greedy: SCR binds the higher-ranked service first, then unbinds the old one
        hook.bindDecider(better);
        hook.unbindDecider(first);
        assertSame(better, hook.boundDecider());
        hook.unbindDecider(better);
        assertNull(hook.boundDecider());
        assertEquals(Policy.DROP_UNBOUND, policy.decide(packet), "unbound again: fail closed");
    }

    @Test
    void firstPacketModeWithoutPacketBypassDrops() {
        assertEquals(Policy.DROP_UNBOUND, Policy.firstPacket(() -> null).decide(view(Packets.ipv4(6, 8080, 0x02))));
    }

    private static ByteView view(byte[] packet) {
        return ByteView.of(packet, Direction.INBOUND);
    }
}
