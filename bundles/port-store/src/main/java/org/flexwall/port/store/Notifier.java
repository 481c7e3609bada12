package org.flexwall.port.store;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.flexwall.api.port.PortKey;
import org.flexwall.api.port.PortStoreListener;

/**
 * Tells every {@link PortStoreListener} which ports opened and closed, in the order they did, outside any lock of the
 * store, so a listener may call back into the store. A listener bound later first hears the snapshot of the ports
 * open when it was bound, then every change after that, never one twice or one missing; when the store stops, every
 * listener hears the empty snapshot.
 *
 * <p>The thread that made a change delivers it ({@link #deliver}, once it let go of the store's lock): the port
 * monitor's event reaches the kernel hooks without waking another thread. Each listener has its own queue and is
 * called by one thread at a time, in order; a thread that finds a listener busy leaves the change in its queue for
 * the thread calling it, which looks again before it lets go. A listener that hangs therefore holds up only itself
 * (and the thread inside it): the store's own thread, which wakes every {@value #BACKSTOP_MILLIS} ms, delivers to the
 * others a change that has waited in their queue since its last look, and it alone fetches a listener the first time
 * (see {@link Subscription}).
 * A listener that throws is logged and hears the next change as usual.
 *
 * <p>{@link #publish}, {@link #add} must be called under the lock that orders the store's changes.
 */
final class Notifier {
    static final long BACKSTOP_MILLIS = 100;
    private static final Runnable STOP = () -> {};

    /**
     * One listener's subscription; {@code active} goes false at unbind so nothing reaches it afterwards. The listener
     * object is fetched on the store's thread: fetching it while the store activates would make DS activate a
     * listener that itself references the store, a cycle.
     */
    private static final class Subscription {
        final Supplier<PortStoreListener> lookup;
        final int ranking;
        final Queue<Runnable> pending = new ConcurrentLinkedQueue<>();
        final ReentrantLock calling = new ReentrantLock(); // one thread at a time calls the listener, in order
        volatile PortStoreListener listener; // set by the store's thread, under calling
        volatile boolean active = true;
        volatile boolean fetched;            // the store's thread looked the listener up
        Runnable stalled;                    // the store's thread only: the change first in the queue at its last look

        Subscription(Supplier<PortStoreListener> lookup, int ranking) {
            this.lookup = lookup;
            this.ranking = ranking;
        }
    }

    private final BlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>(); // the store's thread's own work
    private final Map<Object, Subscription> subscriptions = new IdentityHashMap<>(); // under this
    private final List<Subscription> delivering = new ArrayList<>(); // under this: in the order they were added
    private final BiConsumer<String, Throwable> failed;
    private Thread thread;
    private boolean stopped; // under this: nothing is queued for the listeners after their empty snapshot

    /** @param failed told when a listener throws (message, exception) */
    Notifier(BiConsumer<String, Throwable> failed) {
        this.failed = failed;
    }

