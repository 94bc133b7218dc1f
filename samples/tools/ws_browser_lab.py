#!/usr/bin/env python3
"""A page server and two WebSocket servers for the browser WebSocket sample (Python http.server
and `websockets` 17, asyncio API), every connection's bytes logged (the browser's client
ports are ephemeral and it cannot log its own bytes).

  ws_browser_lab.py --page HOST:PORT --ws HOST:PORT --refuse HOST:PORT --log PREFIX

  --page   http.server: GET /page.html is the page whose script (SCRIPT below) talks to the two
           WebSocket servers and writes one JSON line per event into <pre id=out> (read back
           with chromium --dump-dom); when done it POSTs the same lines to /log (saved as
           PREFIX.page-log.jsonl). The page's body is close-delimited and its end is sent
           only once /log has arrived (at most 60 s): --dump-dom waits for the load event,
           and --virtual-time-budget would not wait for WebSocket traffic (it dumped the DOM
           before the 1 MB echo had arrived). Anything else is 404.
  --ws     websockets server with compression="deflate" (the library's default offer answer,
           which accepts Chromium's permessage-deflate; client_max_window_bits). For each of the
           4 data messages the page sends it logs the message and echoes it, then closes with
           4001 "done by server" (the server initiates the closing handshake).
  --refuse websockets server with origins=[REFUSED_ONLY]: the page's Origin is not in the list,
           so the library answers the upgrade with 403 Forbidden.

Every accepted connection n of a server is logged as PREFIX.<name>.<n>.sent (what the PEER
sent, client->server), .recv (what this server sent), .peer (the peer's HOST:PORT), .writes
(one "OFFSET LENGTH" line per transport write of this server, offsets in .recv) and, for the
WebSocket servers, .wslog (one JSON object per line: the handshake as the library saw it,
every data message received and sent with type, bytes and sha256, and the close frames sent
and received as the library's protocol state records them; not named .events, which
httpwire.py --log would read as its send/recv order). <name> is page, ws or refuse.
"""
import argparse
import asyncio
import hashlib
import http.server
import io
import json
import signal
import socketserver
import threading

from websockets.asyncio.server import ServerConnection, serve

REFUSED_ONLY = "http://allowed.hopscope.invalid"
BIG = 1_000_000

SCRIPT = r"""
const out = document.getElementById('out');
const lines = [];
function note(o) { const s = JSON.stringify(o); lines.push(s); out.textContent += s + '\n'; console.log('hopscope-ws: ' + s); }
function hex(u8) { return Array.from(u8, b => b.toString(16).padStart(2, '0')).join(''); }
async function facts(data) {
  const u8 = typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data);
  const f = {type: typeof data === 'string' ? 'text' : 'binary', bytes: u8.length,
             sha256: hex(new Uint8Array(await crypto.subtle.digest('SHA-256', u8))),
             head_hex: hex(u8.slice(0, 16))};
  if (typeof data === 'string') { f.chars = data.length; f.head_text = data.slice(0, 40); if (u8.length <= 64) f.text = data; }
  return f;
}
function bigText(n) {   // deterministic ASCII text: words from a 16-word list, LCG-chosen
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel',
                 'india', 'juliett', 'kilo', 'lima', 'mike', 'november', 'oscar', 'papa'];
  let x = 20240601 >>> 0, parts = [], len = 0;
  while (len < n) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; const w = words[(x >>> 16) & 15] + ' '; parts.push(w); len += w.length; }
  return parts.join('').slice(0, n);
}
const bin = new Uint8Array(4096);
for (let i = 0; i < bin.length; i++) bin[i] = (i * 31 + (i >> 8)) & 255;
const outgoing = ['hello from chromium', 'h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c\u8a9e \ud83d\ude80', bin.buffer, bigText(BIG)];

function mainConnection() {
  return new Promise(resolve => {
    const ws = new WebSocket(WS_URL);
    ws.binaryType = 'arraybuffer';
    let chain = Promise.resolve(), n = 0;
    ws.onopen = () => {
      chain = chain.then(async () => {
        note({event: 'open', url: ws.url, extensions: ws.extensions, protocol: ws.protocol});
        for (let i = 0; i < outgoing.length; i++) {
          ws.send(outgoing[i]);
          note(Object.assign({event: 'sent', index: i}, await facts(outgoing[i])));
        }
      });
    };
    ws.onmessage = e => { const i = n++; chain = chain.then(async () => note(Object.assign({event: 'received', index: i}, await facts(e.data)))); };
    ws.onerror = () => { chain = chain.then(() => note({event: 'error'})); };
    ws.onclose = e => { chain = chain.then(() => { note({event: 'close', code: e.code, reason: e.reason, wasClean: e.wasClean}); resolve(); }); };
  });
}
function refusedConnection() {
  return new Promise(resolve => {
    const ws = new WebSocket(REFUSE_URL);
    ws.onopen = () => note({event: 'refused-open', unexpected: true});
    ws.onerror = () => note({event: 'refused-error'});
    ws.onclose = e => { note({event: 'refused-close', code: e.code, reason: e.reason, wasClean: e.wasClean}); resolve(); };
  });
}
(async () => {
  note({event: 'page', origin: location.origin, userAgent: navigator.userAgent});
  await mainConnection();
  await refusedConnection();
  note({event: 'done'});
  await fetch('/log', {method: 'POST', body: lines.join('\n') + '\n'});
})();
"""

LOCK = threading.Lock()
COUNT = {}
LOGGED = threading.Event()   # the page POSTed its log


def next_base(prefix, name):
    with LOCK:
        COUNT[name] = COUNT.get(name, 0) + 1
        return f"{prefix}.{name}.{COUNT[name]}"


def append(path, data):
    with open(path, "ab") as f:
        f.write(data)


