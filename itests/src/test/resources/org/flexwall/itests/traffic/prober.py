"""New TCP connections through the firewall, one after the other, for the system tests (outside namespace).

For SECONDS (or until SIGTERM), opens a new connection to HOST PORT (an echo server) every 100 ms, sends one line
and expects it back within 3 s. Prints one "failed: REASON (STEP, local port PORT, ...)" line per failure and "ok N failed M" at the end.
Usage: python3 prober.py HOST PORT SECONDS
"""
import signal
import socket
import sys
import time

stopping = []
signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))  # SIGTERM ends the run early, with its report

host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
ok = failed = 0
end = time.monotonic() + seconds
while time.monotonic() < end and not stopping:
    started, step, local = time.monotonic(), "connect", "?"
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            s.bind(("", 0))  # the local port known before connecting: a failed connect can be found in a capture
            local = s.getsockname()[1]
            s.settimeout(3)
            s.connect((host, port))
            step = "answer"
            s.sendall(b"probe\n")
            got = b""
            while len(got) < 6:
                chunk = s.recv(6 - len(got))
                if not chunk:
                    break
                got += chunk
            if got != b"probe\n":
                raise ConnectionError("answer %r" % got)
        ok += 1
    except (OSError, ConnectionError) as e:
        failed += 1
        # which step, from which local port (to find the connection in a capture) and when (wall clock)
        print("failed: %s (%s, local port %s, started %s, after %.2f s)" % (
            e, step, local, time.strftime("%H:%M:%S", time.localtime(time.time() - (time.monotonic() - started))),
            time.monotonic() - started), flush=True)
    time.sleep(0.1)
print("ok %d failed %d" % (ok, failed), flush=True)
