#!/usr/bin/env python3
"""HTTP/1.1 application server for samples/record.sh (Python http.server, keep-alive): cookies,
Basic authentication, redirect chains and CORS answers. Bodies are generated, so they repeat
between runs (only Date: changes).

  GET  /cookies/set      200; sets the cookies in COOKIES (one Set-Cookie line each)
  GET  /cookies/check    200; the body is the Cookie header the request carried ("" if none)
  GET  /admin/page       the same as /cookies/check (inside the Path=/admin scope)
  GET  /auth/basic       401 + WWW-Authenticate: Basic realm="x" unless the request has
                         Authorization: Basic base64(user:pass); then 200
  ANY  /r/CODE[/NEXT..]  redirect with status CODE to /r/NEXT/..., the last hop /r/done = 200
                         whose body names the method and body length it received
  GET  /loop             302 to /loop, forever
  OPTIONS /api/item      preflight allowed: Access-Control-Allow-Origin = the Origin,
                         Allow-Methods GET, PUT, Allow-Headers content-type, Max-Age 600
  PUT  /api/item         200 with Access-Control-Allow-Origin = the Origin
  OPTIONS /api/strict    preflight that does NOT allow the requested method (Allow-Methods:
                         GET, POST)
  GET  /api/cred         200 with Access-Control-Allow-Origin: * and
                         Access-Control-Allow-Credentials: true
Usage: http_app_server.py HOST PORT --log FILE   (runs until SIGTERM; FILE: one JSON line per
request: method, path, headers, body length)
"""
import base64
import hashlib
import http.server
import json
import sys

COOKIES = [
    "theme=dark; Path=/; Max-Age=3600",
    "lang=en-GB; Path=/; Expires=Wed, 01 Jan 2031 00:00:00 GMT",
    "sessionid=4f2c9a1b7e; Path=/",
    "csrftoken=Tk9uY2U; Path=/; HttpOnly; SameSite=Strict",
    "laxpref=1; Path=/; SameSite=Lax",
    "crosssite=yes; Path=/; SameSite=None; Secure",
    "__Host-id=h0st; Path=/; Secure",
    "__Secure-pref=s3cure; Path=/; Secure; HttpOnly",
    "adminonly=a1; Path=/admin",
    "domaincookie=d1; Domain=localhost; Path=/",
    "__Host-bad=x; Path=/; Domain=localhost; Secure",
]
USER, PASSWORD = "user", "pass"
LOG = None


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hopscope-app/1"
    sys_version = ""

    def log_message(self, *a):
        pass

    def reply(self, status, body=b"", headers=(), ctype="text/plain"):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if body or status not in (204, 304):
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        with open(LOG, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "headers": [[k, v] for k, v in self.headers.items()],
                                "body_bytes": len(body),
                                "body_sha256": hashlib.sha256(body).hexdigest()}) + "\n")
        p, m = self.path, self.command
        origin = self.headers.get("Origin")
        if p == "/cookies/set":
            return self.reply(200, b"cookies set\n", [("Set-Cookie", c) for c in COOKIES])
        if p in ("/cookies/check", "/admin/page"):
            return self.reply(200, (self.headers.get("Cookie") or "").encode() + b"\n")
        if p == "/auth/basic":
            want = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if self.headers.get("Authorization") == want:
                return self.reply(200, b"welcome, user\n")
            return self.reply(401, b"authentication required\n",
                              [("WWW-Authenticate", 'Basic realm="x"')])
        if p.startswith("/r/"):
            hops = p[3:].split("/")
            if hops[0] == "done":
                return self.reply(200, f"final: {m} with a {len(body)}-byte body\n".encode())
            code = int(hops[0])
            rest = "/".join(hops[1:]) or "done"
            return self.reply(code, b"", [("Location", "/r/" + rest)])
        if p == "/loop":
            return self.reply(302, b"", [("Location", "/loop")])
        if p == "/api/item" and m == "OPTIONS":
            return self.reply(204, b"", [("Access-Control-Allow-Origin", origin),
                                         ("Access-Control-Allow-Methods", "GET, PUT"),
                                         ("Access-Control-Allow-Headers", "content-type"),
                                         ("Access-Control-Max-Age", "600"), ("Vary", "Origin")])
        if p == "/api/item" and m == "PUT":
            return self.reply(200, b'{"stored": true}\n', [("Access-Control-Allow-Origin", origin),
                                                           ("Vary", "Origin")], "application/json")
        if p == "/api/strict" and m == "OPTIONS":
            return self.reply(204, b"", [("Access-Control-Allow-Origin", origin),
                                         ("Access-Control-Allow-Methods", "GET, POST"),
                                         ("Vary", "Origin")])
        if p == "/api/cred":
            return self.reply(200, b'{"secret": "for the cookie holder"}\n',
                              [("Access-Control-Allow-Origin", "*"),
                               ("Access-Control-Allow-Credentials", "true")], "application/json")
        return self.reply(404, b"not found\n")

    do_GET = do_POST = do_PUT = do_OPTIONS = do_DELETE = handle_any


def main():
    global LOG
    host, port = sys.argv[1], int(sys.argv[2])
    LOG = sys.argv[sys.argv.index("--log") + 1]
    http.server.ThreadingHTTPServer((host, port), H).serve_forever()


if __name__ == "__main__":
    main()
