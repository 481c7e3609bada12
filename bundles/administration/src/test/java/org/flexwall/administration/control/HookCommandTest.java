package org.flexwall.administration.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import jakarta.json.Json;
import jakarta.json.JsonObject;

import org.junit.jupiter.api.Test;

/** {@code flexwall hook [use NAME]} as the client sends it and as the operator reads the answer. */
class HookCommandTest {

    @Test
    void hookAloneListsAndHookUseNamesTheChoice() {
        assertEquals(Json.createObjectBuilder().add("op", "hook").build(),
                ControlClient.request(List.of("hook"), false, Map.of()));
        assertEquals(Json.createObjectBuilder().add("op", "hook").add("use", "pcap").build(),
                ControlClient.request(List.of("hook", "use", "pcap"), false, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> ControlClient.request(List.of("hook", "pcap"), false,
                Map.of()));
        assertThrows(IllegalArgumentException.class, () -> ControlClient.request(List.of("hook", "use"), false,
                Map.of()));
    }

    @Test
    void aHookNameStandsForTheChoiceItBelongsToAndAnUnknownOneIsRefusedNamingTheChoices() {
        assertEquals(HookSwitch.Choice.NETFILTER, HookSwitch.Choice.named("nfqueue"));
        assertEquals(HookSwitch.Choice.PCAP, HookSwitch.Choice.named(" PCAP "));
        for (HookSwitch.Choice c : HookSwitch.Choice.values()) {
            assertTrue(c.hooks.contains("nftables"), c + ": the kernel baseline runs in every choice");
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HookSwitch.Choice.named("ndis"));
        assertTrue(e.getMessage().contains("netfilter, userspace, pcap, nftables"), e.getMessage());
    }

    @Test
    void theListShowsEachHooksProblemInsteadOfItsStatusAndTheChoice() {
        JsonObject answer = Json.createObjectBuilder().add("ok", true).add("op", "hook")
                .add("hooks", Json.createArrayBuilder()
                        .add(Json.createObjectBuilder().add("name", "nftables").add("bundle", "org.flexwall.hook-nftables")
                                .add("active", true).add("status", "baseline active, 1 permitted ports")
                                .addNull("problem"))
                        .add(Json.createObjectBuilder().add("name", "pcap").add("bundle", "org.flexwall.hook-pcap")
                                .add("active", false).add("status", "not active")
                                .add("problem", "pcap bridge pbo0 <-> pbi0: cannot capture")))
                .add("choices", Json.createArrayBuilder().add(Json.createObjectBuilder().add("name", "pcap")
                        .add("description", "the pcap bridge decides")))
                .add("choice", "pcap").addNull("running").build();
        String text = Render.text(answer);
        assertTrue(text.contains("nftables   org.flexwall.hook-nftables   yes      baseline active"), text);
        assertTrue(text.contains("PROBLEM: pcap bridge pbo0 <-> pbi0: cannot capture"), text);
        assertFalse(text.contains("not active"), text);
        assertTrue(text.contains("kept for the next start: pcap"), text);
    }
}
