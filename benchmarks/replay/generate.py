#!/usr/bin/env python3
"""Writes a pcap of N Ethernet frames for benchmarks/replay.sh: in every 4 packets, an outbound TCP segment of an
established connection (picked up by the ICF), its inbound reply, a SYN to the permitted tcp/5400 (bypass) and a SYN
to tcp/6000 (dropped as unsolicited). 2000 connections; 1 microsecond between packets.
Usage: generate.py FILE N"""
import struct
import sys

US, PEER = bytes([192, 0, 2, 1]), bytes([198, 51, 100, 7])
FLOWS = 2000


def checksum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s & 0xffff) + (s >> 16)
    return ~((s & 0xffff) + (s >> 16)) & 0xffff


def ip_header(src, dst, payload):
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload, 0, 0x4000, 64, 6, 0, src, dst))
    struct.pack_into("!H", h, 10, checksum(bytes(h)))
    return bytes(h)


ETHER = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00"
DATA = b"x" * 100
OUT_IP, IN_IP, SYN_IP = ip_header(US, PEER, 120), ip_header(PEER, US, 120), ip_header(PEER, US, 20)


def main():
    path, n = sys.argv[1], int(sys.argv[2])
    out_seq = [1000 + f * 7919 for f in range(FLOWS)]
    in_seq = [50000 + f * 104729 for f in range(FLOWS)]
    tcp = struct.Struct("!HHIIBBHHH")
    record = struct.Struct("<IIII")
    with open(path, "wb", buffering=1 << 22) as w:
        w.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
        micros = 1_700_000_000 * 1_000_000
        chunk = []
        for i in range(n):
            f, kind = (i // 4) % FLOWS, i % 4
            if kind == 0:
                frame = ETHER + OUT_IP + tcp.pack(40000 + f, 443, out_seq[f] & 0xffffffff, in_seq[f] & 0xffffffff,
                                                  0x50, 0x18, 65535, 0, 0) + DATA
                out_seq[f] += 100
            elif kind == 1:
                frame = ETHER + IN_IP + tcp.pack(443, 40000 + f, in_seq[f] & 0xffffffff, out_seq[f] & 0xffffffff,
                                                 0x50, 0x18, 65535, 0, 0) + DATA
                in_seq[f] += 100
            else:
                frame = ETHER + SYN_IP + tcp.pack(20000 + f, 5400 if kind == 2 else 6000, i, 0, 0x50, 0x02, 65535,
                                                  0, 0)
            chunk.append(record.pack(micros // 1_000_000, micros % 1_000_000, len(frame), len(frame)))
            chunk.append(frame)
            micros += 1
            if len(chunk) > 20000:
                w.write(b"".join(chunk))
                chunk.clear()
        w.write(b"".join(chunk))


main()
