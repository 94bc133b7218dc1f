#!/usr/bin/env python3
"""Raw-socket HTTP client for samples/record.sh: sends exact bytes, logs exact bytes.

Connects from a fixed local address, then for each --send FILE writes that file's bytes with
ONE sendall() call (TCP_NODELAY; a small buffer is one send() and, on loopback, one segment),
pausing --pause-ms between files; then reads until the server closes the connection, or until
--timeout seconds have passed since the connect (then it closes itself). Nothing is parsed
here: the bytes are the facts (tools/httpwire.py turns them into transactions).

Usage: http_raw_client.py HOST:PORT --local HOST:PORT --log PREFIX --send FILE [--send FILE]...
                          [--pause-ms 100] [--timeout 10]
Writes PREFIX.sent, PREFIX.recv (the exact client->server / server->client bytes),
PREFIX.events (JSON list of ["send"|"recv", n] in the order they happened) and PREFIX.json
(lengths, sha256, who closed).
"""
import argparse
import hashlib
import json
import socket
import time


def split_hostport(s):
    host, port = s.rsplit(":", 1)
    return host.strip("[]"), int(port)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("connect")
    ap.add_argument("--local", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--send", action="append", required=True)
    ap.add_argument("--pause-ms", type=int, default=100)
    ap.add_argument("--timeout", type=float, default=10.0)
    a = ap.parse_args()
    host, port = split_hostport(a.connect)
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.bind(split_hostport(a.local))
    s.settimeout(a.timeout)
    s.connect((host, port))
    deadline = time.monotonic() + a.timeout
    sent, recv, events = bytearray(), bytearray(), []

    def read_some(until):
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return False
            s.settimeout(left)
            try:
                d = s.recv(65536)
            except socket.timeout:
                return False
            if not d:
                return True
            recv.extend(d)
            events.append(["recv", len(d)])

    closed_by = None
    for i, path in enumerate(a.send):
        with open(path, "rb") as f:
            data = f.read()
        s.sendall(data)
        sent.extend(data)
        events.append(["send", len(data)])
        if i + 1 < len(a.send):
            if read_some(time.monotonic() + a.pause_ms / 1000):
                closed_by = "server"
                break
    if closed_by is None:
        closed_by = "server" if read_some(deadline) else "client-timeout"
    s.close()
    with open(a.log + ".sent", "wb") as f:
        f.write(sent)
    with open(a.log + ".recv", "wb") as f:
        f.write(recv)
    with open(a.log + ".events", "w") as f:
        json.dump(events, f)
    with open(a.log + ".json", "w") as f:
        json.dump({"client_bytes": len(sent), "server_bytes": len(recv),
                   "client_sha256": hashlib.sha256(sent).hexdigest(),
                   "server_sha256": hashlib.sha256(recv).hexdigest(),
                   "closed_by": closed_by}, f, indent=1)


if __name__ == "__main__":
    main()
