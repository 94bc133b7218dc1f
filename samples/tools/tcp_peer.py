#!/usr/bin/env python3
"""Deterministic TCP client/server for the reordering sample.

Payloads are generated, not random: line i of side S is
    f"{S} {i:08d} " padded with '.' to 63 bytes + "\\n"
so every 64-byte line is unique and a misplaced segment is easy to spot.

server: listen, accept one connection, read until EOF (the client's payload), check it, send
        the server payload, close.
client: connect from a fixed local port, write PREFIX.connected, wait for PREFIX.go to appear
        (the recorder starts tcpdump in between, so the capture misses the handshake), send the
        client payload, half-close, read the server payload until EOF, check it.
Both write a JSON line with lengths and sha256 to --log PREFIX.json; the client also writes the
bytes it sent/received to PREFIX.sent/PREFIX.recv.

Usage: tcp_peer.py server HOST PORT --client-bytes N --server-bytes M [--ready F] [--log F]
       tcp_peer.py client HOST PORT --local HOST:PORT --client-bytes N --server-bytes M
                   --signal PREFIX [--log F]
"""
import argparse
import hashlib
import json
import os
import socket
import time


def payload(side, n):
    out = bytearray()
    i = 0
    while len(out) < n:
        line = f"{side} {i:08d} ".encode()
        out += line + b"." * (63 - len(line)) + b"\n"
        i += 1
    return bytes(out[:n])


def recv_all(sock):
    buf = bytearray()
    while True:
        d = sock.recv(65536)
        if not d:
            return bytes(buf)
        buf += d


def facts(cb, sb):
    return {"client_bytes": len(cb), "server_bytes": len(sb),
            "client_sha256": hashlib.sha256(cb).hexdigest(),
            "server_sha256": hashlib.sha256(sb).hexdigest()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["server", "client"])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--local")
    ap.add_argument("--client-bytes", type=int, required=True)
    ap.add_argument("--server-bytes", type=int, required=True)
    ap.add_argument("--ready")
    ap.add_argument("--signal")
    ap.add_argument("--log")
    ap.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()
    cpay = payload("client", a.client_bytes)
    spay = payload("server", a.server_bytes)
    if a.role == "server":
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((a.host, a.port))
        ls.listen(1)
        ls.settimeout(a.timeout)
        if a.ready:
            open(a.ready, "w").close()
        c, _ = ls.accept()
        c.settimeout(a.timeout)
        got = recv_all(c)
        ok = got == cpay
        c.sendall(spay)
        c.close()
        res = dict(facts(got, spay), role="server", client_payload_ok=ok)
    else:
        lh, lp = a.local.rsplit(":", 1)
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.bind((lh, int(lp)))
        c.settimeout(a.timeout)
        c.connect((a.host, a.port))
        open(a.signal + ".connected", "w").close()
        deadline = time.monotonic() + a.timeout
        while not os.path.exists(a.signal + ".go"):
            if time.monotonic() > deadline:
                raise SystemExit("no go signal")
            time.sleep(0.02)
        c.sendall(cpay)
        c.shutdown(socket.SHUT_WR)
        got = recv_all(c)
        c.close()
        ok = got == spay
        res = dict(facts(cpay, got), role="client", server_payload_ok=ok)
    line = json.dumps(res)
    if a.log:
        with open(a.log + ".json", "w") as f:
            f.write(line + "\n")
        if a.role == "client":
            with open(a.log + ".sent", "wb") as f:
                f.write(cpay)
            with open(a.log + ".recv", "wb") as f:
                f.write(got)
    print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
