package org.flexwall.port.store.bench;

import static org.flexwall.port.store.Sockets.owner;
import static org.flexwall.port.store.Sockets.program;
import static org.flexwall.port.store.Sockets.sha;
import static org.flexwall.port.store.Sockets.tcp4;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntPredicate;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.PortEvent;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.program.TrustedProgram;
import org.flexwall.port.store.Fakes;
import org.flexwall.port.store.PortStoreComponent;
import org.flexwall.port.store.TestStores;

/**
 * How long the packet path waits for the store on the first packet of a new flow. Prints the median and p99 of
 * batches of calls, each next to the baseline measured in the same run: a ConcurrentHashMap lookup of a boxed key.
 *
 * <pre>cd bundles/port-store && mvn -q test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt \
 *   && java -cp target/classes:target/test-classes:$(cat target/cp.txt) org.flexwall.port.store.bench.PortStoreBench</pre>
 */
public final class PortStoreBench {
    private static final int BATCH = 1_000;
    private static final int BATCHES = 20_000;
    private static volatile boolean sink;

    public static void main(String[] args) throws Exception {
        TrustedProgram sshd = program("sshd", 'a');
        Fakes.Monitor monitor = new Fakes.Monitor(); // ownerOf is not reached by the cases below
        PortStoreComponent store = TestStores.running(TestStores.registry(List.of(sshd)), monitor);
        // 1 000 permitted ports and 1 000 untrusted listeners, like a busy gateway.
        for (int i = 0; i < 1000; i++) {
            store.portEvent(new PortEvent(PortEvent.Kind.OPEN, tcp4(10_000 + i, 1_000 + i, owner(812, sshd.sha256()))));
            store.portEvent(new PortEvent(PortEvent.Kind.OPEN, tcp4(20_000 + i, 5_000 + i, owner(900, sha('f')))));
        }
        ConcurrentHashMap<Integer, Boolean> map = new ConcurrentHashMap<>();
        for (int i = 0; i < 1000; i++) {
            map.put(10_000 + i, true);
        }

        run("baseline ConcurrentHashMap<Integer,Boolean>.get, hit", p -> map.get(10_000 + (p % 1000)) != null);
        run("permitNow, permitted port", p -> store.permitNow(Protocol.TCP, AddressFamily.IPV4, 10_000 + (p % 1000)));
        run("permitNow, known untrusted listener", p -> store.permitNow(Protocol.TCP, AddressFamily.IPV4, 20_000 + (p % 1000)));
        run("baseline ConcurrentHashMap<Integer,Boolean>.get, miss", p -> map.get(30_000 + (p % 1000)) != null);
        run("permitNow, nobody listens (asks the monitor)", p -> store.permitNow(Protocol.TCP, AddressFamily.IPV4, 30_000 + (p % 1000)));
        TestStores.stop(store);
    }

    private static void run(String name, IntPredicate call) {
        for (int i = 0; i < 2_000_000; i++) { // warm up the JIT
            sink ^= call.test(i);
        }
        double[] ns = new double[BATCHES];
        int p = 0;
        for (int b = 0; b < BATCHES; b++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < BATCH; i++) {
                sink ^= call.test(p++);
            }
            ns[b] = (System.nanoTime() - t0) / (double) BATCH;
        }
        Arrays.sort(ns);
        System.out.printf("%-55s median %6.1f ns/call   p99 %6.1f ns/call%n", name, ns[BATCHES / 2], ns[BATCHES * 99 / 100]);
    }
}
