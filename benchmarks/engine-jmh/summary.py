#!/usr/bin/env python3
"""Markdown table of a JMH JSON result of EngineBenchmark: medians over every measured iteration of every fork,
per wall-clock second and per CPU-second of the benchmark thread, with ratios to the in-run baselines."""
import json
import statistics
import sys

GOAL = 20e6


def raw(metric):
    return [v for fork in metric["rawData"] for v in fork]


rows = {}
for r in json.load(open(sys.argv[1])):
    name = r["benchmark"].rsplit(".", 1)[1]
    sec = r["secondaryMetrics"]
    rows[name] = {
        "wall": statistics.median(raw(r["primaryMetric"])),
        "cpu": statistics.median(raw(sec["ops/cpu-s"])),
        "quartiles": statistics.quantiles(raw(sec["ops/cpu-s"]), n=4),
        "share": statistics.median(raw(sec["cpu/wall"])),
        "bytes": statistics.median(raw(sec["gc.alloc.rate.norm"])) if "gc.alloc.rate.norm" in sec else float("nan"),
        "n": len(raw(r["primaryMetric"])),
    }

walk = rows.get("baselineWalkHeaderBytes", {}).get("cpu")
print("| benchmark | M ops/s (wall) | M ops per CPU-second (quartiles) | ns per op (CPU) | cost in 40-byte walks "
      "| B/op | goal ≥ 20 M, 0 B/op |")
print("|---|---|---|---|---|---|---|")
for name, v in rows.items():
    decision = not name.startswith(("baseline", "part"))
    goal = ("met" if v["cpu"] >= GOAL and v["bytes"] < 0.5 else "**not met**") if decision else ""
    ratio = f"{walk / v['cpu']:.2f}" if walk else ""
    q1, _, q3 = v["quartiles"]
    print(f"| {name} | {v['wall'] / 1e6:.1f} | {v['cpu'] / 1e6:.1f} ({q1 / 1e6:.1f}–{q3 / 1e6:.1f}) | "
          f"{1e9 / v['cpu']:.1f} | {ratio} | "
          f"{v['bytes']:.3f} | {goal} |")
n = max(v["n"] for v in rows.values())
share = statistics.median(v["share"] for v in rows.values())
print(f"\nMedians of {n} iterations each; the benchmark thread had the CPU {100 * share:.0f} % of the time (median).")
