"""Summary of benchmarks/under-attack.sh: medians over the rounds, connect figures pooled over all windows of a phase.

Usage: python3 summary.py WORK   (reads WORK/windows and WORK/MODE-PHASE-ROUND.connects)
"""
import glob
import os
import statistics
import sys

work = sys.argv[1]


def percentile(values, p):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * p // 100) - 1)]


windows, failures = {}, []
for line in open(os.path.join(work, "windows")):
    mode, phase, *figures = line.split()
    windows.setdefault((mode, phase), []).append([float(f) for f in figures])

print()
print("| mode | phase | JVM CPU, % of one core | its NFQUEUE threads | its port monitor "
      "| softirq, % of one core (share of all CPU) | wan0 packets/s | new connections ok | connect p50 | connect p99 "
      "| slowest |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for (mode, phase), rows in windows.items():
    median = [statistics.median(column) for column in zip(*rows)]
    times, failed = [], 0
    for path in glob.glob(os.path.join(work, "%s-%s-*.connects" % (mode, phase))):
        for line in open(path):
            kind, value = line.split(maxsplit=1)
            if kind == "ok":
                times.append(float(value))
            else:
                failed += 1
                round_ = path.rsplit("-", 1)[1].split(".")[0]
                failures.append("%s %s round %s: %s" % (mode, phase, round_, value.strip().replace("_", " ")))
    total = len(times) + failed
    ok = "%d / %d (%.1f %%)" % (len(times), total, 100 * len(times) / total if total else 0)
    connect = ("%.2f ms" % percentile(times, 50), "%.2f ms" % percentile(times, 99),
               "%.1f ms" % max(times)) if times else ("-", "-", "-")
    print("| %s | %s | %.1f | %.1f | %.1f | %.1f (%.1f %%) | %.0f | %s | %s | %s | %s |"
          % (mode, phase, *median, ok, *connect))
for failure in failures:
    print("failed connection, " + failure)
print("\nmedians over %d rounds; connect times pooled over the rounds (time of connect() of the connections that "
      "echoed)" % max(len(r) for r in windows.values()))
