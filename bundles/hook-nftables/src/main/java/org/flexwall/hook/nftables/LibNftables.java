package org.flexwall.hook.nftables;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

/**
 * The calls of libnftables (Debian package libnftables1, which nftables depends on) that run nft commands in this
 * process, and libc's setns(2) to run them in another network namespace; JNA direct mapping. See libnftables(3).
 */
final class LibNftables {
    static final String LIBRARY = "libnftables.so.1";
    /** nft_ctx_new: the usual context, with its netlink socket opened in the calling thread's network namespace. */
    static final int NFT_CTX_DEFAULT = 0;
    /** Lists tables without their sets' elements. */
    static final int NFT_CTX_OUTPUT_TERSE = 1 << 11;

    private static boolean bound;

    private LibNftables() {}

    /** Loads the library {@code name} and binds the calls below to it once: a missing one fails with a LinkageError. */
    static synchronized void load(String name) {
        NativeLibrary library = NativeLibrary.getInstance(name);
        if (!bound) {
            Native.register(LibNftables.class, library);
            bound = true;
        }
    }

    static native Pointer nft_ctx_new(int flags);

    static native void nft_ctx_free(Pointer ctx);

    static native void nft_ctx_output_set_flags(Pointer ctx, int flags);

    static native int nft_ctx_buffer_output(Pointer ctx);

    static native int nft_ctx_buffer_error(Pointer ctx);

    /** What the last commands printed; reading empties the buffer. Owned by the context. */
    static native String nft_ctx_get_output_buffer(Pointer ctx);

    static native String nft_ctx_get_error_buffer(Pointer ctx);

    /** Runs every command in {@code buf} as one transaction; 0 on success. */
    static native int nft_run_cmd_from_buffer(Pointer ctx, String buf);

    /** libc, for entering a network namespace. */
    static final class Libc {
        static final int O_RDONLY_CLOEXEC = 0x80000;
        static final int CLONE_NEWNET = 0x40000000;

        static {
            Native.register(Libc.class, NativeLibrary.getInstance("c"));
        }

        private Libc() {}

        static native int open(String path, int flags) throws LastErrorException;

        static native int setns(int fd, int nstype) throws LastErrorException;

        static native int close(int fd);

        static native int setsockopt(int fd, int level, int name, Pointer value, int length);
    }
}
