package org.flexwall.administration.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

import jakarta.json.JsonObject;

import org.awaitility.core.ConditionTimeoutException;
import org.flexwall.testing.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control socket attacked the way a careless or hostile local client would, with real concurrent clients. */
class ControlSocketAbuseTest {
    /** Far longer than any of these should take, so a slow machine does not fail them, yet they end. */
    private static final long GENEROUS_SECONDS = 60;

    @TempDir
    Path tmp;

    private final Fakes.Registry registry = new Fakes.Registry();
    private final Fakes.Store store = new Fakes.Store(registry);
    private final List<String> warnings = new ArrayList<>();
    private final List<SocketChannel> held = new ArrayList<>();
    private final ExecutorService clients = Executors.newCachedThreadPool();
    private ControlServer server;

    private Path serve(UnaryOperator<String> handler) throws IOException {
        server = ControlServer.start(tmp.resolve("control.sock"), handler, warnings::add);
        return server.path();
    }

    private Path serveOperations() throws IOException {
        return serve(ControlChannel.handler(Operations.using(registry, store, Fakes.MONITOR, List.of(store))
                .withPacketHooks(List.of(Fakes.HOOK)).withHealthChecks(Fakes.CHECKS_PASS)));
    }

    @AfterEach
    void stop() throws IOException {
        for (SocketChannel c : held) {
            c.close();
        }
        clients.shutdownNow();
        if (server != null) {
            server.close();
        }
    }

    private static JsonObject ask(Path socket, String line) throws ControlConnection.Unreachable {
        return JsonSupport.parse(ControlConnection.exchange(socket, line, ControlClient.QUERY_MILLIS));
    }

    private record Run(int exit, String out, String err) {}

    private static Run client(Path socket, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--socket", socket.toString()));
        int exit = new ControlClient(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of()).run(all.toArray(String[]::new));
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void operationThatIsNotAStringIsAnsweredWithAnErrorAndTheServerKeepsAnswering() throws Exception {
        Path socket = serveOperations();

        JsonObject answer = ask(socket, "{\"op\":1}");

        assertFalse(answer.getBoolean("ok"));
        assertEquals("\"op\" must be a string", answer.getString("error"));
        assertTrue(ask(socket, "{\"op\":\"status\"}").getBoolean("ok"));
    }

    @Test
    void jsonNestedThirtyThousandDeepIsAnsweredWithAnError() throws Exception {
        Path socket = serveOperations();

        JsonObject arrays = ask(socket, "{\"op\":" + "[".repeat(30_000) + "]".repeat(30_000) + "}");
        JsonObject objects = ask(socket, "{\"op\":\"status\",\"x\":" + "{\"a\":".repeat(10_000) + "1"
                + "}".repeat(10_000) + "}");

        assertEquals("the request is nested deeper than " + JsonSupport.MAX_DEPTH + " levels", arrays.getString("error"));
        assertEquals("the request is nested deeper than " + JsonSupport.MAX_DEPTH + " levels", objects.getString("error"));
        assertTrue(ask(socket, "{\"op\":\"status\"}").getBoolean("ok"));
        assertTrue(warnings.isEmpty(), "answered, not failed: " + warnings);
    }

    @Test
    void handlerThatFailsStillAnswersTheClient() throws Exception {
        Path socket = serve(line -> {
            throw new IllegalStateException("broken inside");
        });

        JsonObject answer = ask(socket, "{\"op\":\"status\"}");

        assertFalse(answer.getBoolean("ok"));
        assertTrue(answer.getString("error").contains("IllegalStateException"), answer.toString());
    }

    @Test
    void clientThatSendsNothingIsCutOff() throws Exception {
        Path socket = serveOperations();
        SocketChannel silent = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        held.add(silent);

        Future<Integer> read = clients.submit(() -> silent.read(ByteBuffer.allocate(16)));

        assertEquals(-1, read.get(GENEROUS_SECONDS, TimeUnit.SECONDS), "the server closed the silent connection");
    }

    @Test
    void statusIsAnsweredWhileFiveHundredIdleConnectionsAreHeld() throws Exception {
        Path socket = serveOperations();
        for (int i = 0; i < 500; i++) {
            SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(socket));
            c.write(ByteBuffer.wrap("{\"op\":".getBytes(StandardCharsets.UTF_8))); // half a request, never ended
            held.add(c);
        }

        Future<Run> status = clients.submit(() -> client(socket, "status"));

        Run r = status.get(GENEROUS_SECONDS, TimeUnit.SECONDS);
        assertEquals(ControlClient.OK, r.exit(), r.err());
        assertTrue(r.out().contains("program registry"), r.out());
        assertTrue(held.stream().allMatch(SocketChannel::isConnected));
    }

    @Test
    void busyIsReportedAsBusyNeverAsNotRunning() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch entered = new CountDownLatch(1);
        Path socket = serve(line -> {
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "{\"ok\":true,\"op\":\"status\",\"healthy\":true}";
        });
        List<CompletableFuture<String>> waiting = new ArrayList<>();
        try {
            // Every worker taken and the queue full: real clients whose requests hang in the handler.
            for (int i = 0; i < 40; i++) {
                waiting.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return ControlConnection.exchange(socket, "{\"op\":\"status\"}", ControlClient.CHANGE_MILLIS);
                    } catch (ControlConnection.Unreachable e) {
                        return e.getMessage();
                    }
                }, clients));
            }
            assertTrue(entered.await(GENEROUS_SECONDS, TimeUnit.SECONDS));
            Run r = awaitBusy(socket);

            assertEquals(ControlClient.UNREACHABLE, r.exit(), r.out() + r.err());
            assertTrue(r.err().contains("busy"), r.err());
            assertFalse(r.err().contains("not running"), r.err());
        } finally {
            release.countDown();
        }
        for (CompletableFuture<String> w : waiting) {
            String answer = w.get(GENEROUS_SECONDS, TimeUnit.SECONDS);
            assertTrue(answer.contains("\"ok\":true") || answer.contains("busy"), answer);
        }
    }

    /** The answer of the first status request made after the workers and their queue are all taken. */
    private static Run awaitBusy(Path socket) {
        AtomicReference<Run> r = new AtomicReference<>();
        try {
            Await.until("a status request answered busy", Duration.ofSeconds(GENEROUS_SECONDS), () -> {
                r.set(client(socket, "status"));
                return r.get().err().contains("busy");
            });
        } catch (ConditionTimeoutException e) {
            // the caller's assertion on the last answer says what came instead
        }
        return r.get();
    }

    @Test
    void applianceThatTakesTheConnectionButNeverAnswersIsReportedAsNotAnswering() throws Exception {
        Path socket = tmp.resolve("hung.sock");
        try (ServerSocketChannel hung = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            hung.bind(UnixDomainSocketAddress.of(socket)); // listens, never accepts: a stopped or hung JVM

            Run r = clients.submit(() -> client(socket, "status")).get(GENEROUS_SECONDS, TimeUnit.SECONDS);

            assertEquals(ControlClient.UNREACHABLE, r.exit(), r.out() + r.err());
            assertTrue(r.err().contains("did not answer") && r.err().contains("busy or hung"), r.err());
            assertFalse(r.err().contains("not running"), r.err());
        }
    }
}
