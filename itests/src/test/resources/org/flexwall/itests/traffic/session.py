"""One long-lived TCP session through the firewall, for the system tests, run in the outside namespace.

Connects to HOST PORT (an echo server), then for SECONDS (or until SIGTERM) sends a numbered 64-byte message every
20 ms and reads it back. Prints "exchanged N max_round_trip_ms M" and exits 0 when the session lasted; prints
"broken after N: REASON" and exits 1 when the connection failed, closed, answered wrongly or stayed silent for 10 s
(TCP's retransmissions bridge anything shorter). Usage: python3 session.py HOST PORT SECONDS
"""
import signal
import socket
import sys
import time

stopping = []
signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))  # SIGTERM ends the run early, with its report

host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
n, worst = 0, 0.0
try:
    s = socket.create_connection((host, port), timeout=10)
    s.settimeout(10)
    end = time.monotonic() + seconds
    while time.monotonic() < end and not stopping:
        message = ("%063d\n" % n).encode()
        sent = time.monotonic()
        s.sendall(message)
        got = b""
        while len(got) < len(message):
            chunk = s.recv(len(message) - len(got))
            if not chunk:
                raise ConnectionError("closed by the other side")
            got += chunk
        if got != message:
            raise ConnectionError("wrong answer %r" % got)
        worst = max(worst, time.monotonic() - sent)
        n += 1
        time.sleep(0.02)
except (OSError, ConnectionError) as e:
    print("broken after %d: %s" % (n, e), flush=True)
    sys.exit(1)
print("exchanged %d max_round_trip_ms %.1f" % (n, worst * 1000), flush=True)
