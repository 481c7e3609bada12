package org.flexwall.port.monitor.sockdiag;

import static org.flexwall.port.monitor.sockdiag.Listeners.only;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.flexwall.api.port.SocketOwner;
import org.junit.jupiter.api.Test;

/** Every owner case of {@link OwnerResolverTest}, with descriptors read by the BPF task_file iterator (root). */
class OwnerResolverThroughBpfTest extends OwnerResolverTest {
    @Override
    OwnerResolver resolver() {
        return new OwnerResolver(TaskFileIterator.open());
    }

    @Test
    void iteratorLoadsOnThisKernelAndIsUsed() {
        try (OwnerResolver r = resolver()) {
            assertTrue(r.readsThroughBpf());
        }
    }

    @Test
    void socketOfAThreadWithADescriptorTableOfItsOwnIsOwnedByThatThread() throws Exception {
        // unshare(CLONE_FILES) in a thread: /proc/PID/fd shows the leader's table, which no longer holds the socket.
        try (Python py = new Python("""
                import ctypes, socket, threading, time
                def serve():
                    ctypes.CDLL(None).unshare(0x400)
                    s = socket.socket()
                    s.bind(('127.0.0.1', 0))
                    s.listen()
                    print(threading.get_native_id(), s.getsockname()[1], flush=True)
                    time.sleep(60)
                threading.Thread(target=serve).start()
                time.sleep(60)
                """);
                SocketScanner scanner = new SocketScanner();
                OwnerResolver resolver = resolver()) {
            String[] tidAndPort = py.line().split(" ");
            int tid = Integer.parseInt(tidAndPort[0]);
            long inode = only(scanner.scan(), Protocol.TCP, AddressFamily.IPV4, Integer.parseInt(tidAndPort[1]))
                    .inode();
            List<SocketOwner> owners = resolver.resolveAll(List.of(inode), true).get(inode);
            assertEquals(List.of(tid), owners.stream().map(SocketOwner::pid).toList());
        }
    }
}
