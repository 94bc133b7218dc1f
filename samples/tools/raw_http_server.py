#!/usr/bin/env python3
"""Raw TCP "HTTP" server for the smuggling sample: logs exactly what it received, answers a
fixed response, closes. It does not parse HTTP at all, so malformed and ambiguous requests
reach the log unchanged.

Per connection (one at a time, at most --count connections, then it exits): read until the
peer has been silent for --idle-ms (or 5 s have passed), then send the fixed response chosen by
the client's port (--status PORT=CODE; default 400) and close:

  HTTP/1.1 CODE REASON\\r\\nContent-Type: text/plain\\r\\nContent-Length: N\\r\\n
  Connection: close\\r\\n\\r\\n<"received B bytes\\n">

Usage: raw_http_server.py HOST PORT --log FILE [--count N] [--status PORT=CODE]...
       [--ready FILE] [--idle-ms 300]
--log gets one JSON object per line: peer, received_bytes, received_hex, received_sha256,
response_status, response_hex.
"""
import argparse
import hashlib
import json
import socket
import time

REASONS = {200: "OK", 400: "Bad Request", 501: "Not Implemented"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--log", required=True)
    ap.add_argument("--count", type=int, default=16)
    ap.add_argument("--status", action="append", default=[])
    ap.add_argument("--ready")
    ap.add_argument("--idle-ms", type=int, default=300)
    a = ap.parse_args()
    status_for = {int(p): int(c) for p, c in (s.split("=") for s in a.status)}
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.host, a.port))
    ls.listen(8)
    if a.ready:
        open(a.ready, "w").write("ready\n")
    for _ in range(a.count):
        c, peer = ls.accept()
        got = bytearray()
        end = time.monotonic() + 5
        c.settimeout(a.idle_ms / 1000)
        while time.monotonic() < end:
            try:
                d = c.recv(65536)
            except socket.timeout:
                break
            if not d:
                break
            got += d
        code = status_for.get(peer[1], 400)
        body = f"received {len(got)} bytes\n".encode()
        resp = (f"HTTP/1.1 {code} {REASONS[code]}\r\nContent-Type: text/plain\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
        c.sendall(resp)
        c.shutdown(socket.SHUT_WR)
        # wait (briefly) for the client's FIN so the close is orderly on both sides
        c.settimeout(2)
        try:
            while c.recv(65536):
                pass
        except OSError:
            pass
        c.close()
        with open(a.log, "a") as f:
            f.write(json.dumps({"peer": f"{peer[0]}:{peer[1]}", "received_bytes": len(got),
                                "received_hex": got.hex(),
                                "received_sha256": hashlib.sha256(got).hexdigest(),
                                "response_status": code, "response_hex": resp.hex()}) + "\n")


if __name__ == "__main__":
    main()
