package org.flexwall.port.monitor.sockdiag;

import java.util.ArrayList;
import java.util.List;

import org.flexwall.api.packet.Marks;
import org.flexwall.api.port.ListeningSocket;
import org.flexwall.api.port.SocketOwner;

import com.sun.jna.LastErrorException;

/**
 * Puts {@link Marks#VERIFIED_SOCKET} on a socket through a duplicate of one holder's descriptor (DESIGN principle 7):
 * {@code pidfd_open} pins the holder, its start time proves it is the process that was verified (not a reused pid),
 * {@code pidfd_getfd} takes a duplicate, whose inode proves it is the verified socket, and {@code SO_MARK} on the
 * duplicate marks the one {@code struct sock} every holder shares. The duplicate is closed at once.
 *
 * <p>Needs CAP_SYS_PTRACE (pidfd_getfd) and CAP_NET_ADMIN (SO_MARK). Thread-safe: each thread reads /proc with its
 * own buffers.
 */
final class SocketMarks {
    private static final int SELF = (int) ProcessHandle.current().pid();
    private final ThreadLocal<ProcFs> procs = ThreadLocal.withInitial(ProcFs::new);

    /**
     * Sets or clears the bit through the first owner that can be reached; {@code holders} are the (pid, fd) pairs the
     * owner index knows (packed as {@link OwnerResolver#pack}), searched in /proc when it knows none for an owner.
     */
    boolean mark(ListeningSocket socket, long[] holders, boolean verified) {
        ProcFs proc = procs.get();
        for (SocketOwner owner : socket.owners()) {
            if (owner.taken()) {
                continue; // a process that took the socket may hold it no longer: mark through a holder
            }
            for (int fd : descriptors(proc, owner.pid(), socket.inode(), holders)) {
                if (markThrough(proc, owner, fd, socket.inode(), verified)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The owner's descriptors of the socket: the index's first, else a look through /proc/PID/fd. */
    private static List<Integer> descriptors(ProcFs proc, int pid, long inode, long[] holders) {
        List<Integer> fds = new ArrayList<>(1);
        if (holders != null) {
            for (long h : holders) {
                if (OwnerResolver.pid(h) == pid) {
                    fds.add(OwnerResolver.fd(h));
                }
            }
        }
        if (fds.isEmpty()) {
            proc.forEachSocket(pid, (fd, found) -> {
                if (found == inode) {
                    fds.add(fd);
                }
                return true;
            });
        }
        return fds;
    }

    private static boolean markThrough(ProcFs proc, SocketOwner owner, int fd, long inode, boolean verified) {
        int pidfd;
        try {
            pidfd = (int) Libc.syscall(Libc.SYS_PIDFD_OPEN, owner.pid(), 0, 0);
        } catch (LastErrorException e) {
            return false; // gone
        }
        try {
            // the pidfd pins this pid from here on: the start time says whether it is still the verified process
            if (proc.startTime(owner.pid()) != owner.startTime()) {
                return false;
            }
            int copy;
            try {
                copy = (int) Libc.syscall(Libc.SYS_PIDFD_GETFD, pidfd, fd, 0);
            } catch (LastErrorException e) {
                return false; // the descriptor was closed meanwhile
            }
            try {
                if (proc.socketInode(SELF, copy) != inode) {
                    return false; // the number now holds another file
                }
                byte[] value = new byte[4];
                int[] length = { 4 };
                Libc.getsockopt(copy, Libc.SOL_SOCKET, Libc.SO_MARK, value, length);
                int mark = intOf(value);
                int wanted = verified ? mark | Marks.VERIFIED_SOCKET : mark & ~Marks.VERIFIED_SOCKET;
                if (wanted != mark) {
                    Libc.setsockopt(copy, Libc.SOL_SOCKET, Libc.SO_MARK, bytesOf(wanted), 4);
                }
                return true;
            } catch (LastErrorException e) {
                return false;
            } finally {
                Libc.close(copy);
            }
        } finally {
            Libc.close(pidfd);
        }
    }

    // SO_MARK is a native-endian int; both platforms we run on are little-endian
    private static int intOf(byte[] b) {
        return (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (b[3] & 0xff) << 24;
    }

    private static byte[] bytesOf(int v) {
        return new byte[] { (byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24) };
    }
}
