#!/usr/bin/env python3
"""HTTP/1.x test server for samples/record.sh (Python's http.server, HTTP/1.1 keep-alive).

Answers a fixed set of paths with the message framings the samples need; every body is
generated, so it repeats between runs (only Date: changes):

  GET  /chunked        Transfer-Encoding: chunked, chunk sizes 1, 17, 300, 4096, 5, 1200 with
                       chunk extensions (;foo=bar, ;name="quoted value", ;ext), a trailer
                       section (Trailer: X-Checksum, X-Checksum: sha256 of the body); each chunk
                       written separately (TCP_NODELAY, 20 ms apart), the 4096 chunk split
                       between its size line and its data, so chunks cross TCP segments
  POST /upload         reads a Content-Length or chunked request body; http.server itself sends
                       "100 Continue" first when the request has Expect: 100-continue; answers
                       200 with a JSON body giving the received length and sha256
  GET  /early-hints    two "103 Early Hints" responses with Link headers, then 200 text/html
  GET  /enc/NAME       a 4,000-byte text body with Content-Encoding NAME: gzip, deflate
                       (zlib-wrapped, RFC 1950), deflate-raw (sent as "deflate" but RFC 1951
                       raw, no zlib header, as some servers wrongly do), br, gzip-br (sent as
                       "gzip, br": gzip applied first, then br), identity
  GET  /http10         an HTTP/1.0 response without Content-Length; the body (3 writes) ends
                       when the server closes the connection
  GET  /close          HTTP/1.1 response with Content-Length and Connection: close, then close
  GET  /hostile...     200 with escape sequences and BEL in the reason phrase, an X-Title value
                       and the body (the request's target may carry them too)

Usage: http_lab_server.py HOST PORT   (runs until SIGTERM)
"""
import gzip
import hashlib
import http.server
import json
import socket
import sys
import time
import zlib

import brotli


def text_body(n, tag):
    out = bytearray()
    i = 0
    while len(out) < n:
        out += f"{tag} line {i:05d}: the quick brown fox jumps over the lazy dog\n".encode()
        i += 1
    return bytes(out[:n])


ENC_BODY = text_body(4000, "encoded")


def encode(name):
    if name == "gzip":
        # mtime=0 so the bytes repeat between runs
        return "gzip", gzip.compress(ENC_BODY, mtime=0)
    if name == "deflate":
        return "deflate", zlib.compress(ENC_BODY)
    if name == "deflate-raw":
        c = zlib.compressobj(wbits=-15)
        return "deflate", c.compress(ENC_BODY) + c.flush()
    if name == "br":
        return "br", brotli.compress(ENC_BODY)
    if name == "gzip-br":
        return "gzip, br", brotli.compress(gzip.compress(ENC_BODY, mtime=0))
    if name == "identity":
        return None, ENC_BODY
    return None, None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def version_string(self):
        return "hopscope-lab/1"

    def log_message(self, fmt, *args):
        sys.stderr.write("lab: " + (fmt % args) + "\n")

    def send_body(self, status, ctype, body, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def write_now(self, data):
        self.wfile.write(data)
        self.wfile.flush()
        time.sleep(0.02)

    def do_GET(self):
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        p = self.path
        if p == "/chunked":
            sizes = [1, 17, 300, 4096, 5, 1200]
            exts = {1: ";foo=bar", 2: ';name="quoted value"', 4: ";ext"}
            body = text_body(sum(sizes), "chunked")
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "X-Checksum")
            self.end_headers()
            self.wfile.flush()
            time.sleep(0.02)
            off = 0
            for i, n in enumerate(sizes):
                line = f"{n:x}{exts.get(i, '')}\r\n".encode()
                data = body[off:off + n] + b"\r\n"
                off += n
                if n == 4096:   # size line alone, then the data in a later segment
                    self.write_now(line)
                    self.write_now(data)
                else:
                    self.write_now(line + data)
            self.write_now(b"0\r\nX-Checksum: " + hashlib.sha256(body).hexdigest().encode()
                           + b"\r\n\r\n")
        elif p == "/early-hints":
            for link in ("</style.css>; rel=preload; as=style",
                         "</app.js>; rel=preload; as=script"):
                self.send_response_only(103)
                self.send_header("Link", link)
                self.end_headers()   # writes the 103 head now
                self.wfile.flush()
                time.sleep(0.02)
            body = (b"<!doctype html>\n<html><head><link rel=stylesheet href=/style.css>"
                    b"<script src=/app.js></script></head><body>early hints</body></html>\n")
            self.send_body(200, "text/html", body,
                           [("Link", "</style.css>; rel=preload; as=style")])
        elif p.startswith("/enc/"):
            ce, data = encode(p[5:])
            if data is None:
                self.send_body(404, "text/plain", b"unknown encoding\n")
                return
            self.send_body(200, "text/plain", data,
                           [("Content-Encoding", ce)] if ce else [])
        elif p == "/http10":
            self.protocol_version = "HTTP/1.0"
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.flush()
            body = text_body(3000, "close-delimited")
            for i in range(3):
                self.write_now(body[i * 1000:(i + 1) * 1000])
        elif p.startswith("/hostile"):
            # Issue 19: what an attacker's server sends to a terminal that prints it raw: escape
            # sequences and BEL in the reason phrase, a header value and the body.
            body = b"\x1b[2J\x1b[31mred alert\x1b[0m\x07\n"
            self.send_response(200, "O\x1b[5mK\x07")
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Title", "\x1b]2;owned\x07")
            self.end_headers()
            self.wfile.write(body)
        elif p == "/close":
            self.close_connection = True
            self.send_body(200, "text/plain", text_body(500, "connection-close"),
                           [("Connection", "close")])
        else:
            self.send_body(404, "text/plain", b"not found\n")

    do_HEAD = do_GET

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if te.endswith("chunked"):
            body = bytearray()
            for _ in range(100000):
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()
            raise ValueError("too many chunks")
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_POST(self):
        if self.path != "/upload":
            self.send_body(404, "text/plain", b"not found\n")
            return
        body = self.read_body()
        out = json.dumps({"received_bytes": len(body),
                          "sha256": hashlib.sha256(body).hexdigest()}).encode() + b"\n"
        self.send_body(200, "application/json", out)


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    http.server.ThreadingHTTPServer.allow_reuse_address = True
    with http.server.ThreadingHTTPServer((host, port), Handler) as srv:
        srv.serve_forever()


if __name__ == "__main__":
    main()
