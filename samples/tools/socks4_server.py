#!/usr/bin/env python3
"""Minimal SOCKS4 / SOCKS4a CONNECT server for the socks4 sample (microsocks has no SOCKS4).

Per connection: reads VN=4 CD=1 DSTPORT DSTIP USERID NUL (and, for SOCKS4a, DSTIP 0.0.0.x with
x != 0, a host name NUL), resolves the name itself for 4a, connects to the target FROM A FIXED
LOCAL PORT (--upstream-port-base + connection number, so the 4-tuple repeats between runs),
answers 00 5A DSTPORT DSTIP (request granted; 00 5B if the connect fails) and relays both
directions until both sides have closed. At most --count connections, then it exits.

Logs, for the N-th connection (N = 1, 2, ...):
  PREFIX.N.sent / PREFIX.N.recv   client->server / server->client bytes of the CLIENT's
                                  connection (handshake included), exactly as relayed
  PREFIX.N.up.sent / .up.recv     the same for the upstream connection (to the target)
  PREFIX.N.done                   written when both connections are closed and logged
  PREFIX.N.json                   peer, upstream endpoints, the parsed request (version,
                                  4 or 4a, user id, host name, address, port), request/reply hex

Usage: socks4_server.py HOST PORT --log PREFIX [--count N] [--upstream-port-base P]
"""
import argparse
import json
import socket
import struct
import threading


def read_exact(c, n):
    buf = bytearray()
    while len(buf) < n:
        d = c.recv(n - len(buf))
        if not d:
            raise EOFError("client closed during the SOCKS4 request")
        buf += d
    return bytes(buf)


def read_nul(c, limit=255):
    buf = bytearray()
    while True:
        b = read_exact(c, 1)
        if b == b"\x00":
            return bytes(buf)
        buf += b
        if len(buf) > limit:
            raise ValueError("SOCKS4 string too long")


def pump(src, dst, log_path):
    with open(log_path, "ab") as log:
        while True:
            try:
                d = src.recv(65536)
            except OSError:
                d = b""
            if not d:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            log.write(d)
            log.flush()
            dst.sendall(d)


def handle(c, peer, n, a):
    prefix = f"{a.log}.{n}"
    for ext in (".sent", ".recv", ".up.sent", ".up.recv"):
        open(prefix + ext, "wb").close()
    c.settimeout(30)
    head = read_exact(c, 8)
    vn, cd, port = struct.unpack("!BBH", head[:4])
    ip = socket.inet_ntoa(head[4:8])
    user = read_nul(c)
    req = head + user + b"\x00"
    info = {"peer": f"{peer[0]}:{peer[1]}", "version": vn, "command": cd, "port": port,
            "address": ip, "user_id": user.decode("latin-1")}
    host = ip
    if head[4:7] == b"\x00\x00\x00" and head[7] != 0:
        name = read_nul(c)
        req += name + b"\x00"
        info.update(form="4a", hostname=name.decode("latin-1"))
        host = socket.gethostbyname(name.decode("latin-1"))
        info["resolved"] = host
    else:
        info["form"] = "4"
    with open(prefix + ".sent", "ab") as f:
        f.write(req)
    up = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    up.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    up.bind(("127.0.0.1", a.upstream_port_base + n))
    up.settimeout(30)
    try:
        if vn != 4 or cd != 1:
            raise OSError("not a SOCKS4 CONNECT")
        up.connect((host, port))
        rep = b"\x00\x5a" + head[2:8]
    except OSError:
        rep = b"\x00\x5b" + head[2:8]
    info.update(request_hex=req.hex(), reply_hex=rep.hex(), granted=rep[1] == 0x5A,
                upstream_client=f"127.0.0.1:{a.upstream_port_base + n}",
                upstream_server=f"{host}:{port}")
    with open(prefix + ".json", "w") as f:
        json.dump(info, f, indent=1)
    c.sendall(rep)
    with open(prefix + ".recv", "ab") as f:
        f.write(rep)
    if rep[1] != 0x5A:
        c.close()
        up.close()
        return
    t1 = threading.Thread(target=pump, args=(c, up, prefix + ".sent"))
    t2 = threading.Thread(target=pump, args=(up, c, prefix + ".recv"))
    # the upstream leg carries the same payload bytes as the client leg after the handshake
    t1.start()
    t2.start()
    t1.join()
    t2.join()
    c.close()
    up.close()
    sent = open(prefix + ".sent", "rb").read()[len(req):]
    recv = open(prefix + ".recv", "rb").read()[len(rep):]
    open(prefix + ".up.sent", "wb").write(sent)
    open(prefix + ".up.recv", "wb").write(recv)
    open(prefix + ".done", "w").close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--log", required=True)
    ap.add_argument("--count", type=int, default=8)
    ap.add_argument("--upstream-port-base", type=int, default=40050)
    a = ap.parse_args()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.host, a.port))
    ls.listen(8)
    threads = []
    for n in range(1, a.count + 1):
        c, peer = ls.accept()
        t = threading.Thread(target=handle, args=(c, peer, n, a), daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
