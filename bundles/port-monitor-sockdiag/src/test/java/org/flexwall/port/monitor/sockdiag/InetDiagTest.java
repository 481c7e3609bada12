package org.flexwall.port.monitor.sockdiag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.Protocol;
import org.junit.jupiter.api.Test;

/** The byte work of sock_diag against hand-built kernel answers, including broken ones. */
class InetDiagTest {
    private static final int SEQ = 77;

    @Test
    void requestForOnePortCarriesAGreaterEqualAndLessEqualBytecodeFilter() {
        ByteBuffer b = ByteBuffer.wrap(InetDiag.request(SEQ, Protocol.TCP, Libc.AF_INET6, 8080)).order(InetDiag.HOST);
        assertEquals(92, b.getInt(0));
        assertEquals(InetDiag.SOCK_DIAG_BY_FAMILY, b.getShort(4));
        assertEquals(InetDiag.NLM_F_REQUEST | InetDiag.NLM_F_DUMP, b.getShort(6));
        assertEquals(SEQ, b.getInt(8));
        assertEquals(Libc.AF_INET6, b.get(16));
        assertEquals(6, b.get(17));
        assertEquals(1 << 10, b.getInt(20), "TCP: LISTEN only");
        assertEquals(8080, ((b.get(24) & 0xFF) << 8) | (b.get(25) & 0xFF), "idiag_sport, network order");
        assertEquals(20, b.getShort(72), "attribute length");
        assertEquals(InetDiag.INET_DIAG_REQ_BYTECODE, b.getShort(74));
        assertEquals(InetDiag.INET_DIAG_BC_S_GE, b.get(76));
        assertEquals(8080, b.getShort(82));
        assertEquals(InetDiag.INET_DIAG_BC_S_LE, b.get(84));
        assertEquals(8080, b.getShort(90));
    }

    @Test
    void tcpRequestForBothFamiliesIsTheOlderRequestWithTheFamilyOpen() {
        ByteBuffer b = ByteBuffer.wrap(InetDiag.tcpListenersOnPort(SEQ, 8080)).order(InetDiag.HOST);
        assertEquals(16 + 60 + 20, b.getInt(0));
        assertEquals(InetDiag.TCPDIAG_GETSOCK, b.getShort(4));
        assertEquals(InetDiag.NLM_F_REQUEST | InetDiag.NLM_F_DUMP, b.getShort(6));
        assertEquals(0, b.get(16), "AF_UNSPEC");
        assertEquals(8080, ((b.get(20) & 0xFF) << 8) | (b.get(21) & 0xFF), "idiag_sport, network order");
        assertEquals(1 << 10, b.getInt(68), "LISTEN only");
        assertEquals(20, b.getShort(76), "attribute length");
        assertEquals(InetDiag.INET_DIAG_REQ_BYTECODE, b.getShort(78));
        assertEquals(InetDiag.INET_DIAG_BC_S_GE, b.get(80));
        assertEquals(8080, b.getShort(86));
        assertEquals(InetDiag.INET_DIAG_BC_S_LE, b.get(88));
        assertEquals(8080, b.getShort(94));
    }

    @Test
    void dumpRequestForUdpAsksForEveryState() {
        ByteBuffer b = ByteBuffer.wrap(InetDiag.request(SEQ, Protocol.UDP, Libc.AF_INET, 0)).order(InetDiag.HOST);
        assertEquals(72, b.getInt(0));
        assertEquals(17, b.get(17));
        assertEquals(-1, b.getInt(20));
    }

    @Test
    void socketMessagesAreDecodedWithNetworkOrderPortsAndAddresses() throws IOException {
        ByteBuffer d = datagram(
                socket(SEQ, Libc.AF_INET, 443, new byte[] { 10, 0, 0, 1 }, 4242, null),
                socket(SEQ, Libc.AF_INET6, 53, v6(0x20, 0x01, 0x0d, 0xb8), 99, (byte) 1),
                done(SEQ));
        List<ListeningSocket> out = new ArrayList<>();
        assertEquals(InetDiag.Progress.DONE, InetDiag.parse(d, SEQ, Protocol.TCP, out::add));
        assertEquals(new ListeningSocket(Protocol.TCP, AddressFamily.IPV4, InetAddress.getByName("10.0.0.1"), 443, 4242, false, List.of()),
                out.get(0));
        assertEquals(new ListeningSocket(Protocol.TCP, AddressFamily.IPV6, InetAddress.getByName("2001:db8::"), 53, 99, true, List.of()),
                out.get(1));
    }

    @Test
    void ipv6SocketWithoutTheV6OnlyAttributeIsV6OnlyUnlessItsAddressIsV4Mapped() throws IOException {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xFF;
        mapped[11] = (byte) 0xFF;
        mapped[12] = 127;
        mapped[15] = 1;
        List<ListeningSocket> out = new ArrayList<>();
        InetDiag.parse(datagram(socket(SEQ, Libc.AF_INET6, 1, new byte[16], 1, null),
                socket(SEQ, Libc.AF_INET6, 2, mapped, 2, null)), SEQ, Protocol.UDP, out::add);
        assertTrue(out.get(0).v6Only());
        assertFalse(out.get(1).v6Only());
        assertEquals("::ffff:127.0.0.1", out.get(1).addressText());
    }

