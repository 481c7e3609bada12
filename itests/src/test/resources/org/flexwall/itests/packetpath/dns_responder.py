"""A tiny DNS server for PacketPathSystemTest, run in the outside namespace.

Answers every A query with ANSWER (one record, TTL 60) and any other query type with an empty answer, over UDP on
PORT for IPv4 and IPv6 alike. Usage: python3 dns_responder.py PORT ANSWER
"""
import socket
import struct
import sys

port, answer = int(sys.argv[1]), socket.inet_aton(sys.argv[2])
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", port))
while True:
    query, peer = s.recvfrom(512)
    i = 12  # after the header: the question's labels up to a zero byte, then type and class
    while i < len(query) and query[i] != 0:
        i += query[i] + 1
    end = i + 5
    if len(query) < 12 or end > len(query):
        continue
    qtype = struct.unpack("!H", query[i + 1:i + 3])[0]
    a = qtype == 1
    reply = query[:2] + struct.pack("!HHHHH", 0x8180, 1, 1 if a else 0, 0, 0) + query[12:end]
    if a:
        reply += struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + answer
    s.sendto(reply, peer)
