"""The disk image's boot test (issue "Appliance image"): boots the image under qemu twice, probing it every 10 ms.

Run by boot-test.sh (which does the set-up). A network namespace of its own holds a tap device, the machine's network
card, and the probers: TCP connection attempts every 10 ms, from before power-on to the end, to an untrusted listener
in the machine (2222, started before the network is configured), to a port nothing listens on (9) and to a trusted
listener (7000, socat trusted only in its unit). Boot 1 is the first power-on: the machine trusts the listener
(flexwall.boottest=provision) and powers off. Boot 2 is the installed appliance powered on again: the figures.
Passes when no probe to 2222 or 9 is ever answered or refused (no SYN-ACK, no RST) in either boot and 7000 answers
once flexwall is up in boot 2. Prints the figures and "N passed, M failed"; exit 1 when a check fails.
Usage: python3 boottest.py IMAGE_DIR WORK_DIR PROBER
"""
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time

image_dir, work, prober = sys.argv[1], sys.argv[2], sys.argv[3]
disk_dir = os.path.dirname(os.path.abspath(__file__))
HOST, MACHINE = "10.213.0.1", "10.213.0.2"
CLOSED = {2222: "untrusted listener", 9: "nothing listening"}
TRUSTED = 7000
BOOT_LIMIT = float(os.environ.get("FLEXWALL_BOOTTEST_LIMIT", "1800"))  # seconds per boot, TCG on a loaded machine
MARKERS = {  # what the serial console says, and the figure it stands for
    "kernel": re.compile(r"Linux version "),
    "baseline": re.compile(r"flexwall baseline loaded|Finished flexwall-baseline"),
    "network": re.compile(r"Started systemd-networkd"),
    "ready": re.compile(r"flexwall ready \d+ ms after JVM start"),
    # the readiness line is not written when it takes more than 30 s (TCG on a loaded machine): then the report's
    # first `flexwall status` that exits 0 (every part running) tells, a few seconds late (the command is a JVM)
    "status": re.compile(r"BOOTTEST flexwall status ok"),
    "report": re.compile(r"BOOTTEST done"),
}
ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")
children = []  # every process started here, stopped at the end whatever happened


def spawn(argv, **kwargs):
    proc = subprocess.Popen(argv, **kwargs)
    children.append(proc)
    return proc


def run(*argv):
    subprocess.run(argv, check=True)


class Prober:
    """syn_prober.py in the namespace; the time of each answered attempt, and its final counts."""

    def __init__(self, ns, port, start):
        self.port, self.answers, self.counts = port, [], None
        self.proc = spawn(["ip", "netns", "exec", ns, "python3", prober, MACHINE, str(port)],
                                     stdout=subprocess.PIPE, text=True)
        threading.Thread(target=self.read, args=(start,), daemon=True).start()

    def read(self, start):
        for line in self.proc.stdout:
            if line.startswith("answered by"):
                self.answers.append(time.monotonic() - start)
            m = re.match(r"answered (\d+) refused (\d+) silent (\d+)", line)
            if m:
                self.counts = tuple(int(x) for x in m.groups())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)
        time.sleep(0.2)
        return self.counts


