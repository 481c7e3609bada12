package org.flexwall.icf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConnectionTableTest {
    static final long NOW = 0, LATER = 1_000_000_000L;

    /**
     * An eighth of a table of flows whose keys differ in one word only: a hash that ignored that word would send
     * them all to one probe window, and every insert after the sixteenth would fail. With a sound hash, a run of 16
     * taken slots at this load is about a one-in-a-billion event per insert.
     */
    @ParameterizedTest(name = "key word {0}")
    @ValueSource(ints = { 0, 1, 2, 3, 4 })
    void flowsThatDifferInAnyOneKeyWordSpreadOverTheTableAndAreToldApart(int word) {
        ConnectionTable table = new ConnectionTable(4096, 16);
        int flows = 512;
        for (int i = 0; i < flows; i++) {
            long[] k = key(word, i);
            assertTrue(table.insert(k[0], k[1], k[2], k[3], k[4], ConnectionTable.ESTABLISHED, LATER, NOW) >= 0,
                    "insert " + i + " failed: the hash does not spread key word " + word);
        }
        for (int i = 0; i < flows; i++) {
            long[] k = key(word, i);
            int slot = table.find(k[0], k[1], k[2], k[3], k[4], NOW);
            assertTrue(slot >= 0, "flow " + i + " lost");
            for (int other = 0; other < 5; other++) {
                long[] o = k.clone();
                o[other] ^= 1L << 62; // the same flow but for one bit of another word: no flow of ours
                assertEquals(-1, table.find(o[0], o[1], o[2], o[3], o[4], NOW), "word " + other + " not compared");
            }
        }
    }

    /** IPv6 addresses 2001:db8::1 and 2001:db8:ffff::N, TCP 40000 -> 443, with key word {@code word} varied by i. */
    static long[] key(int word, int i) {
        long[] k = { 0x2001_0db8_0000_0000L, 1, 0x2001_0db8_ffff_0000L, 7,
                ConnectionTable.meta(true, 6, 40000, 443) };
        k[word] += word == 4 ? i : (long) i << (i % 2 == 0 ? 0 : 32); // low and high halves of the word both count
        return k;
    }
}
