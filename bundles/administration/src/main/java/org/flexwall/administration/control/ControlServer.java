package org.flexwall.administration.control;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
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
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * The local control channel: a Unix-domain socket that takes one line of JSON per connection and answers one line.
 * Only root may connect: the socket is made with mode 0600 in a private (0700) directory and then moved into place,
 * so it is never reachable with looser permissions, not even for a moment.
 */
public final class ControlServer implements Closeable {
    /** The longest request line accepted; a trust request is a path and a name. */
    static final int MAX_REQUEST = 64 * 1024;
    private static final long CONNECTION_SECONDS = 30;

    private final Path path;
    private final ServerSocketChannel server;
    private final Object fileKey;
    private final UnaryOperator<String> handler;
    private final Consumer<String> warn;
    private final ThreadPoolExecutor workers;
    private final ScheduledExecutorService watchdog;
    private final Thread acceptor;

    private ControlServer(Path path, ServerSocketChannel server, Object fileKey, UnaryOperator<String> handler,
            Consumer<String> warn) {
        this.path = path;
        this.server = server;
        this.fileKey = fileKey;
        this.handler = handler;
        this.warn = warn;
        // A few connections at a time is plenty for an operator; more wait briefly or are turned away.
        this.workers = new ThreadPoolExecutor(1, 4, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(16),
                r -> daemon(r, "flexwall-control"));
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "flexwall-control-watchdog"));
        this.acceptor = daemon(this::accept, "flexwall-control-accept");
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
            server.bind(UnixDomainSocketAddress.of(temp));
            Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-------"));
            Files.move(temp, socket, StandardCopyOption.ATOMIC_MOVE);
            Object key = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            ControlServer s = new ControlServer(socket, server, key, handler, warn);
            s.acceptor.start();
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
        acceptor.interrupt();
        workers.shutdownNow();
        watchdog.shutdownNow();
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

    private void accept() {
        while (server.isOpen()) {
            SocketChannel c;
            try {
                c = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                warn.accept("control socket " + path + ": accept failed: " + e);
                continue;
            }
            try {
                workers.execute(() -> serve(c));
            } catch (RejectedExecutionException e) {
                reply(c, "{\"ok\":false,\"error\":\"flexwall is busy with other control requests; try again\"}");
                closeQuietly(c);
            }
        }
    }

    private void serve(SocketChannel c) {
        // A client that sends nothing must not hold a worker for ever: the watchdog closes it.
        ScheduledFuture<?> timeout = watchdog.schedule(() -> closeQuietly(c), CONNECTION_SECONDS, TimeUnit.SECONDS);
        try (c) {
            String request = readLine(c);
            String answer = request == null
                    ? "{\"ok\":false,\"error\":\"the request was longer than " + MAX_REQUEST + " bytes or had no end of line\"}"
                    : handler.apply(request);
            reply(c, answer);
        } catch (IOException e) {
            warn.accept("control socket " + path + ": a request failed: " + e);
        } finally {
            timeout.cancel(false);
        }
    }

    /** One line without its end, or null when it is too long or the client closed before the end of the line. */
    private static String readLine(SocketChannel c) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(4096);
        while (true) {
            buf.clear();
            int n = c.read(buf);
            if (n < 0) {
                return null;
            }
            for (int i = 0; i < n; i++) {
                byte b = buf.get(i);
                if (b == '\n') {
                    return line.toString(StandardCharsets.UTF_8);
                }
                if (line.size() >= MAX_REQUEST) {
                    return null;
                }
                line.write(b);
            }
        }
    }

    private void reply(SocketChannel c, String answer) {
        ByteBuffer out = ByteBuffer.wrap((answer + "\n").getBytes(StandardCharsets.UTF_8));
        try {
            while (out.hasRemaining()) {
                c.write(out);
            }
        } catch (IOException e) {
            warn.accept("control socket " + path + ": could not answer: " + e);
        }
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
