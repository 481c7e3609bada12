package org.flexwall.port.store;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

import org.flexwall.api.port.PermittedPort;
import org.flexwall.api.port.PortStoreListener;

/**
 * The store's thread: tells every {@link PortStoreListener} about changes in the order they happened, outside any
 * lock of the store, so a listener may call back into the store. A listener bound later first hears the entries
 * that existed when it was bound, then every change after that, never one twice or one missing.
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

    /** Stops after the changes already queued are delivered, waiting at most {@code millis}. */
    void stop(long millis) throws InterruptedException {
        Thread t;
        synchronized (this) {
            t = thread;
            thread = null;
        }
        if (t != null) {
            queue.add(STOP);
            t.join(millis);
            t.interrupt();
        }
    }

    /** Subscribes the listener {@code lookup} gives, known as {@code key}, replaying {@code current} to it first. */
    void add(Object key, Supplier<PortStoreListener> lookup, List<PermittedPort> current) {
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
                for (PermittedPort p : current) {
                    deliver(s, p, true);
                }
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
        if (c.revoked.isEmpty() && c.permitted.isEmpty()) {
            return;
        }
        List<PermittedPort> revoked = List.copyOf(c.revoked);
        List<PermittedPort> permitted = List.copyOf(c.permitted);
        queue.add(() -> {
            for (Subscription s : delivering) {
                revoked.forEach(p -> deliver(s, p, false));
                permitted.forEach(p -> deliver(s, p, true));
            }
        });
    }

    /** Runs {@code task} on the store's thread after every change queued so far. */
    void execute(Runnable task) {
        queue.add(task);
    }

    private void deliver(Subscription s, PermittedPort p, boolean permitted) {
        if (!s.active) {
            return;
        }
        try {
            if (permitted) {
                s.listener.permitted(p);
            } else {
                s.listener.revoked(p);
            }
        } catch (RuntimeException e) {
            failed.accept("port store listener " + s.listener.getClass().getName() + " failed on "
                    + (permitted ? "permitted " : "revoked ") + p.protocol() + "/" + p.family() + "/" + p.port(), e);
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
