#!/usr/bin/env python3
"""UDP request/reply with datagrams larger than the link MTU, so the kernel fragments them.

server: bind HOST PORT, for each datagram received reply with --reply-bytes bytes; exits after
        --count datagrams (or on timeout).
client: send --count datagrams of --send-bytes bytes (generated: byte i = i % 251), waiting for
        each reply.
Works for IPv4 and IPv6 (address family from HOST).

Usage: udp_frag.py server HOST PORT --reply-bytes M [--count K] [--ready F]
       udp_frag.py client HOST PORT --local HOST:PORT --send-bytes N [--count K]
"""
import argparse
import hashlib
import json
import socket


def data(n, salt):
    return bytes((i + salt) % 251 for i in range(n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["server", "client"])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--local")
    ap.add_argument("--send-bytes", type=int, default=4000)
    ap.add_argument("--reply-bytes", type=int, default=3000)
    ap.add_argument("--count", type=int, default=2)
    ap.add_argument("--ready")
    a = ap.parse_args()
    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(10)
    out = []
    if a.role == "server":
        s.bind((a.host, a.port))
        if a.ready:
            open(a.ready, "w").close()
        for k in range(a.count):
            d, peer = s.recvfrom(65535)
            r = data(a.reply_bytes, 100 + k)
            s.sendto(r, peer)
            out.append({"received": len(d), "received_sha256": hashlib.sha256(d).hexdigest(),
                        "replied": len(r), "replied_sha256": hashlib.sha256(r).hexdigest()})
    else:
        lh, lp = a.local.rsplit(":", 1)
        s.bind((lh.strip("[]"), int(lp)))
        for k in range(a.count):
            d = data(a.send_bytes, k)
            s.sendto(d, (a.host, a.port))
            r, _ = s.recvfrom(65535)
            out.append({"sent": len(d), "sent_sha256": hashlib.sha256(d).hexdigest(),
                        "reply": len(r), "reply_sha256": hashlib.sha256(r).hexdigest()})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
