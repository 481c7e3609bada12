"""New TCP connections through the firewall, one after the other, for the system tests (outside namespace).

For SECONDS (or until SIGTERM), opens a new connection to HOST PORT (an echo server) every 100 ms, sends one line
and expects it back. A connection fails when it is not established within 3 s (the SYN and its retransmission went
unanswered), when the answer takes over 3 s and this client had to send something again (a segment was lost on the
way), or when no answer comes within 20 s. An answer later than 3 s without any retransmission is the server's own
delay (a loaded machine): it is reported as "slow: ...", not as a failure. Prints one "failed: REASON (STEP, local
port PORT, ...)" line per failure and "ok N failed M" at the end.
Usage: python3 prober.py HOST PORT SECONDS
"""
import signal
import socket
import struct
import sys
import time

ESTABLISH_S, ANSWER_S, PATIENCE_S = 3, 3, 20

stopping = []
signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))  # SIGTERM ends the run early, with its report

host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])


def retransmissions(s):
    """tcpi_total_retrans of struct tcp_info: segments this socket had to send again."""
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return struct.unpack_from("I", info, 100)[0]


ok = failed = 0
end = time.monotonic() + seconds
while time.monotonic() < end and not stopping:
    started, step, local = time.monotonic(), "connect", "?"
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            s.bind(("", 0))  # the local port known before connecting: a failed connect can be found in a capture
            local = s.getsockname()[1]
            s.settimeout(ESTABLISH_S)
            s.connect((host, port))
            step = "answer"
            s.settimeout(PATIENCE_S)
            s.sendall(b"probe\n")
            got = b""
            while len(got) < 6:
                chunk = s.recv(6 - len(got))
                if not chunk:
                    break
                got += chunk
            if got != b"probe\n":
                raise ConnectionError("answer %r" % got)
            took = time.monotonic() - started
            if took > ANSWER_S:
                resent = retransmissions(s)
                if resent:
                    raise ConnectionError("answered after %.2f s, %d segments sent again" % (took, resent))
                print("slow: answered after %.2f s, nothing sent again (local port %s)" % (took, local), flush=True)
        ok += 1
    except (OSError, ConnectionError) as e:
        failed += 1
        # which step, from which local port (to find the connection in a capture) and when (wall clock)
        print("failed: %s (%s, local port %s, started %s, after %.2f s)" % (
            e, step, local, time.strftime("%H:%M:%S", time.localtime(time.time() - (time.monotonic() - started))),
            time.monotonic() - started), flush=True)
    time.sleep(0.1)
print("ok %d failed %d" % (ok, failed), flush=True)