    synchronized void start(String name) {
        stopped = false;
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
            stopped = true;
            for (Subscription s : delivering) {
                s.pending.add(() -> deliver(s, () -> "the empty snapshot", l -> l.snapshot(Set.of())));
            }
        }
        if (t != null) {
            tasks.add(STOP);
            t.join(millis);
            t.interrupt();
        }
    }

    /**
     * Subscribes the listener {@code lookup} gives, known as {@code key}, telling it the {@code open} ports first.
     * Listeners hear each change in the order of their {@code ranking}, highest first, then in the order they came:
     * packet bypass, whose followers bring the change to the kernel, before the audit trail.
     */
    void add(Object key, Supplier<PortStoreListener> lookup, Set<PortKey> open, int ranking) {
        Set<PortKey> current = Set.copyOf(open);
        Subscription s = new Subscription(lookup, ranking);
        synchronized (this) {
            if (stopped) {
                return;
            }
            subscriptions.put(key, s);
            int at = 0;
            while (at < delivering.size() && delivering.get(at).ranking >= ranking) {
                at++;
            }
            delivering.add(at, s);
            s.pending.add(() -> deliver(s, () -> "the snapshot", l -> l.snapshot(current)));
        }
        tasks.add(() -> {}); // wakes the store's thread to fetch it
    }

    /** Unsubscribes the listener known as {@code key}: from now on it hears nothing, even of changes queued. */
    void remove(Object key) {
        Subscription s;
        synchronized (this) {
            s = subscriptions.remove(key);
            if (s != null) {
                delivering.remove(s);
            }
        }
        if (s != null) {
            s.active = false;
            s.pending.clear();
        }
    }

    void publish(Changes c) {
        List<PortKey> closed = c.closed();
        List<PortKey> opened = c.opened();
        if (closed.isEmpty() && opened.isEmpty()) {
            return;
        }
        synchronized (this) {
            if (stopped) {
                return;
            }
            for (Subscription s : delivering) {
                s.pending.add(() -> {
                    closed.forEach(k -> deliver(s, () -> "closed " + k, l -> l.closed(k)));
                    opened.forEach(k -> deliver(s, () -> "opened " + k, l -> l.opened(k)));
                });
            }
        }
    }

    /**
     * Delivers what is queued to every listener on this thread, but for a listener another thread is calling (that
     * one delivers it) or one the store's thread has not fetched yet. Call without the store's lock.
     */
    void deliver() {
        for (Subscription s : subscriptions()) {
            drain(s, false);
        }
    }

    /** Runs {@code task} on the store's thread (the operator's messages: they need not hold anything up). */
    void execute(Runnable task) {
        tasks.add(task);
    }

    /** Waits until every task and every change queued so far has reached every listener. For tests. */
    void flush(long millis) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        CountDownLatch tasksDone = new CountDownLatch(1);
        tasks.add(tasksDone::countDown);
        if (!tasksDone.await(millis, TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("the port store's thread did not run its tasks within " + millis + " ms");
        }
        for (Subscription s : subscriptions()) {
            while (s.active && (!s.fetched || !s.pending.isEmpty() || s.calling.isLocked())) {
                if (System.nanoTime() - end > 0) {
                    throw new IllegalStateException("the port store's listeners were not told within " + millis
                            + " ms");
                }
                drain(s, false);
                Thread.sleep(1); // a test waiting for another thread's delivery
            }
        }
    }

    private synchronized List<Subscription> subscriptions() {
        return List.copyOf(delivering);
    }

    /**
     * Calls the listener with its queue, unless another thread is: that one looks again before it lets go. Only the
     * store's thread ({@code fetch}) looks a listener up the first time.
     */
    private void drain(Subscription s, boolean fetch) {
        while (!s.pending.isEmpty() && (s.fetched || fetch) && s.calling.tryLock()) {
            try {
                if (!s.fetched) {
                    s.listener = s.lookup.get();
                    s.fetched = true;
                }
                for (Runnable call = s.pending.poll(); call != null; call = s.pending.poll()) {
                    call.run();
                }
            } catch (RuntimeException e) {
                failed.accept("port store notification failed", e);
            } finally {
                s.calling.unlock();
            }
        }
    }

    /** Calls the listener; {@code what} is worded only when it fails (a port change should not build text it drops). */
    private void deliver(Subscription s, Supplier<String> what, Consumer<PortStoreListener> call) {
        if (!s.active || s.listener == null) { // a listener unregistered before it was fetched: its unbind follows
            return;
        }
        try {
            call.accept(s.listener);
        } catch (RuntimeException e) {
            failed.accept("port store listener " + s.listener.getClass().getName() + " failed on " + what.get(), e);
        }
    }

    /** The store's thread: fetches listeners, runs its tasks, and delivers what no caller could. */
    private void run() {
        try {
            for (;;) {
                Runnable task = tasks.poll(BACKSTOP_MILLIS, TimeUnit.MILLISECONDS);
                if (task == STOP) {
                    subscriptions().forEach(s -> drain(s, true));
                    return;
                }
                if (task != null) {
                    try {
                        task.run();
                    } catch (RuntimeException e) {
                        failed.accept("port store notification failed", e);
                    }
                }
                for (Subscription s : subscriptions()) {
                    // a listener not fetched yet, or a change still first in its queue since the last look: nobody
                    // else is going to deliver it (the thread that would is stuck in another listener)
                    Runnable first = s.pending.peek();
                    if (!s.fetched || first != null && first == s.stalled) {
                        drain(s, true);
                    }
                    s.stalled = s.pending.peek();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
