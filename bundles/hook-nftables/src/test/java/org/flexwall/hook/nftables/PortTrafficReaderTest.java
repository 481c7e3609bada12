package org.flexwall.hook.nftables;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;

import org.flexwall.api.packet.PortTraffic.Counts;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.Protocol;
import org.junit.jupiter.api.Test;

class PortTrafficReaderTest {

    @Test
    void eachPermittedElementsCounterBecomesItsPortsTraffic() {
        // as nft 1.0.6 prints a permitted set with counters
        String json = "{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\", \"json_schema_version\": 1}}, "
                + "{\"set\": {\"family\": \"inet\", \"name\": \"permitted6\", \"table\": \"flexwall\", \"type\": "
                + "[\"inet_proto\", \"inet_service\"], \"handle\": 2, \"elem\": [{\"elem\": {\"val\": {\"concat\": "
                + "[\"tcp\", 22]}, \"counter\": {\"packets\": 0, \"bytes\": 0}}}, {\"elem\": {\"val\": {\"concat\": "
                + "[\"udp\", 5000]}, \"counter\": {\"packets\": 3, \"bytes\": 93}}}], \"stmt\": [{\"counter\": null}]}}]}";

        assertEquals(Map.of(new PortKey(Protocol.TCP, AddressFamily.IPV6, 22), new Counts(0, 0),
                new PortKey(Protocol.UDP, AddressFamily.IPV6, 5000), new Counts(3, 93)),
                PortTrafficReader.parse(json, AddressFamily.IPV6));
    }

    @Test
    void aSetOfAnEarlierVersionWithoutCountersGivesNothing() {
        String json = "{\"nftables\": [{\"set\": {\"family\": \"inet\", \"name\": \"permitted4\", \"table\": "
                + "\"flexwall\", \"elem\": [{\"concat\": [\"tcp\", 22]}]}}]}";

        assertEquals(Map.of(), PortTrafficReader.parse(json, AddressFamily.IPV4));
    }
}
