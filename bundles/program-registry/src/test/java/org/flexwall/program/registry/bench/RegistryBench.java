package org.flexwall.program.registry.bench;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.TRUNCATE_EXISTING;
import static java.nio.file.StandardOpenOption.WRITE;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

import org.flexwall.api.program.ProgramRegistry;
import org.flexwall.api.program.TrustedProgram;
import org.flexwall.program.registry.BenchAccess;

/**
 * Cost of a trust/untrust commit (temp file + fsync, previous generation + fsync, rename, directory fsync) against
 * the bare minimum of one durable write of the same bytes (write + fsync), and of a bySha256 lookup against a plain
 * HashMap.get. Usage: {@code RegistryBench [DIR] [COMMITS]}; DIR should be on the appliance's file system.
 */
public final class RegistryBench {
    public static void main(String[] args) throws Exception {
        Path base = Files.createTempDirectory(Path.of(args.length > 0 ? args[0] : "/tmp"), "registry-bench-");
        int commits = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        Path data = Files.createDirectory(base.resolve("data"));
        Path bin = Files.createDirectory(base.resolve("bin"));
        ProgramRegistry registry = BenchAccess.open(data);
        for (int i = 0; i < 20; i++) {
            registry.trust(BenchAccess.executable(bin, "resident" + i, i), "resident" + i, false);
        }
        Path moving = BenchAccess.executable(bin, "moving", 99);
        byte[] store = Files.readAllBytes(data.resolve("programs.json"));
        Path baselineFile = base.resolve("baseline");

        long[] commit = new long[commits];
        long[] baseline = new long[commits];
        for (int i = 0; i < commits; i++) { // interleaved, so both see the same disk and load
            long t0 = System.nanoTime();
            if (i % 2 == 0) {
                registry.trust(moving, "moving", false);
            } else {
                registry.untrust(moving);
            }
            long t1 = System.nanoTime();
            try (FileChannel ch = FileChannel.open(baselineFile, CREATE, TRUNCATE_EXISTING, WRITE)) {
                ch.write(ByteBuffer.wrap(store));
                ch.force(true);
            }
            long t2 = System.nanoTime();
            commit[i] = t1 - t0;
            baseline[i] = t2 - t1;
        }
        System.out.printf("commit (trust or untrust, %d programs, %d bytes): median %.2f ms, p99 %.2f ms%n", 21,
                store.length, percentile(commit, 50) / 1e6, percentile(commit, 99) / 1e6);
        System.out.printf("baseline (write + fsync of the same bytes):   median %.2f ms, p99 %.2f ms%n",
                percentile(baseline, 50) / 1e6, percentile(baseline, 99) / 1e6);

        String[] keys = registry.programs().stream().map(TrustedProgram::sha256).toArray(String[]::new);
        String[] misses = Arrays.stream(keys).map(k -> k.substring(1) + "0").toArray(String[]::new);
        Map<String, TrustedProgram> map = new HashMap<>();
        registry.programs().forEach(p -> map.put(p.sha256(), p));
        for (int round = 0; round < 5; round++) { // the last round is reported, after the JIT settled
            long hits = 0;
            long t0 = System.nanoTime();
            for (int i = 0; i < 5_000_000; i++) {
                hits += registry.bySha256(keys[i % keys.length]).isPresent() ? 1 : 0;
                hits += registry.bySha256(misses[i % misses.length]).isPresent() ? 1 : 0;
            }
            long t1 = System.nanoTime();
            for (int i = 0; i < 5_000_000; i++) {
                hits += map.get(keys[i % keys.length]) != null ? 1 : 0;
                hits += map.get(misses[i % misses.length]) != null ? 1 : 0;
            }
            long t2 = System.nanoTime();
            if (round == 4) {
                System.out.printf("bySha256 (hit + miss): %.1f ns per lookup; baseline HashMap.get: %.1f ns (%d)%n",
                        (t1 - t0) / 1e7, (t2 - t1) / 1e7, hits);
            }
        }
        try (var files = Files.walk(base)) {
            files.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
        }
    }

    private static double percentile(long[] values, int p) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }
}
