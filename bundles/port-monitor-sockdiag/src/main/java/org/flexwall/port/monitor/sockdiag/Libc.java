package org.flexwall.port.monitor.sockdiag;

import java.nio.ByteBuffer;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The few libc calls the monitor needs, through JNA direct mapping (no JNI code of our own, no per-call reflection).
 * Constants are the Linux generic ABI values, the same on x86-64 and aarch64.
 */
final class Libc {
    static final int AF_NETLINK = 16;
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int SOCK_RAW = 3;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int NETLINK_SOCK_DIAG = 4;
    static final int SOL_SOCKET = 1;
    static final int SO_RCVTIMEO = 20;
    static final int SO_MARK = 36;
    static final long SYS_PIDFD_OPEN = 434; // the same number on x86-64 and aarch64 (the unified syscall table)
    static final long SYS_PIDFD_GETFD = 438;
    static final int O_RDONLY_CLOEXEC = 0x80000;
    static final int EINTR = 4;
    static final int EAGAIN = 11;

    static {
        if (!Platform.isLinux() || Native.SIZE_T_SIZE != 8) {
            throw new UnsupportedOperationException("the sock_diag port monitor needs 64-bit Linux, not "
                    + System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        }
        Native.register(Libc.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private Libc() {}

    /** Loads and binds libc now, so that a missing native library fails activation rather than the first poll. */
    static void ready() {
        // the static initializer did the work
    }

    static native int socket(int domain, int type, int protocol) throws LastErrorException;

    static native int setsockopt(int fd, int level, int name, byte[] value, int length) throws LastErrorException;

    static native int getsockopt(int fd, int level, int name, byte[] value, int[] length) throws LastErrorException;

    /** A system call glibc has no wrapper for on every distribution (pidfd_open, pidfd_getfd); integer arguments. */
    static native long syscall(long number, long a, long b, long c) throws LastErrorException;

    static native long sendto(int fd, byte[] buf, long len, int flags, byte[] addr, int addrLen)
            throws LastErrorException;

    /** {@code buf} must be a direct buffer: JNA passes its address, nothing is copied. */
    static native long recv(int fd, ByteBuffer buf, long len, int flags) throws LastErrorException;

    static native int close(int fd);

    // /proc calls run once per descriptor of every process: they take raw addresses (long) into a direct buffer,
    // so JNA's fastest path applies (primitive arguments only, no array copied in or out).

    /** NUL-terminated path at {@code path}, link target into {@code buf} (not terminated); -1 when gone. */
    static native long readlink(long path, long buf, long size);

    /** As readlink, relative to an open directory: saves the path walk through /proc/PID/fd for every entry. */
    static native long readlinkat(int dirFd, long name, long buf, long size);

    static native int open(long path, int flags);

    static native long read(int fd, long buf, long size);

    /** struct statx into {@code buf} (256 bytes; glibc 2.28+); 0 on success. */
    static native int statx(int dirFd, long path, int flags, int mask, long buf);

    /** Directory entries as struct linux_dirent64 (glibc 2.30+). */
    static native long getdents64(int fd, long buf, long size);

    /** The address of a direct buffer, for the calls above; the buffer must stay referenced while it is used. */
    static long address(ByteBuffer direct) {
        return Pointer.nativeValue(Native.getDirectBufferPointer(direct));
    }
}
