"""New TCP connections through the firewall, one after the other, for the system tests (outside namespace).

For SECONDS (or until SIGTERM), opens a new connection to HOST PORT (an echo server) every 100 ms, sends one line
and expects it back within 3 s. Prints one "failed: REASON" line per failure and "ok N failed M" at the end.
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
    try:
        with socket.create_connection((host, port), timeout=3) as s:
            s.settimeout(3)
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
        print("failed: %s" % e, flush=True)
    time.sleep(0.1)
print("ok %d failed %d" % (ok, failed), flush=True)
