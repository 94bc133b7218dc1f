#!/usr/bin/env python3
"""Two HTTP/1.1 origins for the browser CORS sample (Python http.server), logging the exact
bytes of every connection (the browser's client ports are ephemeral and it cannot log them).

  cors_lab_server.py --page HOST:PORT --api HOST:PORT --log PREFIX
      The page origin serves /page.html, whose script (SCRIPT below) makes three cross-origin
      fetch() calls to the api origin and writes each outcome into <pre id=out> (read back with
      chromium --dump-dom) and to console.log:
        1. GET /api/allowed with header X-Hopscope: 1   -> preflight allows it, then the GET
        2. GET /api/denied with header X-Hopscope: 1    -> preflight answers without that
                                                           header: the browser blocks it
        3. GET /api/cred, credentials: "include"        -> answered with
                                                           Access-Control-Allow-Origin: *
                                                           and Allow-Credentials: true:
                                                           blocked (no preflight: a simple GET)
      Every accepted connection n on either origin is logged to PREFIX.<origin>.<n>.sent
      (client->server), .recv (server->client), .peer; PREFIX.requests.jsonl has one line per
      request (origin, peer, method, path, headers).
"""
import argparse
import io
import json
import socketserver
import threading
import http.server

SCRIPT = """
const out = document.getElementById('out');
const api = API;
function note(s) { out.textContent += s + '\\n'; console.log('hopscope-cors: ' + s); }
async function attempt(name, url, opts) {
  try {
    const r = await fetch(url, opts);
    const t = await r.text();
    note(name + ': allowed status=' + r.status + ' body=' + t.trim());
  } catch (e) {
    note(name + ': blocked ' + e.name + ': ' + e.message);
  }
}
(async () => {
  await attempt('allowed', api + '/api/allowed', {headers: {'X-Hopscope': '1'}});
  await attempt('denied', api + '/api/denied', {headers: {'X-Hopscope': '1'}});
  await attempt('credentialed-star', api + '/api/cred', {credentials: 'include'});
  note('done');
})();
"""

COUNT = {}
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


def handler(origin_name, prefix, api_origin, page_origin):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "hopscope-cors/1"
        sys_version = ""

        def setup(self):
            with LOCK:
                COUNT[origin_name] = COUNT.get(origin_name, 0) + 1
                n = COUNT[origin_name]
            base = f"{prefix}.{origin_name}.{n}"
            for ext in (".sent", ".recv"):
                open(base + ext, "wb").close()
            with open(base + ".peer", "w") as f:
                f.write("%s:%d\n" % self.client_address[:2])
            self.connection = self.request
            self.rfile = io.BufferedReader(LogReader(self.request, base + ".sent"))
            self.wfile = LogWriter(self.request, base + ".recv")

        def log_message(self, *a):
            pass

        def reply(self, status, body=b"", headers=(), ctype="text/plain"):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            if body:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_any(self):
            with open(prefix + ".requests.jsonl", "a") as f:
                f.write(json.dumps({"origin": origin_name, "peer": "%s:%d" % self.client_address[:2],
                                    "method": self.command, "path": self.path,
                                    "headers": [[k, v] for k, v in self.headers.items()]}) + "\n")
            p, m = self.path, self.command
            if origin_name == "page":
                if p == "/page.html":
                    html = ("<!doctype html><html><head><title>cors</title></head><body>"
                            "<pre id=out></pre><script>" + SCRIPT.replace("API", json.dumps(api_origin))
                            + "</script></body></html>")
                    return self.reply(200, html.encode(), ctype="text/html; charset=utf-8")
                return self.reply(404, b"not found\n")
            acao = [("Access-Control-Allow-Origin", page_origin), ("Vary", "Origin")]
            if p == "/api/allowed" and m == "OPTIONS":
                return self.reply(204, b"", acao + [("Access-Control-Allow-Methods", "GET"),
                                                    ("Access-Control-Allow-Headers", "X-Hopscope"),
                                                    ("Access-Control-Max-Age", "0")])
            if p == "/api/allowed":
                return self.reply(200, b"the api says hello\n", acao)
            if p == "/api/denied" and m == "OPTIONS":
                return self.reply(204, b"", acao + [("Access-Control-Allow-Methods", "GET")])
            if p == "/api/denied":
                return self.reply(200, b"you should not see this\n", acao)
            if p == "/api/cred":
                return self.reply(200, b"secret for the cookie holder\n",
                                  [("Access-Control-Allow-Origin", "*"),
                                   ("Access-Control-Allow-Credentials", "true")])
            return self.reply(404, b"not found\n")

        do_GET = do_OPTIONS = do_POST = do_any

    return H


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--page", required=True)
    ap.add_argument("--api", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    page_origin, api_origin = f"http://{a.page}", f"http://{a.api}"
    servers = []
    for name, hp in (("page", a.page), ("api", a.api)):
        h, p = hp.rsplit(":", 1)
        servers.append(Server((h, int(p)), handler(name, a.log, api_origin, page_origin)))
    t = threading.Thread(target=servers[0].serve_forever, daemon=True)
    t.start()
    servers[1].serve_forever()


if __name__ == "__main__":
    main()
