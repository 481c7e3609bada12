package org.flexwall.port.monitor.sockdiag;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

/**
 * The libbpf calls that load and run the task_file iterator (libbpf 1.x: a failed call returns NULL or a negative
 * errno and sets errno), through JNA direct mapping. Debian package: libbpf1.
 */
final class Libbpf {
    static {
        Native.register(Libbpf.class, NativeLibrary.getInstance("libbpf.so.1"));
    }

    private Libbpf() {}

    /** Loads and binds libbpf now: a missing library fails here, with a LinkageError. */
    static void ready() {
        // the static initializer did the work
    }

    /** The ELF object in {@code buf}, which must stay valid until {@link #bpf_object__load} returns. */
    static native Pointer bpf_object__open_mem(Pointer buf, long size, Pointer opts);

    /** Relocates the object to the running kernel's BTF and loads it (the kernel's verifier runs here). */
    static native int bpf_object__load(Pointer obj);

    static native Pointer bpf_object__find_program_by_name(Pointer obj, String name);

    static native void bpf_object__close(Pointer obj);

    static native Pointer bpf_program__attach_iter(Pointer prog, Pointer opts);

    static native int bpf_link__fd(Pointer link);

    static native int bpf_link__destroy(Pointer link);

    /** A new pass of the iterator: read(2) it to the end, then close it. */
    static native int bpf_iter_create(int linkFd);
}
