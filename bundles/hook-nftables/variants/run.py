#!/usr/bin/env python3
"""Hand-written nft rulesets against no firewall, for small UDP packets to a permitted port (iperf3 -u -l 18 -b 0).

Usage (root): [MARK=1] [TCP=1] run.py ROUNDS SECONDS none VARIANT...   (VARIANT: a NAME.nft file beside this script)
MARK=1: the server's sockets carry flexwall's verified-socket mark (mark_sockets.c, LD_PRELOAD), which the shipped
rules' socket lookups ask for. TCP=1: also one TCP stream per variant and round (Gbit/s).

Two namespaces joined by veth; the iperf3 server on CPU 1 in the "appliance" namespace, which gets the variant's
ruleset; the client on CPU 0. The variants alternate round by round. Two figures per run: packets/s received, and
packets sent per CPU-second of CPU 0 (the client's CPU time plus ksoftirqd/0's: its softirqs carry every packet over
veth and through the receive path, netfilter included). On a shared machine the first one mostly measures the
neighbours; the second one the ruleset. Medians, with ratios to "none" of the same run.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
rounds, secs, variants = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
A, O = f"variants{os.getpid()}a", f"variants{os.getpid()}o"
DA, DO = f"va{os.getpid()}", f"vo{os.getpid()}"


def sh(*argv, check=True):
    return subprocess.run(argv, check=check, capture_output=True, text=True)


def ns(n, *argv, check=True):
    return sh("ip", "netns", "exec", n, *argv, check=check)


def ksoftirqd0_seconds():
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if open(f"/proc/{pid}/comm").read().strip() == "ksoftirqd/0":
                f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
                return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    raise SystemExit("no ksoftirqd/0")


server = None
try:
    sh("ip", "netns", "add", A)
    sh("ip", "netns", "add", O)
    sh("ip", "link", "add", DA, "netns", A, "type", "veth", "peer", "name", DO, "netns", O)
    ns(A, "ip", "addr", "add", "192.0.2.1/24", "dev", DA)
    ns(O, "ip", "addr", "add", "192.0.2.2/24", "dev", DO)
    for n, d in ((A, DA), (O, DO)):
        ns(n, "ip", "link", "set", d, "up")
        ns(n, "ip", "link", "set", "lo", "up")
    env = dict(os.environ)
    if os.environ.get("MARK") == "1":  # the server's sockets carry the verified mark, as the port store sets it
        shim = f"/tmp/variants{os.getpid()}-mark_sockets.so"
        sh("gcc", "-O2", "-shared", "-fPIC", "-o", shim, os.path.join(HERE, "mark_sockets.c"), "-ldl")
        env["LD_PRELOAD"] = shim
    server = subprocess.Popen(["ip", "netns", "exec", A, "taskset", "-c", "1", "iperf3", "-s", "-p", "5201"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    time.sleep(0.5)
    rate = {v: [] for v in variants}
    per_cpu = {v: [] for v in variants}
    tcp = {v: [] for v in variants}
    for r in range(rounds):
        for v in variants:
            ns(A, "nft", "flush", "ruleset")
            if v != "none":
                ns(A, "nft", "-f", os.path.join(HERE, v + ".nft"))
            before, k0 = resource.getrusage(resource.RUSAGE_CHILDREN), ksoftirqd0_seconds()
            out = ns(O, "taskset", "-c", "0", "iperf3", "-c", "192.0.2.1", "-p", "5201", "-t", str(secs), "-u",
                     "-l", "18", "-b", "0", "-J", check=False).stdout
            after, k1 = resource.getrusage(resource.RUSAGE_CHILDREN), ksoftirqd0_seconds()
            end = json.loads(out).get("end", {})
            if "sum_received" not in end:
                print(f"round {r + 1} {v}: iperf3 failed", flush=True)
                continue
            s = end["sum_received"]
            cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime + k1 - k0
            rate[v].append((s["packets"] - s["lost_packets"]) / s["seconds"])
            per_cpu[v].append(s["packets"] / cpu)
            print(f"round {r + 1} {v:40s} {rate[v][-1] / 1e3:7.1f} k/s received ({s['lost_percent']:4.1f} % lost)"
                  f"  {per_cpu[v][-1] / 1e3:6.1f} k sent per CPU-0 second", flush=True)
            if os.environ.get("TCP") == "1":
                out = ns(O, "taskset", "-c", "0", "iperf3", "-c", "192.0.2.1", "-p", "5201", "-t", str(secs), "-J",
                         check=False).stdout
                end = json.loads(out).get("end", {})
                if "sum_received" in end:
                    tcp[v].append(end["sum_received"]["bits_per_second"] / 1e9)
                    print(f"round {r + 1} {v:40s} TCP {tcp[v][-1]:6.2f} Gbit/s", flush=True)
    base, base_cpu = statistics.median(rate["none"]), statistics.median(per_cpu["none"])
    print(f"\nmedians of {rounds} rounds x {secs} s")
    for v in variants:
        m, c = statistics.median(rate[v]), statistics.median(per_cpu[v])
        print(f"{v:40s} {m / 1e3:7.1f} k/s ({100 * m / base:5.1f} %)  {c / 1e3:6.1f} k per CPU-0 s "
              f"({100 * c / base_cpu:5.1f} %)"
              + (f"  TCP {statistics.median(tcp[v]):6.2f} Gbit/s ({100 * statistics.median(tcp[v]) / statistics.median(tcp['none']):5.1f} %)"
                 if tcp[v] and tcp["none"] else ""))
finally:
    if server:
        server.kill()
    sh("ip", "netns", "del", A, check=False)
    sh("ip", "netns", "del", O, check=False)
