package org.flexwall.port.monitor.tracefs;

import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * The reader thread carries a port change from the kernel's event to the set element, so it may run before ordinary
 * threads: the lowest real-time priority (SCHED_FIFO 1). It sleeps in read() between events, but a flood of socket
 * events can keep it busy, and a real-time thread busy on the only CPU leaves everything else 5 % of each second (the
 * kernel's throttling). So only with two CPUs or more, where one such thread can take at most one of them.
 */
final class ReaderPriority {
    private static final int SCHED_FIFO = 1;
    /** Threads and processes it starts (a pool's first worker, a tool) begin at normal priority. */
    private static final int SCHED_RESET_ON_FORK = 0x40000000;
    static final int PRIORITY = 1;

    private interface LibC extends Library {
        LibC INSTANCE = Native.load("c", LibC.class);

        /** {@code pid} 0: the calling thread. {@code param}: struct sched_param, one int. */
        int sched_setscheduler(int pid, int policy, int[] param);
    }

    private ReaderPriority() {
    }

    /**
     * Puts the calling thread at SCHED_FIFO 1, not inherited by what it starts, when the JVM has {@code cpus} of two or
     * more; null when done, else why not, for the log.
     */
    static String raiseCallingThread(int cpus) {
        if (cpus < 2) {
            return "one CPU only, which a busy real-time thread would take from everything else";
        }
        try {
            if (LibC.INSTANCE.sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, new int[] { PRIORITY }) == 0) {
                return null;
            }
            int errno = Native.getLastError();
            return "sched_setscheduler failed, errno " + errno + (errno == 1 ? " (EPERM: neither CAP_SYS_NICE nor an "
                    + "RLIMIT_RTPRIO of 1, such as the service unit's LimitRTPRIO=1)" : "");
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return "libc could not be called (" + e.getMessage() + ")";
        }
    }
}