    @Test
    void messagesOfAnotherRequestAreSkipped() throws IOException {
        List<ListeningSocket> out = new ArrayList<>();
        InetDiag.Progress p = InetDiag.parse(datagram(socket(SEQ - 1, Libc.AF_INET, 1, new byte[4], 1, null),
                done(SEQ - 1), socket(SEQ, Libc.AF_INET, 2, new byte[4], 2, null)), SEQ, Protocol.TCP, out::add);
        assertEquals(InetDiag.Progress.MORE, p);
        assertEquals(List.of(2L), out.stream().map(ListeningSocket::inode).toList());
    }

    @Test
    void interruptedDumpIsReported() throws IOException {
        ByteBuffer m = socket(SEQ, Libc.AF_INET, 1, new byte[4], 1, null);
        m.putShort(6, (short) (InetDiag.NLM_F_DUMP_INTR | 2));
        assertEquals(InetDiag.Progress.INTERRUPTED_DONE,
                InetDiag.parse(datagram(m, done(SEQ)), SEQ, Protocol.TCP, s -> {}));
    }

    @Test
    void kernelErrorIsThrownWithItsErrnoAndAHintForAMissingModule() {
        ByteBuffer e = ByteBuffer.allocate(36).order(InetDiag.HOST);
        e.putInt(36).putShort((short) InetDiag.NLMSG_ERROR).putShort((short) 0).putInt(SEQ).putInt(0).putInt(-2);
        InetDiag.KernelError x = assertThrows(InetDiag.KernelError.class,
                () -> InetDiag.parse(datagram(e), SEQ, Protocol.UDP, s -> {}));
        assertEquals(2, x.errno);
        assertTrue(x.getMessage().contains("modprobe udp_diag"), x.getMessage());
    }

    @Test
    void lengthsThatRunPastTheDatagramAreRefused() {
        ByteBuffer tooLong = socket(SEQ, Libc.AF_INET, 1, new byte[4], 1, null);
        tooLong.putInt(0, 4096);
        assertThrows(IOException.class, () -> InetDiag.parse(datagram(tooLong), SEQ, Protocol.TCP, s -> {}));

        ByteBuffer tooShort = socket(SEQ, Libc.AF_INET, 1, new byte[4], 1, null);
        tooShort.putInt(0, 8);
        assertThrows(IOException.class, () -> InetDiag.parse(datagram(tooShort), SEQ, Protocol.TCP, s -> {}));

        ByteBuffer truncated = ByteBuffer.allocate(16 + 40).order(InetDiag.HOST);
        truncated.putInt(56).putShort((short) InetDiag.SOCK_DIAG_BY_FAMILY).putShort((short) 2).putInt(SEQ).putInt(0);
        assertThrows(IOException.class, () -> InetDiag.parse(datagram(truncated), SEQ, Protocol.TCP, s -> {}));

        ByteBuffer badAttribute = socket(SEQ, Libc.AF_INET6, 1, new byte[16], 1, (byte) 0);
        badAttribute.putShort(16 + 72, (short) 200);
        assertThrows(IOException.class, () -> InetDiag.parse(datagram(badAttribute), SEQ, Protocol.TCP, s -> {}));
    }

    @Test
    void unknownAddressFamilyIsRefused() {
        assertThrows(IOException.class, () -> InetDiag.parse(datagram(socket(SEQ, 1, 1, new byte[4], 1, null)),
                SEQ, Protocol.TCP, s -> {}));
    }

    // --- kernel answers built by hand -------------------------------------------------------------------------

    static ByteBuffer socket(int seq, int family, int port, byte[] src, long inode, Byte v6Only) {
        int len = 16 + 72 + (v6Only != null ? 8 : 0);
        ByteBuffer b = ByteBuffer.allocate(len).order(InetDiag.HOST);
        b.putInt(len).putShort((short) InetDiag.SOCK_DIAG_BY_FAMILY).putShort((short) 2).putInt(seq).putInt(0);
        b.put((byte) family).put((byte) 10).put((byte) 0).put((byte) 0);
        b.put((byte) (port >> 8)).put((byte) port).putShort((short) 0);
        b.put(src);
        b.position(16 + 72 - 4);
        b.putInt((int) inode);
        if (v6Only != null) {
            b.putShort((short) 5).putShort((short) InetDiag.INET_DIAG_SKV6ONLY).put(v6Only);
        }
        return b.clear();
    }

    static ByteBuffer done(int seq) {
        ByteBuffer b = ByteBuffer.allocate(20).order(InetDiag.HOST);
        return b.putInt(20).putShort((short) InetDiag.NLMSG_DONE).putShort((short) 2).putInt(seq).putInt(0).putInt(0)
                .clear();
    }

    static ByteBuffer datagram(ByteBuffer... messages) {
        int n = 0;
        for (ByteBuffer m : messages) {
            n += InetDiag.align4(m.capacity());
        }
        ByteBuffer d = ByteBuffer.allocate(n);
        for (ByteBuffer m : messages) {
            d.put(m.duplicate().clear());
            d.position(InetDiag.align4(d.position()));
        }
        return d.flip();
    }

    private static byte[] v6(int... head) {
        byte[] a = new byte[16];
        for (int i = 0; i < head.length; i++) {
            a[i] = (byte) head[i];
        }
        return a;
    }
}