def boot(ns, image, mode, log_path):
    """One power-on: qemu on the tap device, probers from before it starts; returns what was seen."""
    start = time.monotonic()
    probers = {p: Prober(ns, p, start) for p in list(CLOSED) + [TRUSTED]}
    time.sleep(0.5)  # the probers run before power-on
    args = ["ip", "netns", "exec", ns, os.path.join(disk_dir, "boot.sh"), "--tap", "tap0", "--image", image, "--",
            "ip=%s::%s:255.255.255.0::eth0:off" % (MACHINE, HOST), "flexwall.boottest=" + mode]
    power_on = time.monotonic()
    qemu = spawn(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen, facts, done_at = {}, {}, None
    with open(log_path, "w", buffering=1) as log:  # line by line: the log can be followed while it boots
        buffer = b""
        os.set_blocking(qemu.stdout.fileno(), False)
        while True:
            now = time.monotonic()
            if now - power_on > BOOT_LIMIT:
                facts["timeout"] = True
                break
            if qemu.poll() is not None and not buffer:
                break
            if mode == "check" and done_at is None and "report" in seen and probers[TRUSTED].answers:
                done_at = now
            if done_at is not None and now - done_at > 3:  # 3 s more probing of the running appliance
                break
            chunk = qemu.stdout.read(65536) or b""
            if not chunk:
                if qemu.poll() is not None:
                    break
                time.sleep(0.01)
                continue
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for raw in lines:
                line = ANSI.sub("", raw.decode("utf-8", "replace")).rstrip("\r")
                t = time.monotonic() - power_on
                log.write("%8.2f %s\n" % (t, line))
                for name, pattern in MARKERS.items():
                    if name not in seen and pattern.search(line):
                        seen[name] = t
                m = re.search(r"BOOTTEST (jvm-rss-kb|mem-available-kb|ruleset-lines) (\d+)", line)
                if m:
                    facts[m.group(1)] = int(m.group(2))
    if qemu.poll() is None:
        qemu.send_signal(signal.SIGTERM)
        try:
            qemu.wait(30)
        except subprocess.TimeoutExpired:
            qemu.kill()
    counts = {p: pr.stop() for p, pr in probers.items()}
    trusted = [t - (power_on - start) for t in probers[TRUSTED].answers]
    return {"seen": seen, "facts": facts, "counts": counts, "trusted_first": trusted[0] if trusted else None,
            "length": time.monotonic() - power_on}


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("boottest: stopped"))  # the namespace is removed all the same
    os.makedirs(work, exist_ok=True)
    image = os.path.join(work, "flexwall-disk.img")
    run("cp", "--sparse=always", os.path.join(image_dir, "flexwall-disk.img"), image)
    for f in ("vmlinuz", "initrd.img"):
        shutil.copy(os.path.join(image_dir, f), os.path.join(work, f))
    ns = "fwdisk-" + secrets.token_hex(4)
    run("ip", "netns", "add", ns)
    results, load_before = {}, os.getloadavg()
    try:
        run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        run("ip", "netns", "exec", ns, "ip", "tuntap", "add", "dev", "tap0", "mode", "tap")
        run("ip", "netns", "exec", ns, "ip", "addr", "add", HOST + "/24", "dev", "tap0")
        run("ip", "netns", "exec", ns, "ip", "link", "set", "tap0", "up")
        for mode in ("provision", "check"):
            print("boottest: boot %s (serial console in %s/boot-%s.log) ..." % (mode, work, mode), flush=True)
            results[mode] = boot(ns, image, mode, os.path.join(work, "boot-%s.log" % mode))
    finally:
        for proc in children:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        subprocess.run(["ip", "netns", "del", ns])
    load_after = os.getloadavg()

    checks = []

    def check(ok, what):
        checks.append(ok)
        print("%s: %s" % ("PASS" if ok else "FAIL", what))

    def at(r, name):
        t = r["seen"].get(name)
        return "%.1f s" % t if t is not None else "never"

    fs_mb = os.path.getsize(os.path.join(image_dir, "flexwall-disk.img")) // 2**20
    used_mb = int(subprocess.run(["du", "-m", os.path.join(image_dir, "flexwall-disk.img")], capture_output=True,
                                 text=True).stdout.split()[0])
    boot_mb = sum(os.path.getsize(os.path.join(image_dir, f)) for f in ("vmlinuz", "initrd.img")) / 2**20
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print("machine: %s, %d cores, %s; load average %.1f before, %.1f after (shared with other work)"
          % (cpu, os.cpu_count(), platform.release(), load_before[0], load_after[0]))
    print("image: %d MiB file system (%d MiB allocated), kernel and initrd %.1f MiB" % (fs_mb, used_mb, boot_mb))
    for mode, r in results.items():
        print("boot %s (seconds from power-on): kernel %s, baseline %s, network %s, flexwall ready %s, trusted port "
              "first answered %s, status ok %s, report %s; JVM RSS %s KiB; ruleset %s lines; probed %.0f s"
              % (mode, at(r, "kernel"), at(r, "baseline"), at(r, "network"), at(r, "ready"),
                 "%.1f s" % r["trusted_first"] if r["trusted_first"] is not None else "never", at(r, "status"),
                 at(r, "report"),
                 r["facts"].get("jvm-rss-kb", "?"), r["facts"].get("ruleset-lines", "?"), r["length"]))
        for port, what in CLOSED.items():
            c = r["counts"][port]
            check(c is not None and c[0] == 0 and c[1] == 0,
                  "boot %s: port %d (%s) never answered nor refused: %s" % (mode, port, what, c and
                                                                            "answered %d refused %d silent %d" % c))
        check("baseline" in r["seen"] and ("ready" in r["seen"] or "status" in r["seen"])
              and "timeout" not in r["facts"],
              "boot %s: baseline loaded and flexwall ready (its log line or status) within %d s" % (mode, BOOT_LIMIT))
        check("baseline" in r["seen"] and ("network" not in r["seen"] or r["seen"]["baseline"] <= r["seen"]["network"]),
              "boot %s: baseline loaded before the network was configured" % mode)
    r = results.get("check")
    check(r is not None and r["trusted_first"] is not None and "baseline" in r["seen"]
          and r["trusted_first"] >= r["seen"]["baseline"],
          "boot check: the trusted listener answers once flexwall is up (%s)"
          % (r and r["trusted_first"] is not None and "%.1f s" % r["trusted_first"]))
    print("%d passed, %d failed" % (checks.count(True), checks.count(False)))
    sys.exit(0 if all(checks) else 1)


main()
