package org.flexwall.hook.nfqueue;

import com.sun.jna.Native;

/** Whether the native layouts this hook writes by hand (msghdr, iovec) hold here. */
final class Platform {
    static final boolean LP64_LINUX = com.sun.jna.Platform.isLinux() && Native.POINTER_SIZE == 8
            && Native.LONG_SIZE == 8;

    private Platform() {
    }
}
