#!/usr/bin/env python3
"""HTTP/1.1 origin server behind the proxies of samples/record.sh (Python http.server),
logging the exact bytes of every connection and every request it received, so the proxy's
upstream leg (whose client port is ephemeral) has facts from a program, not from the capture.

  proxy_backend.py HOST PORT --log PREFIX [--slow PATH=MS]...
      Every accepted connection n (1, 2, ...) is logged to PREFIX.n.sent (what the PEER sent,
      i.e. proxy->backend, as facts.py expects), PREFIX.n.recv (what this server sent) and
      PREFIX.n.peer (the peer's HOST:PORT). PREFIX.requests.jsonl gets one JSON object per
      request, in the order they were read: conn (n), peer, index (0, 1, ... on that
      connection), method, target, version, headers ([[name, value], ...] as received, in
      order), body_bytes, body_sha256, status.
      Every request is answered 200 with Content-Length and a small text body naming the
      connection, the request's index on it and its X-Hopscope-Tag / X-Request-Id headers;
      the connection is kept alive unless the request asks to close (HTTP/1.0 without
      keep-alive, or Connection: close). Request bodies are read by Content-Length or chunked.
      --slow PATH=MS: requests whose path starts with PATH wait MS milliseconds before the
      answer (to make two clients' requests overlap at the proxy).
      --pad PATH=BYTES: answers to requests whose path starts with PATH get BYTES more bytes
      of deterministic text after that line (responses of known sizes).
"""
import argparse
import hashlib
import http.server
import io
import json
import socketserver
import threading
import time

COUNT = [0]
LOCK = threading.Lock()


class LogReader(io.RawIOBase):
    def __init__(self, sock, path):
        self.sock, self.path = sock, path

    def readable(self):
        return True

    def readinto(self, b):
        n = self.sock.recv_into(b)
        with open(self.path, "ab") as f:
            f.write(bytes(b[:n]))
        return n


class LogWriter(io.RawIOBase):
    def __init__(self, sock, path):
        self.sock, self.path = sock, path

    def writable(self):
        return True

    def write(self, b):
        self.sock.sendall(b)
        with open(self.path, "ab") as f:
            f.write(bytes(b))
        return len(b)


def handler(prefix, slow, pad=()):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "hopscope-backend/1"
        sys_version = ""

        def setup(self):
            with LOCK:
                COUNT[0] += 1
                self.conn_no = COUNT[0]
            self.req_no = 0
            base = f"{prefix}.{self.conn_no}"
            for ext in (".sent", ".recv"):
                open(base + ext, "wb").close()
            with open(base + ".peer", "w") as f:
                f.write("%s:%d\n" % self.client_address[:2])
            self.connection = self.request
            self.rfile = io.BufferedReader(LogReader(self.request, base + ".sent"))
            # the head is buffered by http.server and written at end_headers(), the body after
            self.wfile = LogWriter(self.request, base + ".recv")

        def log_message(self, *a):
            pass

        def read_body(self):
            te = (self.headers.get("Transfer-Encoding") or "").lower()
            if te.endswith("chunked"):
                data = bytearray()
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return bytes(data)
                    data += self.rfile.read(size)
                    self.rfile.readline()
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def do_any(self):
            body = self.read_body()
            path = self.path
            for p, ms in slow:
                if path.startswith(p):
                    time.sleep(ms / 1000)
                    break
            tag = self.headers.get("X-Hopscope-Tag")
            rid = self.headers.get("X-Request-Id")
            text = (f"backend connection {self.conn_no} request {self.req_no}: {self.command} "
                    f"{self.path} tag={tag} request-id={rid} body={len(body)}\n").encode()
            for p, n in pad:
                if path.startswith(p):
                    fill = "".join(f"pad line {i:06d}: padding text for a sized answer\n"
                                   for i in range(n // 50 + 1))
                    text += fill[:n].encode()
                    break
            with open(prefix + ".requests.jsonl", "a") as f:
                f.write(json.dumps({
                    "conn": self.conn_no, "peer": "%s:%d" % self.client_address[:2],
                    "index": self.req_no, "method": self.command, "target": self.path,
                    "version": self.request_version,
                    "headers": [[k, v] for k, v in self.headers.items()],
                    "body_bytes": len(body), "body_sha256": hashlib.sha256(body).hexdigest(),
                    "status": 200}) + "\n")
            self.req_no += 1
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        do_GET = do_POST = do_PUT = do_HEAD = do_any

    return H


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--log", required=True)
    ap.add_argument("--slow", action="append", default=[])
    ap.add_argument("--pad", action="append", default=[])
    a = ap.parse_args()
    slow = [(p, int(ms)) for p, ms in (s.split("=", 1) for s in a.slow)]
    pad = [(p, int(n)) for p, n in (s.split("=", 1) for s in a.pad)]
    Server((a.host, a.port), handler(a.log, slow, pad)).serve_forever()


if __name__ == "__main__":
    main()
