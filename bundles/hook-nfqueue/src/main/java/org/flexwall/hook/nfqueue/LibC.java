package org.flexwall.hook.nfqueue;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

/** The few libc calls the queue socket needs, bound by JNA direct mapping (the cheapest JNA call path). */
final class LibC {
    static final int AF_NETLINK = 16;
    static final int SOCK_RAW = 3;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int NETLINK_NETFILTER = 12;
    static final int SOL_SOCKET = 1;
    static final int SO_RCVBUF = 8;
    static final int SO_RCVTIMEO = 20;
    static final int SO_RCVBUFFORCE = 33;
    static final int SOL_NETLINK = 270;
    static final int NETLINK_EXT_ACK = 11;
    static final int MSG_TRUNC = 0x20;
    static final int MSG_WAITFORONE = 0x10000;

    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int EPERM = 1;
    static final int ENOBUFS = 105;

    static {
        Native.register(LibC.class, NativeLibrary.getInstance("c"));
    }

    private LibC() {
    }

    static native int socket(int domain, int type, int protocol) throws LastErrorException;

    static native int bind(int fd, Pointer addr, int addrlen) throws LastErrorException;

    static native int setsockopt(int fd, int level, int name, Pointer value, int len) throws LastErrorException;

    static native long send(int fd, Pointer buf, long len, int flags) throws LastErrorException;

    static native long recv(int fd, Pointer buf, long len, int flags) throws LastErrorException;

    static native int recvmmsg(int fd, Pointer msgvec, int vlen, int flags, Pointer timeout)
            throws LastErrorException;

    static native int close(int fd) throws LastErrorException;

    static native String strerror(int errno);
}
