package org.flexwall.hook.nftables;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.flexwall.api.port.Protocol;
import org.flexwall.hook.nftables.Nft.NftException;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

/**
 * Element adds and deletes of the permitted sets as one nfnetlink batch built by libnftnl and sent through libmnl
 * (both libraries libnftables itself runs on): one sendmsg and its acknowledgements per port change. libnftables would
 * parse the command and fetch the kernel's generation, table, chain, set, object and flowtable lists first, seven
 * netlink round trips before every change, since each of our own transactions makes its cache stale.
 *
 * <p>Confined to the thread that made it (the hook's worker, inside the namespace the context acts in). Any error the
 * kernel reports aborts the whole batch (nothing changes) and is thrown, so the caller's fallback rewrites the sets.
 */
final class NetlinkElements implements AutoCloseable {
    static final String NFTNL = "libnftnl.so.11";
    static final String MNL = "libmnl.so.0";
    private static final int NETLINK_NETFILTER = 12;
    private static final int NFT_MSG_NEWSETELEM = 12;
    private static final int NFT_MSG_DELSETELEM = 14;
    private static final int NFPROTO_INET = 1;
    private static final int NLM_F_ACK = 0x4;
    private static final int NLM_F_CREATE = 0x400;
    private static final int NLMSG_ERROR = 2;
    private static final int NFTNL_SET_TABLE = 0;
    private static final int NFTNL_SET_NAME = 1;
    private static final int NFTNL_SET_FAMILY = 7;
    private static final int NFTNL_SET_ELEM_KEY = 1;
    private static final int SOL_SOCKET = 1;
    private static final int SO_RCVTIMEO = 20;
    private static final int BUFFER = 1 << 16;
    /** Elements per batch at most; a larger change goes through libnftables (a rewrite, not a port change). */
    static final int MAX_ELEMENTS = 512;

    /** libnftnl and libmnl calls; JNA direct mapping. */
    static final class Lib {
        private static boolean bound;

        private Lib() {}

        static synchronized void load() {
            if (!bound) {
                Native.register(Lib.class, NativeLibrary.getInstance(NFTNL));
                Native.register(Mnl.class, NativeLibrary.getInstance(MNL));
                bound = true;
            }
        }

        static native Pointer nftnl_set_alloc();

        static native void nftnl_set_free(Pointer s);

        /** {@code value}: a NUL-terminated string in native memory (see {@link NetlinkElements#name}). */
        static native int nftnl_set_set_str(Pointer s, int attr, Pointer value);

        static native void nftnl_set_set_u32(Pointer s, int attr, int value);

        static native Pointer nftnl_set_elem_alloc();

        static native int nftnl_set_elem_set(Pointer e, int attr, Pointer data, int len);

        static native void nftnl_set_elem_add(Pointer s, Pointer e);

        static native Pointer nftnl_batch_begin(Pointer buf, int seq);

        static native Pointer nftnl_batch_end(Pointer buf, int seq);

        static native Pointer nftnl_nlmsg_build_hdr(Pointer buf, short type, short family, short flags, int seq);

        static native void nftnl_set_elems_nlmsg_build_payload(Pointer nlh, Pointer s);
    }

    static final class Mnl {
        private Mnl() {}

        static native Pointer mnl_socket_open(int bus) throws LastErrorException;

        static native int mnl_socket_bind(Pointer nl, int groups, int pid) throws LastErrorException;

        static native int mnl_socket_close(Pointer nl);

        static native int mnl_socket_get_fd(Pointer nl);

        static native long mnl_socket_sendto(Pointer nl, Pointer buf, long len) throws LastErrorException;

        static native long mnl_socket_recvfrom(Pointer nl, Pointer buf, long size) throws LastErrorException;
    }

    private final Memory send = new Memory(BUFFER);
    private final Memory receive = new Memory(BUFFER);
    private final Memory key = new Memory(8);
    private final Map<String, Memory> names = new HashMap<>(); // the table's and the sets' names, in C
    private Pointer socket;
    private int seq = (int) (System.nanoTime() & 0x3fffffff);

    /** Loads the libraries and opens a netfilter netlink socket in this thread's network namespace. */
    NetlinkElements() throws NftException {
        try {
            Lib.load();
        } catch (LinkageError e) {
            throw new NftException("libnftnl/libmnl could not be loaded (" + e.getMessage() + ")", true, null);
        }
        Pointer nl;
        try {
            nl = Mnl.mnl_socket_open(NETLINK_NETFILTER);
        } catch (LastErrorException e) {
            throw new NftException("cannot open a netfilter netlink socket (" + e.getMessage() + ")", false, e);
        }
        Memory timeout = new Memory(16); // struct timeval: a reply that never comes fails the change, never hangs
        timeout.setLong(0, 5);
        timeout.setLong(8, 0);
        try {
            Mnl.mnl_socket_bind(nl, 0, 0);
            if (LibNftables.Libc.setsockopt(Mnl.mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, timeout, 16) != 0) {
                throw new LastErrorException("setsockopt SO_RCVTIMEO failed");
            }
        } catch (LastErrorException e) {
            Mnl.mnl_socket_close(nl);
            throw new NftException("cannot bind a netfilter netlink socket (" + e.getMessage() + ")", false, e);
        }
        socket = nl;
    }

