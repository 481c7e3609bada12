package org.flexwall.administration.control;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * The local control channel: a Unix-domain socket that takes one line of JSON per connection and answers one line.
 * Only root may connect: the socket is made with mode 0600 in a private (0700) directory and then moved into place,
 * so it is never reachable with looser permissions, not even for a moment.
 *
 * <p>One selector thread does all the reading and writing, so clients that connect and send nothing cost a
 * descriptor each but no thread: they are cut off after {@link #IO_MILLIS}, and beyond {@link #MAX_CONNECTIONS} the
 * oldest silent one makes room, so a fresh request is always read. A few workers carry out complete requests; when
 * they are all taken the client is told that flexwall is busy.
 */
public final class ControlServer implements Closeable {
    /** The longest request line accepted; a trust request is a path and a name. */
    static final int MAX_REQUEST = 64 * 1024;
    /** How long a client may take to send its request, and to take its answer. */
    static final long IO_MILLIS = 5_000;
    /** Open connections at most; a new one beyond this closes the oldest that has not sent its request yet. */
    static final int MAX_CONNECTIONS = 1024;
    private static final int WORKERS = 4;
    private static final int QUEUED = 16;
    static final String BUSY = "{\"ok\":false,\"busy\":true,\"error\":\"flexwall is busy with other control "
            + "requests; try again in a moment\"}";

    private final Path path;
    private final ServerSocketChannel server;
    private final Object fileKey;
    private final UnaryOperator<String> handler;
    private final Consumer<String> warn;
    private final Selector selector;
    private final ThreadPoolExecutor workers;
    private final Queue<Connection> answered = new ConcurrentLinkedQueue<>();
    /** Open connections in the order they came; touched by the selector thread only. */
    private final Set<Connection> connections = new LinkedHashSet<>();
    private final Thread loop;

    private ControlServer(Path path, ServerSocketChannel server, Object fileKey, UnaryOperator<String> handler,
            Consumer<String> warn) throws IOException {
        this.path = path;
        this.server = server;
        this.fileKey = fileKey;
        this.handler = handler;
        this.warn = warn;
        this.selector = Selector.open();
        server.configureBlocking(false);
        server.register(selector, SelectionKey.OP_ACCEPT);
        this.workers = new ThreadPoolExecutor(WORKERS, WORKERS, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUED),
                r -> daemon(r, "flexwall-control"));
        workers.allowCoreThreadTimeOut(true);
        this.loop = daemon(this::run, "flexwall-control-io");
    }

    /**
     * Serves {@code handler} (one request line in, one answer line out) on a new socket at {@code path}.
     *
     * @param warn told about connections that failed, in words for the log
     * @throws IOException with a message for the operator when the socket cannot be made, or another flexwall
     *                     already answers on it
     */
    public static ControlServer start(Path path, UnaryOperator<String> handler, Consumer<String> warn) throws IOException {
        Path socket = path.toAbsolutePath().normalize();
        Path dir = socket.getParent();
        if (!Files.isDirectory(dir)) {
            throw new IOException("the directory of the control socket " + socket + " does not exist");
        }
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir);
        if (mode.contains(PosixFilePermission.GROUP_WRITE) || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
            // Others could put their own socket in its place and read what the operator sends.
            throw new IOException("the directory " + dir + " of the control socket may be written by other users (mode "
                    + PosixFilePermissions.toString(mode) + "); run `chmod go-w " + dir + "` or set "
                    + "flexwall.control.socket to a path in a private directory");
        }
        clearStale(socket);
        Path privateDir = Files.createTempDirectory(dir, ".control-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            Path temp = privateDir.resolve("s");
            server.bind(UnixDomainSocketAddress.of(temp), 128);
            Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-------"));
            Files.move(temp, socket, StandardCopyOption.ATOMIC_MOVE);
            Object key = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            ControlServer s = new ControlServer(socket, server, key, handler, warn);
            s.loop.start();
            return s;
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        } finally {
            Files.deleteIfExists(privateDir.resolve("s"));
            Files.deleteIfExists(privateDir);
        }
    }

    public Path path() {
        return path;
    }

    /** Stops answering and removes the socket file, unless another process has since put its own there. */
    @Override
    public void close() throws IOException {
        server.close();
        selector.wakeup();
        workers.shutdownNow();
        try {
            loop.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            Object key = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            if (key != null && key.equals(fileKey)) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            // already gone
        }
    }

    /** A socket left by a flexwall that died is removed; a live one (another instance) is an error. */
    private static void clearStale(Path socket) throws IOException {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        BasicFileAttributes a = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!a.isOther()) {
            throw new FileAlreadyExistsException(socket.toString(), null, "exists and is not a socket; move it "
                    + "away or set flexwall.control.socket to another path");
        }
        boolean alive;
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            alive = true;
        } catch (IOException refused) {
            alive = false;
        }
        if (alive) {
            throw new IOException("another flexwall already answers on the control socket " + socket
                    + "; stop it first (two instances would fight over the firewall)");
        }
        Files.deleteIfExists(socket); // nobody listens: left over from a previous run
    }

    /** The selector thread: accepts, reads requests, writes answers, cuts off clients that take too long. */
    private void run() {
        try {
            while (server.isOpen()) {
                selector.select(this::ready, 500);
                for (Connection c; (c = answered.poll()) != null; ) {
                    try {
                        c.answer(c.pendingAnswer);
                    } catch (RuntimeException e) {
                        c.close();
                    }
                }
                long now = System.nanoTime();
                for (Connection c : List.copyOf(connections)) {
                    if (!c.working && c.deadline - now < 0) {
                        c.close();
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            warn.accept("control socket " + path + " stopped answering: " + e);
        } finally {
            for (Connection c : List.copyOf(connections)) {
                c.close();
            }
            try {
                selector.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }

    private void ready(SelectionKey key) {
        if (!key.isValid()) {
            return;
        }
        if (key.isAcceptable()) {
            acceptAll();
            return;
        }
        Connection c = (Connection) key.attachment();
        try {
            if (key.isReadable()) {
                c.read();
            } else if (key.isWritable()) {
                c.write();
            }
        } catch (IOException | RuntimeException e) {
            c.close(); // one client's trouble never stops the others being served
        }
    }

    private void acceptAll() {
        try {
            for (SocketChannel ch; (ch = server.accept()) != null; ) {
                if (connections.size() >= MAX_CONNECTIONS) {
                    connections.stream().filter(Connection::reading).findFirst().ifPresent(Connection::close);
                }
                ch.configureBlocking(false);
                Connection c = new Connection(ch);
                c.key = ch.register(selector, SelectionKey.OP_READ, c);
                connections.add(c);
            }
        } catch (IOException e) {
            if (server.isOpen()) {
                warn.accept("control socket " + path + ": accept failed: " + e);
                // out of descriptors, most likely: the oldest silent client makes room
                connections.stream().filter(Connection::reading).findFirst().ifPresent(Connection::close);
            }
        }
    }

    /** The handler's answer, or an error for the operator: a request never goes unanswered. */
    private String answerTo(String request) {
        try {
            return handler.apply(request);
        } catch (RuntimeException | StackOverflowError e) {
            warn.accept("control socket " + path + ": a request failed: " + e);
            return "{\"ok\":false,\"error\":\"flexwall failed on this request (" + e.getClass().getSimpleName()
                    + "); its log says more\"}";
        }
    }

    /** One client: its request line as it arrives, then its answer as it leaves. Selector thread only. */
    private final class Connection {
        private final SocketChannel channel;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        private SelectionKey key;
        private ByteBuffer out;
        private long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(IO_MILLIS);
        /** A worker carries out its request; the operation may take long (hashing a large program). */
        private boolean working;
        private volatile String pendingAnswer;

        Connection(SocketChannel channel) {
            this.channel = channel;
        }

        boolean reading() {
            return out == null && !working;
        }

        void read() throws IOException {
            ByteBuffer buf = ByteBuffer.allocate(4096);
            int n = channel.read(buf);
            if (n < 0) {
                answer(line.size() == 0 ? null : noEndOfLine());
                return;
            }
            for (int i = 0; i < n; i++) {
                byte b = buf.get(i);
                if (b == '\n') {
                    submit(line.toString(StandardCharsets.UTF_8));
                    return;
                }
                if (line.size() >= MAX_REQUEST) {
                    answer(noEndOfLine());
                    return;
                }
                line.write(b);
            }
        }

        private String noEndOfLine() {
            return "{\"ok\":false,\"error\":\"the request was longer than " + MAX_REQUEST
                    + " bytes or had no end of line\"}";
        }

        private void submit(String request) {
            key.interestOps(0);
            working = true;
            try {
                workers.execute(() -> {
                    pendingAnswer = answerTo(request);
                    answered.add(this);
                    selector.wakeup();
                });
            } catch (RejectedExecutionException e) {
                answer(BUSY);
            }
        }

        /** Starts writing the answer, or closes at once when there is none. */
        void answer(String text) {
            working = false;
            if (text == null || !channel.isOpen()) {
                close();
                return;
            }
            out = ByteBuffer.wrap((text + "\n").getBytes(StandardCharsets.UTF_8));
            deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(IO_MILLIS);
            try {
                write();
            } catch (IOException e) {
                close();
            }
        }

        void write() throws IOException {
            channel.write(out);
            if (out.hasRemaining()) {
                key.interestOps(SelectionKey.OP_WRITE);
            } else {
                close();
            }
        }

        void close() {
            connections.remove(this);
            if (key != null) {
                key.cancel();
            }
            try {
                channel.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
