package org.flexwall.packet.bypass;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.Collection;
import java.util.List;

import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * Operations per CPU-second of the benchmark threads ({@code -prof org.flexwall.packet.bypass.CpuTimeProfiler}).
 * On a shared VM the benchmark thread is descheduled part of each iteration, which lowers ops/s by whatever the
 * neighbours did; dividing by the CPU time the worker threads actually got measures the code, per core.
 * Reports {@code ·ops/cpu-s} (throughput benchmarks only) and {@code ·cpu/wall}, the share of the iteration the
 * workers ran.
 */
public final class CpuTimeProfiler implements InternalProfiler {
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private long wallStart, cpuStart;

    @Override
    public String getDescription() {
        return "ops per CPU-second of the JMH worker threads";
    }

    @Override
    public void beforeIteration(BenchmarkParams benchmark, IterationParams iteration) {
        cpuStart = workerCpu();
        wallStart = System.nanoTime();
    }

    @Override
    public Collection<? extends Result> afterIteration(BenchmarkParams benchmark, IterationParams iteration,
            IterationResult result) {
        double wall = System.nanoTime() - wallStart;
        double cpu = workerCpu() - cpuStart;
        double share = cpu / wall / benchmark.getThreads();
        double perCpu = result.getPrimaryResult().getScore() / share;
        return List.of(new ScalarResult("ops/cpu-s", perCpu, result.getScoreUnit(), AggregationPolicy.AVG),
                new ScalarResult("cpu/wall", share, "ratio", AggregationPolicy.AVG));
    }

    /** CPU nanoseconds used so far by the threads that run the benchmark method (JMH names them "…-jmh-worker-N"). */
    private long workerCpu() {
        long sum = 0;
        for (ThreadInfo t : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (t != null && t.getThreadName().contains("jmh-worker")) {
                sum += Math.max(0, threads.getThreadCpuTime(t.getThreadId()));
            }
        }
        return sum;
    }
}