    /**
     * Deletes {@code delete} and adds {@code add} in table inet flexwall's permitted sets, as one transaction: all or
     * nothing.
     */
    void apply(Collection<Element> add, Collection<Element> delete) throws NftException {
        int first = ++seq;
        int offset = 0;
        offset += length(Lib.nftnl_batch_begin(send.share(offset), first));
        int last = first;
        for (Map.Entry<String, List<Element>> e : bySet(delete).entrySet()) {
            last = ++seq;
            offset += message(offset, NFT_MSG_DELSETELEM, NLM_F_ACK, last, e.getKey(), e.getValue());
        }
        for (Map.Entry<String, List<Element>> e : bySet(add).entrySet()) {
            last = ++seq;
            offset += message(offset, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_ACK, last, e.getKey(), e.getValue());
        }
        if (last == first) {
            return; // nothing to change
        }
        offset += length(Lib.nftnl_batch_end(send.share(offset), ++seq));
        try {
            Mnl.mnl_socket_sendto(socket, send, offset);
        } catch (LastErrorException e) {
            throw new NftException("cannot send the element changes to the kernel (" + e.getMessage() + ")", false, e);
        }
        awaitAcks(first, last);
    }

    @Override
    public void close() {
        if (socket != null) {
            Mnl.mnl_socket_close(socket);
            socket = null;
        }
    }

    /** One NEWSETELEM/DELSETELEM message for {@code set} at {@code offset}; its length. */
    private int message(int offset, int type, int flags, int s, String set, List<Element> elements) {
        Pointer nlh = Lib.nftnl_nlmsg_build_hdr(send.share(offset), (short) type, (short) NFPROTO_INET,
                (short) flags, s);
        Pointer nset = Lib.nftnl_set_alloc();
        try {
            Lib.nftnl_set_set_str(nset, NFTNL_SET_TABLE, name(Ruleset.TABLE));
            Lib.nftnl_set_set_str(nset, NFTNL_SET_NAME, name(set));
            Lib.nftnl_set_set_u32(nset, NFTNL_SET_FAMILY, NFPROTO_INET);
            for (Element el : elements) {
                // inet_proto . inet_service: each field in a 4-byte register, the port in network order
                key.clear();
                key.setByte(0, (byte) (el.protocol() == Protocol.TCP ? 6 : 17));
                key.setByte(4, (byte) (el.port() >>> 8));
                key.setByte(5, (byte) el.port());
                Pointer e = Lib.nftnl_set_elem_alloc();
                Lib.nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, 8); // copied
                Lib.nftnl_set_elem_add(nset, e);
            }
            Lib.nftnl_set_elems_nlmsg_build_payload(nlh, nset);
        } finally {
            Lib.nftnl_set_free(nset); // frees its elements too
        }
        return length(nlh);
    }

    /**
     * {@code s} as a C string, made once: JNA would make a native copy of a String argument on every call, calling
     * back into Java to encode it.
     */
    private Pointer name(String s) {
        return names.computeIfAbsent(s, k -> {
            byte[] bytes = k.getBytes(StandardCharsets.US_ASCII);
            Memory m = new Memory(bytes.length + 1L);
            m.write(0, bytes, 0, bytes.length);
            m.setByte(bytes.length, (byte) 0);
            return m;
        });
    }

    /** Reads the kernel's answers to messages {@code first}..{@code last}: every one acknowledged, or the error. */
    private void awaitAcks(int first, int last) throws NftException {
        int errno = 0;
        while (true) {
            long n;
            try {
                n = Mnl.mnl_socket_recvfrom(socket, receive, BUFFER);
            } catch (LastErrorException e) {
                throw new NftException("no answer from the kernel to the element changes (" + e.getMessage() + ")",
                        false, e);
            }
            for (int at = 0; at + 16 <= n;) {
                int len = receive.getInt(at);
                int type = receive.getShort(at + 4) & 0xffff;
                int s = receive.getInt(at + 8);
                if (len < 16) {
                    break;
                }
                if (type == NLMSG_ERROR && s - first >= 0 && last - s >= 0) {
                    int error = receive.getInt(at + 16);
                    if (error != 0 && errno == 0) {
                        errno = -error;
                    }
                    if (s == last) {
                        if (errno != 0) {
                            throw new NftException("cannot update the permitted ports: the kernel refused the "
                                    + "element changes (" + strerror(errno) + ")", false, null);
                        }
                        return;
                    }
                }
                at += (len + 3) & ~3;
            }
        }
    }

    private static String strerror(int errno) {
        return switch (errno) {
            case 2 -> "ENOENT: no such table, set or element";
            case 17 -> "EEXIST";
            case 1 -> "EPERM";
            case 12 -> "ENOMEM";
            case 23 -> "ENFILE: the set is full";
            default -> "errno " + errno;
        };
    }

    private int length(Pointer nlh) {
        return (nlh.getInt(0) + 3) & ~3;
    }

    private static Map<String, List<Element>> bySet(Collection<Element> elements) {
        Map<String, List<Element>> m = new TreeMap<>();
        elements.forEach(e -> m.computeIfAbsent(e.set(), k -> new java.util.ArrayList<>()).add(e));
        return m;
    }
}
