"""Probes one port every 10 ms with a new TCP connection attempt, for the system tests (outside namespace).

Each attempt is a non-blocking connect given 1 s to complete: "answered" when the handshake completed (someone
accepted), "refused" when a RST came back, "silent" when nothing came. Until SIGTERM; then prints
"answered N refused M silent K" (and one "answered by ... sent at T" line per answered attempt, with what the server
had said by then, often nothing yet, and when the attempt started, in seconds since the epoch).
Usage: python3 syn_prober.py HOST PORT
"""
import errno
import select
import signal
import socket
import sys
import time

stopping = []
signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))

host, port = sys.argv[1], int(sys.argv[2])
family = socket.AF_INET6 if ":" in host else socket.AF_INET
answered = refused = silent = 0
pending = {}  # socket -> start time, monotonic and wall clock
next_probe = time.monotonic()
while not stopping:
    now = time.monotonic()
    if now >= next_probe:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((host, port))
        pending[s] = (now, time.time())
        next_probe += 0.01
    ready = select.select([], list(pending), [], max(0.0, next_probe - time.monotonic()))[1]
    for s in ready:
        error = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error == 0:
            answered += 1
            try:
                said = s.recv(64)  # what the server said already, if anything: no waiting, probes go on every 10 ms
            except BlockingIOError:
                said = b""
            except OSError as e:
                said = repr(e).encode()
            print("answered by %r sent at %.3f" % (said, pending[s][1]), flush=True)
        elif error == errno.ECONNREFUSED:
            refused += 1
        else:
            silent += 1
        s.close()
        del pending[s]
    for s, (started, _) in list(pending.items()):
        if time.monotonic() - started > 1.0:  # before the first SYN retransmit: one SYN per attempt
            silent += 1
            s.close()
            del pending[s]
print("answered %d refused %d silent %d" % (answered, refused, silent + len(pending)), flush=True)
