package org.flexwall.port.store;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.PortStoreListener;

/**
 * The store's thread: tells every {@link PortStoreListener} which ports opened and closed, in the order they did,
 * outside any lock of the store, so a listener may call back into the store. A listener bound later first hears the
 * snapshot of the ports open when it was bound, then every change after that, never one twice or one missing; when
 * the store stops, every listener hears the empty snapshot.
 *
 * <p>{@link #publish} and {@link #add} must be called under the lock that orders the store's changes.
 */
final class Notifier {
    private static final Runnable STOP = () -> {};

    /**
     * One listener's subscription; {@code active} goes false at unbind so nothing reaches it afterwards. The listener
     * object is fetched on the store's thread: fetching it while the store activates would make DS activate a
     * listener that itself references the store, a cycle.
     */
    private static final class Subscription {
        final Supplier<PortStoreListener> lookup;
        PortStoreListener listener; // the store's thread only
        volatile boolean active = true;

        Subscription(Supplier<PortStoreListener> lookup) {
            this.lookup = lookup;
        }
    }

    private final BlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
    private final Map<Object, Subscription> subscriptions = new IdentityHashMap<>();
    private final List<Subscription> delivering = new ArrayList<>(); // touched by the store's thread only
    private final BiConsumer<String, Throwable> failed;
    private Thread thread;

    /** @param failed told when a listener throws (message, exception) */
    Notifier(BiConsumer<String, Throwable> failed) {
        this.failed = failed;
    }

    synchronized void start(String name) {
        thread = new Thread(this::run, name);
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Stops after the changes already queued are delivered and every listener heard that nothing is open any more
     * (nobody would tell it of a port closing after this), waiting at most {@code millis}.
     */
    void stop(long millis) throws InterruptedException {
        Thread t;
        synchronized (this) {
            t = thread;
            thread = null;
        }
        if (t != null) {
            queue.add(() -> delivering.forEach(s -> deliver(s, "the empty snapshot", l -> l.snapshot(Set.of()))));
            queue.add(STOP);
            t.join(millis);
            t.interrupt();
        }
    }

    /** Subscribes the listener {@code lookup} gives, known as {@code key}, telling it the {@code open} ports first. */
    void add(Object key, Supplier<PortStoreListener> lookup, Set<PortKey> open) {
        Set<PortKey> current = Set.copyOf(open);
        Subscription s = new Subscription(lookup);
        synchronized (subscriptions) {
            subscriptions.put(key, s);
        }
        queue.add(() -> {
            if (s.active) {
                s.listener = s.lookup.get();
                if (s.listener == null) {
                    return; // unregistered meanwhile: its unbind follows
                }
                delivering.add(s);
                deliver(s, "the snapshot", l -> l.snapshot(current));
            }
        });
    }

    /** Unsubscribes the listener known as {@code key}: from now on it hears nothing, even of changes queued. */
    void remove(Object key) {
        Subscription s;
        synchronized (subscriptions) {
            s = subscriptions.remove(key);
        }
        if (s != null) {
            s.active = false;
            queue.add(() -> delivering.remove(s));
        }
    }

    void publish(Changes c) {
        List<PortKey> closed = c.closed();
        List<PortKey> opened = c.opened();
        if (closed.isEmpty() && opened.isEmpty()) {
            return;
        }
        queue.add(() -> {
            for (Subscription s : delivering) {
                closed.forEach(k -> deliver(s, "closed " + k, l -> l.closed(k)));
                opened.forEach(k -> deliver(s, "opened " + k, l -> l.opened(k)));
            }
        });
    }

    /** Runs {@code task} on the store's thread after every change queued so far. */
    void execute(Runnable task) {
        queue.add(task);
    }

    private void deliver(Subscription s, String what, Consumer<PortStoreListener> call) {
        if (!s.active) {
            return;
        }
        try {
            call.accept(s.listener);
        } catch (RuntimeException e) {
            failed.accept("port store listener " + s.listener.getClass().getName() + " failed on " + what, e);
        }
    }

    private void run() {
        try {
            for (Runnable task = queue.take(); task != STOP; task = queue.take()) {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    failed.accept("port store notification failed", e);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
