package org.flexwall.hook.nftables;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;

import org.flexwall.hook.nftables.LibNftables.Libc;

import com.sun.jna.LastErrorException;
import com.sun.jna.Pointer;

/**
 * nft commands through libnftables in this process: one context, kept open, so a port change costs one netlink
 * transaction and no process. Made by the thread that first uses it (the hook's worker): with a namespace that thread
 * enters it for good (setns), so the context's socket and the batches' socket act there and nowhere else. A netlink
 * socket keeps the namespace it was opened in, so once made they serve any thread (never two at once: the caller
 * holds a lock); only the first thread opens them, or opens them again.
 */
final class NftLibrary implements Nft {
    private final String namespace; // null: this thread's own
    private final String library;
    private Thread owner;
    private Pointer ctx;
    private NetlinkElements elements;  // port changes without libnftables' parser and cache; null until first used
    private boolean elementsMissing;   // libnftnl or libmnl could not be loaded: changes go through libnftables
    private String elementsProblem;    // why the socket could not be opened

    /** @param namespace a network namespace of {@code ip netns} to act in; null for the JVM's own */
    NftLibrary(String namespace) {
        this(namespace, LibNftables.LIBRARY);
    }

    /** With another library name: tests show what a missing one says. */
    NftLibrary(String namespace, String library) {
        this.namespace = namespace;
        this.library = library;
    }

    @Override
    public void apply(String ruleset, String what) throws NftException {
        Pointer c = open(what);
        int rc = LibNftables.nft_run_cmd_from_buffer(c, ruleset);
        LibNftables.nft_ctx_get_output_buffer(c); // emptied: nothing is printed for changes, but keep it so
        String err = LibNftables.nft_ctx_get_error_buffer(c);
        if (rc != 0) {
            err = err == null ? "" : err.strip();
            throw new NftException("cannot " + what + ": libnftables failed" + (err.isEmpty() ? "" : ":\n" + err),
                    false, null);
        }
    }

    /**
     * A port change as one nfnetlink batch (NetlinkElements) on this thread's socket: no parsing, no cache of the
     * kernel's ruleset fetched first. Without libnftnl, or for a change of more than a few hundred elements, through
     * libnftables as any other command.
     */
    @Override
    public void changeElements(Collection<Element> add, Collection<Element> delete) throws NftException {
        String what = "update the permitted ports";
        open(what);
        if (elements == null && !elementsMissing && owner == Thread.currentThread()) {
            openElements(); // again, after a batch that failed
        }
        if (elementsMissing || add.size() + delete.size() > NetlinkElements.MAX_ELEMENTS) {
            Nft.super.changeElements(add, delete);
            return;
        }
        if (elements == null) {
            throw new NftException("cannot " + what + ": " + (owner == Thread.currentThread() ? elementsProblem
                    : "the batches' socket is opened only by " + owner.getName()), false, null);
        }
        try {
            elements.apply(add, delete);
        } catch (NftException e) {
            elements.close(); // a socket left with answers unread must not answer the next batch
            elements = null;
            throw e;
        }
    }

    @Override
    public boolean tablePresent() throws NftException {
        try {
            apply("list table inet " + Ruleset.TABLE, "list table inet " + Ruleset.TABLE);
            return true;
        } catch (NftException e) {
            if (e.missing) {
                throw e;
            }
            return false;
        }
    }

    @Override
    public void close() {
        if (elements != null) {
            elements.close();
            elements = null;
        }
        if (ctx != null) {
            LibNftables.nft_ctx_free(ctx);
            ctx = null;
        }
    }

    /** The context, made on first use: loads the library and enters the namespace. */
    private Pointer open(String what) throws NftException {
        if (ctx != null) {
            return ctx;
        }
        if (owner == null) {
            owner = Thread.currentThread();
        } else if (owner != Thread.currentThread()) {
            // another thread would open it in its own namespace
            throw new NftException("cannot " + what + " on " + Thread.currentThread().getName() + ": the libnftables "
                    + "context is opened only by " + owner.getName(), false, null);
        }
        try {
            LibNftables.load(library);
        } catch (LinkageError e) {
            throw new NftException("cannot " + what + ": the nftables library " + library
                    + " could not be loaded (" + e.getMessage() + "); install the nftables package (apt-get install "
                    + "nftables) or set nftBinary in " + NftablesHook.PID + " to an nft program", true, null);
        }
        if (namespace != null) {
            enter(namespace, what);
        }
        Pointer c = LibNftables.nft_ctx_new(LibNftables.NFT_CTX_DEFAULT);
        if (c == null) {
            throw new NftException("cannot " + what + ": libnftables could not make a context (netlink socket)",
                    false, null);
        }
        LibNftables.nft_ctx_output_set_flags(c, LibNftables.NFT_CTX_OUTPUT_TERSE);
        if (LibNftables.nft_ctx_buffer_output(c) != 0 || LibNftables.nft_ctx_buffer_error(c) != 0) {
            LibNftables.nft_ctx_free(c);
            throw new NftException("cannot " + what + ": libnftables could not buffer its output", false, null);
        }
        ctx = c;
        openElements();
        return c;
    }

    /** The batches' socket, opened on the thread that made the context (in its namespace). */
    private void openElements() {
        try {
            elements = new NetlinkElements();
        } catch (NftException e) {
            elementsMissing = e.missing; // else tried again at the next change on this thread
            elementsProblem = e.getMessage();
        }
    }

    /** Moves this thread into network namespace {@code name} and checks that it did, or acts nowhere. */
    private static void enter(String name, String what) throws NftException {
        Path target = Path.of("/run/netns", name);
        try {
            int fd = Libc.open(target.toString(), Libc.O_RDONLY_CLOEXEC);
            try {
                Libc.setns(fd, Libc.CLONE_NEWNET);
            } finally {
                Libc.close(fd);
            }
            Object here = Files.getAttribute(Path.of("/proc/thread-self/ns/net"), "unix:ino");
            if (!here.equals(Files.getAttribute(target, "unix:ino"))) {
                throw new NftException("cannot " + what + ": this thread did not enter namespace " + name, false,
                        null);
            }
        } catch (LastErrorException | java.io.IOException e) {
            throw new NftException("cannot " + what + ": cannot enter network namespace " + name + " ("
                    + e.getMessage() + ")", false, e);
        }
    }
}
