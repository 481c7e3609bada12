"""One long-lived TCP session through the firewall, for the system tests, run in the outside namespace.

Connects to HOST PORT (an echo server), then for SECONDS (or until SIGTERM) sends a numbered 1024-byte message every
20 ms and reads it back. The messages are longer than the NFQUEUE hook's default copy range (256 bytes), so a packet
path that judged segments by their first bytes only would show here. Prints "exchanged N max_round_trip_ms M" five
times a second and when it ends, exit 0 when the session lasted; prints "broken after N: REASON" and exits 1 when the
connection failed, closed, answered wrongly or stayed silent for 10 s (TCP's retransmissions bridge anything
shorter). Usage: python3 session.py HOST PORT SECONDS
"""
import signal
import socket
import sys
import time

SIZE = 1024
stopping = []
signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))  # SIGTERM ends the run early, with its report

host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
n, worst, reported = 0, 0.0, 0.0


def report():
    print("exchanged %d max_round_trip_ms %.1f" % (n, worst * 1000), flush=True)


try:
    s = socket.create_connection((host, port), timeout=10)
    s.settimeout(10)
    end = time.monotonic() + seconds
    while time.monotonic() < end and not stopping:
        message = ("%0*d\n" % (SIZE - 1, n)).encode()
        sent = time.monotonic()
        s.sendall(message)
        got = b""
        while len(got) < len(message):
            chunk = s.recv(len(message) - len(got))
            if not chunk:
                raise ConnectionError("closed by the other side")
            got += chunk
        if got != message:
            raise ConnectionError("wrong answer to message %d" % n)
        worst = max(worst, time.monotonic() - sent)
        n += 1
        if sent - reported >= 0.2:
            report()
            reported = sent
        time.sleep(0.02)
except (OSError, ConnectionError) as e:
    print("broken after %d: %s" % (n, e), flush=True)
    sys.exit(1)
report()
