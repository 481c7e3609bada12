package org.flexwall.hook.nfqueue;

import org.flexwall.hook.nfqueue.NfqueueHook.Config;

/** The NFQUEUE hook's validated configuration. */
record HookSettings(int queueNum, Mode mode, int copyRange, int rcvbuf, int queueMaxLen, int rateLimit,
        int rateBurst, int batchSize, int recentDrops) {
    HookSettings {
        check(queueNum >= 0 && queueNum <= 65535, "queueNum must be 0-65535, not " + queueNum);
        check(copyRange >= 64 && copyRange <= 65535, "copyRange must be 64-65535, not " + copyRange);
        check(rcvbuf >= 65536, "rcvbuf must be at least 65536 bytes, not " + rcvbuf);
        check(queueMaxLen >= 1, "queueMaxLen must be at least 1, not " + queueMaxLen);
        // iptables' limit match takes at most 10000 per second and a burst of at most 10000
        check(rateLimit >= 1 && rateLimit <= 10_000, "rateLimit must be 1-10000 per second, not " + rateLimit);
        check(rateBurst >= 1 && rateBurst <= 10_000, "rateBurst must be 1-10000, not " + rateBurst);
        check(batchSize >= 1 && batchSize <= 1024, "batchSize must be 1-1024, not " + batchSize);
        check(recentDrops >= 1 && recentDrops <= 100_000, "recentDrops must be 1-100000, not " + recentDrops);
    }

    static HookSettings of(Config c) {
        return new HookSettings(c.queueNum(), Mode.parse(c.mode()), c.copyRange(), c.rcvbuf(), c.queueMaxLen(),
                c.rateLimit(), c.rateBurst(), c.batchSize(), c.recentDrops());
    }

    /**
     * What the kernel copies of each packet. In userspace mode the whole packet (the kernel's largest range): the
     * decider parses every packet and drops one cut shorter than its IP length says, which would stall every
     * established flow. firstPacket mode reads only the headers of a SYN or a datagram.
     */
    int kernelCopyRange() {
        return mode == Mode.USERSPACE ? NfqueueHook.MAX_COPY_RANGE : copyRange;
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
