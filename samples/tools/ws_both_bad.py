#!/usr/bin/env python3
"""Both peers of one WebSocket break RFC 6455 §5.1, again and again, for samples/record.sh
(issue 19: a repeated violation, and the same violation by the other peer, stay visible).

  ws_both_bad.py server HOST PORT     accepts one connection
  ws_both_bad.py client HOST:PORT     connects, runs the script below

After a real upgrade handshake (raw sockets, frames built byte by byte by ws_bad.frame):
the client sends 3 unmasked text frames; the server answers with 20 masked text frames; the
client sends 1 more unmasked text frame; then a clean close (the client's close masked, the
server's not) and the server closes TCP. Each frame is written on its own (TCP_NODELAY) after
the previous side's frames were read, mostly each its own packet. Neither side fails the
connection: the point is to record the violations of both directions on one conversation.
"""
import base64
import hashlib
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ws_bad import GUID, close_payload, frame  # noqa: E402

KEY = base64.b64encode(hashlib.sha256(b"key/both").digest()[:16]).decode()


def mkey(n):
    return hashlib.sha256(f"both/{n}".encode()).digest()[:4]


class Peer:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(10)

    def fill(self):
        b = self.sock.recv(65536)
        if not b:
            raise SystemExit("EOF")
        self.buf += b

    def head(self):
        while b"\r\n\r\n" not in self.buf:
            self.fill()
        h, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return h.decode()

    def frame(self):
        while True:
            b = self.buf
            if len(b) >= 2:
                n, at = b[1] & 0x7F, 2
                if n == 126 and len(b) >= 4:
                    n, at = int.from_bytes(b[2:4], "big"), 4
                if b[1] & 0x80:
                    at += 4
                if n < 126 and len(b) >= at + n:
                    self.buf = b[at + n:]
                    return b[0] & 0x0F
            self.fill()


def server(host, port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, int(port)))
    ls.listen(1)
    print("listening", flush=True)
    s, _ = ls.accept()
    p = Peer(s)
    p.head()
    acc = base64.b64encode(hashlib.sha1(KEY.encode() + GUID).digest()).decode()
    s.sendall(f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              f"Sec-WebSocket-Accept: {acc}\r\n\r\n".encode())
    for _ in range(3):
        p.frame()
    for i in range(20):
        s.sendall(frame(1, f"server frame {i}, masked".encode(), key=mkey(100 + i)))
    p.frame()                                      # the client's 4th unmasked frame
    assert p.frame() == 8                          # its close
    s.sendall(frame(8, close_payload(1000, "bye")))
    s.shutdown(socket.SHUT_WR)
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass
    s.close()


def client(target):
    host, port = target.rsplit(":", 1)
    s = socket.create_connection((host, int(port)))
    p = Peer(s)
    s.sendall(f"GET /both HTTP/1.1\r\nHost: {target}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    p.head()
    for i in range(3):
        s.sendall(frame(1, f"client frame {i}, unmasked".encode()))
    for _ in range(20):
        p.frame()
    s.sendall(frame(1, b"client frame 3, unmasked"))
    s.sendall(frame(8, close_payload(1000, "bye"), key=mkey(9)))
    assert p.frame() == 8
    while s.recv(65536):
        pass
    s.close()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(sys.argv[2], sys.argv[3])
    else:
        client(sys.argv[2])