class LogReader(io.RawIOBase):
    def __init__(self, sock, path):
        self.sock, self.path = sock, path

    def readable(self):
        return True

    def readinto(self, b):
        n = self.sock.recv_into(b)
        append(self.path, bytes(b[:n]))
        return n


class LogWriter(io.RawIOBase):
    def __init__(self, sock, base):
        self.sock, self.base, self.off = sock, base, 0

    def writable(self):
        return True

    def write(self, b):
        self.sock.sendall(b)
        append(self.base + ".recv", bytes(b))
        append(self.base + ".writes", f"{self.off} {len(b)}\n".encode())
        self.off += len(b)
        return len(b)


def page_handler(prefix, ws_url, refuse_url):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "hopscope-ws-page/1"
        sys_version = ""

        def setup(self):
            base = next_base(prefix, "page")
            for ext in (".sent", ".recv", ".writes"):
                open(base + ext, "wb").close()
            with open(base + ".peer", "w") as f:
                f.write("%s:%d\n" % self.client_address[:2])
            self.connection = self.request
            self.rfile = io.BufferedReader(LogReader(self.request, base + ".sent"))
            self.wfile = LogWriter(self.request, base)

        def log_message(self, *a):
            pass

        def reply(self, status, body=b"", ctype="text/plain"):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/page.html":
                script = (SCRIPT.replace("WS_URL", json.dumps(ws_url))
                          .replace("REFUSE_URL", json.dumps(refuse_url)).replace("BIG", str(BIG)))
                head = ("<!doctype html><html><head><meta charset=utf-8><title>hopscope websocket"
                        "</title></head><body><pre id=\"out\"></pre><script>" + script
                        + "</script>\n")
                # the document stays loading (close-delimited body, no length) until the page
                # has POSTed its log: --dump-dom waits for the load event
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(head.encode())
                LOGGED.wait(60)
                self.wfile.write(b"<p id=\"end\">" + (b"logged" if LOGGED.is_set() else b"timed out")
                                 + b"</p></body></html>\n")
                self.close_connection = True
            else:
                self.reply(404, b"not found\n")

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            if self.path == "/log":
                append(prefix + ".page-log.jsonl", body)
                LOGGED.set()
                self.reply(200, b"logged\n")
            else:
                self.reply(404, b"not found\n")

    return H


class Threaded(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def logging_connection(prefix, name):
    class C(ServerConnection):
        def connection_made(self, transport):
            base = next_base(prefix, name)
            host, port = transport.get_extra_info("peername")[:2]
            with open(base + ".peer", "w") as f:
                f.write(f"{host}:{port}\n")
            for ext in (".sent", ".recv", ".writes", ".wslog"):
                open(base + ext, "wb").close()
            self._log_base = base
            self._written = 0
            write = transport.write

            def logged_write(data):
                append(base + ".writes", f"{self._written} {len(data)}\n".encode())
                self._written += len(data)
                append(base + ".recv", data)
                write(data)

            transport.write = logged_write
            super().connection_made(transport)

        def data_received(self, data):
            append(self._log_base + ".sent", data)
            super().data_received(data)

        def connection_lost(self, exc):
            super().connection_lost(exc)
            p = self.protocol
            ev(self, {"event": "connection_lost",
                      "close_sent": frame_close(p.close_sent), "close_rcvd": frame_close(p.close_rcvd),
                      "close_rcvd_then_sent": p.close_rcvd_then_sent,
                      "library_close_code": self.close_code, "library_close_reason": self.close_reason})

    return C


def frame_close(c):
    return None if c is None else {"code": int(c.code), "reason": c.reason}


def ev(ws, obj):
    append(ws._log_base + ".wslog", (json.dumps(obj) + "\n").encode())


def describe(message):
    b = message.encode() if isinstance(message, str) else message
    return {"type": "text" if isinstance(message, str) else "binary", "bytes": len(b),
            "sha256": hashlib.sha256(b).hexdigest()}


async def echo_then_close(ws):
    ev(ws, {"event": "handshake", "request_path": ws.request.path,
            "request_headers": [[k, v] for k, v in ws.request.headers.raw_items()],
            "response_status": int(ws.response.status_code),
            "response_headers": [[k, v] for k, v in ws.response.headers.raw_items()],
            "extensions": [repr(e) for e in ws.protocol.extensions]})
    for i in range(4):
        m = await ws.recv()
        ev(ws, dict(event="received", index=i, **describe(m)))
        await ws.send(m)
        ev(ws, dict(event="sent", index=i, **describe(m)))
    ev(ws, {"event": "closing", "code": 4001, "reason": "done by server"})
    await ws.close(4001, "done by server")
    ev(ws, {"event": "closed", "close_sent": frame_close(ws.protocol.close_sent),
            "close_rcvd": frame_close(ws.protocol.close_rcvd),
            "close_rcvd_then_sent": ws.protocol.close_rcvd_then_sent})


async def never(ws):   # the refusing server never gets past the handshake
    ev(ws, {"event": "unexpected-accept"})


def hostport(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--page", required=True)
    ap.add_argument("--ws", required=True)
    ap.add_argument("--refuse", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    ws_url = f"ws://{a.ws}/echo"
    refuse_url = f"ws://{a.refuse}/refused"
    httpd = Threaded(hostport(a.page), page_handler(a.log, ws_url, refuse_url))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    h, p = hostport(a.ws)
    rh, rp = hostport(a.refuse)
    async with serve(echo_then_close, h, p, compression="deflate", max_size=2 * BIG,
                     ping_interval=None, create_connection=logging_connection(a.log, "ws")), \
            serve(never, rh, rp, origins=[REFUSED_ONLY], ping_interval=None,
                  create_connection=logging_connection(a.log, "refuse")):
        await stop
    httpd.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
