package org.flexwall.administration.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * One exchange with the control socket, as the {@code flexwall} command makes it: one request line out, one answer
 * line back, within a deadline; what went wrong is told apart as not running (nothing there) or unreachable.
 */
final class ControlConnection {
    /** How long to keep trying while the socket's queue is full. */
    static final long CONNECT_MILLIS = 3_000;

    private ControlConnection() {}

    /**
     * Sends one line, reads one line, within {@code timeoutMillis}.
     *
     * @throws NotRunning when there is no socket or nobody listens on it
     * @throws Unreachable when something listens but cannot be talked to: busy, hung, or not ours to use
     */
    static String exchange(Path socket, String line, long timeoutMillis) throws Unreachable {
        if (!Files.exists(socket)) {
            throw new NotRunning("no control socket at " + socket);
        }
        try (SocketChannel c = connect(socket); Selector selector = Selector.open()) {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            SelectionKey key = c.register(selector, SelectionKey.OP_WRITE);
            ByteBuffer out = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
            while (out.hasRemaining()) {
                await(selector, deadline, socket, timeoutMillis);
                c.write(out);
            }
            key.interestOps(SelectionKey.OP_READ);
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            ByteBuffer in = ByteBuffer.allocate(8192);
            while (true) {
                await(selector, deadline, socket, timeoutMillis);
                int n = c.read(in.clear());
                if (n < 0) {
                    break;
                }
                answer.write(in.array(), 0, n);
            }
            String text = answer.toString(StandardCharsets.UTF_8).strip();
            if (text.isEmpty()) {
                throw new Unreachable("flexwall closed the control socket " + socket + " without answering; "
                        + "its log says why");
            }
            return text;
        } catch (IOException e) {
            throw new Unreachable("cannot talk to flexwall on " + socket + ": " + e.getMessage());
        }
    }

    /** Connects, trying again while the socket's queue is full (flexwall busy) for a few seconds. */
    private static SocketChannel connect(Path socket) throws Unreachable {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CONNECT_MILLIS);
        while (true) {
            SocketChannel c = null;
            try {
                c = SocketChannel.open(StandardProtocolFamily.UNIX);
                c.configureBlocking(false);
                if (!c.connect(UnixDomainSocketAddress.of(socket))) {
                    c.finishConnect();
                }
                return c;
            } catch (IOException e) {
                closeQuietly(c);
                String m = String.valueOf(e.getMessage());
                if (e instanceof AccessDeniedException || m.contains("Permission denied")) {
                    throw new Unreachable("permission denied on the control socket " + socket + ": only root may "
                            + "control flexwall; run this as root");
                }
                if (m.contains("Connection refused")) {
                    throw new NotRunning("the control socket " + socket + " is left from an earlier run and nobody "
                            + "answers");
                }
                if (e instanceof NoSuchFileException || m.contains("No such file")) {
                    throw new NotRunning("no control socket at " + socket);
                }
                if (!m.contains("temporarily unavailable") || System.nanoTime() - deadline > 0) {
                    throw new Unreachable(m.contains("temporarily unavailable")
                            ? "flexwall is running but busy: its control socket " + socket + " takes no more "
                                    + "connections for now; try again in a moment"
                            : "cannot connect to flexwall on " + socket + ": " + m);
                }
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Unreachable("interrupted while connecting to " + socket);
            }
        }
    }

    private static void await(Selector selector, long deadline, Path socket, long timeoutMillis)
            throws IOException, Unreachable {
        while (true) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                throw new Unreachable("flexwall did not answer on " + socket + " within " + timeoutMillis / 1000
                        + " s: it is running but busy or hung; its log says why");
            }
            if (selector.select(left) > 0) {
                selector.selectedKeys().clear();
                return;
            }
        }
    }

    private static void closeQuietly(SocketChannel c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }

    /** flexwall cannot be reached; the message says why and what to do. */
    static class Unreachable extends Exception {
        private static final long serialVersionUID = 1L;

        Unreachable(String message) {
            super(message);
        }
    }

    /** Nothing answers on the socket because nothing is there: no socket file, or nobody listening on it. */
    static final class NotRunning extends Unreachable {
        private static final long serialVersionUID = 1L;
        final String what;

        NotRunning(String what) {
            super("flexwall is not running (" + what + "); " + ControlClient.HOW_TO_START);
            this.what = what;
        }
    }
}
