#!/usr/bin/env python3
"""Drive `openssl s_client` through HTTP/1.1 requests and TLS 1.3 KeyUpdates, logging what it
sent and got, for the TLS samples (curl, browsers and Python cannot send a KeyUpdate).

  s_client_driver.py HOST:PORT --sni NAME --local IP:PORT --cafile PEM --keylog FILE
                     --ciphersuites SUITE --log PREFIX --step STEP...

STEP is "GET /path" (a request; the last one carries Connection: close) or "K" / "k"
(s_client's own commands: a KeyUpdate with update_requested, so the server updates its keys
too, or update_not_requested). Each request's whole response is read from s_client's output
before the next step; after a "K"/"k" the driver waits until s_client has logged the KeyUpdate
it sent (-msg). After "K" the server updates its keys too: its KeyUpdate goes out before its
next record, i.e. with the next response.

s_client runs with -keylogfile (the NSS key log, appended), -msg -msgfile PREFIX.msg (every
TLS message it wrote or read, the encrypted handshake and KeyUpdates in the clear), -bind
(fixed client port), -alpn http/1.1, -tls1_3 -ciphersuites SUITE.

Writes PREFIX.sent (the request bytes written to s_client, i.e. the application data it sent;
the command lines are not sent), PREFIX.recv (the responses as s_client printed them, each
located by its status line and Content-Length in s_client's output), PREFIX.json: "requests"
(method, target, status, body bytes), "steps", "tls" (client random, ClientHello, ServerHello
from PREFIX.msg; "s_client_says": version and cipher from its "New, TLSv1.3, Cipher is" line,
ALPN, key_updates_sent / key_updates_received counted in its message log).
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tls_hello import client_hello, server_hello  # noqa: E402

HRR_RANDOM = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"


def read_msgs(path):
    """[(">>>"|"<<<", name, bytes)] for every handshake message s_client logged."""
    out, cur = [], None
    with open(path) as f:
        for line in f:
            m = re.match(r"^(>>>|<<<) (\S+ \S+), Handshake \[length [0-9a-f]+\], (\S+)", line)
            if m:
                cur = [m.group(1), m.group(3), bytearray()]
                out.append(cur)
                continue
            if re.match(r"^(>>>|<<<)", line):
                cur = None
                continue
            if cur is not None and line.startswith("    "):
                cur[2] += bytes.fromhex(line.strip())
    return [(d, n, bytes(b)) for d, n, b in out]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("connect")
    ap.add_argument("--sni", required=True)
    ap.add_argument("--local", required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--keylog", required=True)
    ap.add_argument("--ciphersuites", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--step", action="append", required=True)
    a = ap.parse_args()
    port = a.connect.rsplit(":", 1)[1]
    if os.path.exists(a.log + ".msg"):
        os.unlink(a.log + ".msg")
    p = subprocess.Popen(["openssl", "s_client", "-connect", a.connect, "-servername", a.sni,
                          "-CAfile", a.cafile, "-verify_return_error", "-tls1_3",
                          "-ciphersuites", a.ciphersuites, "-keylogfile", a.keylog,
                          "-bind", a.local, "-alpn", "http/1.1", "-msg", "-msgfile", a.log + ".msg"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.set_blocking(p.stdout.fileno(), False)
    out = bytearray()
    sent, recv, pos = bytearray(), bytearray(), 0
    requests = []
    deadline = time.time() + 30

    def pump():
        if time.time() > deadline:
            p.kill()
            raise SystemExit("s_client_driver: timed out")
        try:
            b = p.stdout.read()
        except BlockingIOError:
            b = None
        if b:
            out.extend(b)
        else:
            time.sleep(0.02)

    def msgs():
        try:
            return read_msgs(a.log + ".msg")
        except FileNotFoundError:
            return []

    def key_updates(direction):
        return sum(1 for d, n, _ in msgs() if d == direction and n == "KeyUpdate")

    while b"\nNew, " not in out:
        pump()
    reqs = [s for s in a.step if s not in ("K", "k")]
    for step in a.step:
        if step in ("K", "k"):
            before = key_updates(">>>")
            p.stdin.write((step + "\n").encode())
            p.stdin.flush()
            while key_updates(">>>") == before:
                pump()
            time.sleep(0.2)   # s_client reads its stdin in its own loop: nothing else in that read
            continue
        method, target = step.split(" ", 1)
        last = step is reqs[-1]
        req = (f"{method} {target} HTTP/1.1\r\nHost: {a.sni}:{port}\r\n"
               f"User-Agent: openssl-s_client (tools/s_client_driver.py)\r\n"
               + ("Connection: close\r\n" if last else "") + "\r\n").encode()
        p.stdin.write(req)
        p.stdin.flush()
        sent += req
        # the response: status line, head, Content-Length body, somewhere after pos
        while True:
            i = out.find(b"HTTP/1.1 ", pos)
            j = out.find(b"\r\n\r\n", i) if i >= 0 else -1
            if j >= 0:
                head = bytes(out[i:j + 4])
                m = re.search(rb"\r\ncontent-length: *(\d+)", head, re.I)
                n = int(m.group(1)) if m else 0
                if method == "HEAD":
                    n = 0
                if len(out) >= j + 4 + n:
                    resp = bytes(out[i:j + 4 + n])
                    pos = j + 4 + n
                    break
            pump()
        recv += resp
        time.sleep(0.2)   # keep each request in its own read of s_client's stdin
        requests.append({"method": method, "target": target,
                         "status": int(resp.split(b" ", 2)[1]), "body_bytes": n,
                         "body_sha256": hashlib.sha256(resp[len(head):]).hexdigest()})
    try:
        rest, err = p.communicate(timeout=10)   # closes s_client's stdin: it exits
    except subprocess.TimeoutExpired:
        p.kill()
        raise SystemExit("s_client_driver: s_client did not exit")
    out.extend(rest or b"")
    text = out.decode("latin-1")
    new = re.search(r"New, (\S+), Cipher is (\S+)", text)
    alpn = re.search(r"ALPN protocol: (\S+)", text)
    ms = msgs()
    chs = [b for d, n, b in ms if d == ">>>" and n == "ClientHello"]
    shs = [b for d, n, b in ms if d == "<<<" and n == "ServerHello"]
    real = [b for b in shs if b[6:38].hex() != HRR_RANDOM]
    tls = {"client_hellos": len(chs), "client_random": chs[0][6:38].hex(),
           "client_hello": client_hello(chs[0]), "hello_retry_request": len(real) < len(shs),
           "server_random": real[-1][6:38].hex(), "server_hello": server_hello(real[-1]),
           "s_client_says": {"version": new.group(1), "cipher": new.group(2),
                             "alpn": alpn.group(1) if alpn else None,
                             "key_updates_sent": key_updates(">>>"),
                             "key_updates_received": key_updates("<<<"),
                             "stderr": [l for l in err.decode("latin-1").splitlines() if l.strip()]},
           "source": "openssl s_client -msg (its own log of every handshake message, the "
                     "encrypted ones and KeyUpdates in the clear) and its session summary"}
    with open(a.log + ".sent", "wb") as f:
        f.write(sent)
    with open(a.log + ".recv", "wb") as f:
        f.write(recv)
    with open(a.log + ".json", "w") as f:
        json.dump({"client": a.local, "server": a.connect, "steps": a.step, "requests": requests,
                   "tls": tls, "client_bytes": len(sent), "server_bytes": len(recv),
                   "client_sha256": hashlib.sha256(sent).hexdigest(),
                   "server_sha256": hashlib.sha256(recv).hexdigest(),
                   "exit_code": p.returncode}, f, indent=1)


if __name__ == "__main__":
    main()
