"""New TCP connections to an echo server for SECONDS, one every 20 ms, for benchmarks/under-attack.sh.

Prints one line per attempt: "ok MS" with the time connect() took, after the echo of one line came back, or
"failed REASON" when the connection or the echo did not complete within 3 s.
Usage: python3 connect_times.py HOST PORT SECONDS
"""
import socket
import sys
import time

host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
end = time.monotonic() + seconds
while time.monotonic() < end:
    try:
        started = time.perf_counter()
        with socket.create_connection((host, port), timeout=3) as s:
            connected = time.perf_counter()
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
        print("ok %.3f" % ((connected - started) * 1000), flush=True)
    except (OSError, ConnectionError) as e:
        print("failed %s" % str(e).replace(" ", "_"), flush=True)
    time.sleep(0.02)
