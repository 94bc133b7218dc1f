#!/usr/bin/env python3
"""WebSocket over HTTP/2 (RFC 8441 extended CONNECT), client and server, for samples/record.sh;
Python `h2` (sans-IO) over plain sockets, cleartext prior knowledge; the WebSocket frames
(RFC 6455) inside the stream's DATA are built and parsed here.

  h2_ws.py server HOST PORT --log PREFIX
      Serves one connection. Its SETTINGS carry SETTINGS_ENABLE_CONNECT_PROTOCOL = 1. A CONNECT
      with :protocol websocket is answered 200 (sec-websocket-extensions none); each WebSocket
      frame that arrives in the stream's DATA is echoed (text and binary unmasked, ping -> pong),
      a close is answered with a close and END_STREAM. A plain GET is answered 200 with a short
      text. Logs PREFIX.sent (client->server bytes, as read), PREFIX.recv (server->client, as
      written), PREFIX.events.json (the h2 events and the WebSocket frames it parsed and sent).
  h2_ws.py client HOST:PORT --local IP:PORT --log PREFIX
      Waits for the server's SETTINGS (ENABLE_CONNECT_PROTOCOL must be 1), sends a GET / on
      stream 1, then the extended CONNECT on stream 3 (:method CONNECT, :protocol websocket,
      :scheme http, :path /chat, :authority, sec-websocket-version 13, origin), and after the
      200 the WebSocket messages: text "hello over h2", a 300-byte binary message, a ping, a text
      in two fragments, and a close 1000 "bye"; each frame is one DATA frame, masked as a client
      must. Waits for the echoes and the server's close, ends the stream, sends GOAWAY.
      Logs PREFIX.sent / PREFIX.recv (socket bytes) and PREFIX.events.json.
"""
import argparse
import json
import os
import socket
import struct
import time

import h2.config
import h2.connection
import h2.events
import h2.settings
from h2.settings import SettingCodes

OPNAMES = {0: "continuation", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}


def ws_frame(opcode, payload, fin=True, mask=None):
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head = bytes([b0, mbit | n])
    elif n < 65536:
        head = bytes([b0, mbit | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, mbit | 127]) + struct.pack(">Q", n)
    if mask:
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        head += mask
    return head + payload


def ws_parse(buf):
    """Whole frames at the start of buf -> ([frame dicts], bytes used)."""
    out, p = [], 0
    while p + 2 <= len(buf):
        b0, b1 = buf[p], buf[p + 1]
        n, q = b1 & 0x7F, p + 2
        if n == 126:
            if q + 2 > len(buf):
                break
            n, q = struct.unpack(">H", buf[q:q + 2])[0], q + 2
        elif n == 127:
            if q + 8 > len(buf):
                break
            n, q = struct.unpack(">Q", buf[q:q + 8])[0], q + 8
        mask = None
        if b1 & 0x80:
            mask, q = bytes(buf[q:q + 4]), q + 4
        if q + n > len(buf):
            break
        payload = bytes(buf[q:q + n])
        if mask:
            payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        out.append({"fin": bool(b0 & 0x80), "opcode": b0 & 0x0F, "opcode_name": OPNAMES.get(b0 & 0x0F),
                    "masked": mask is not None, "payload_length": n, "payload": payload})
        p = q + n
    return out, p


def desc(f):
    d = {k: v for k, v in f.items() if k != "payload"}
    if f["opcode"] == 8 and len(f["payload"]) >= 2:
        d["close_code"] = struct.unpack(">H", f["payload"][:2])[0]
        d["close_reason"] = f["payload"][2:].decode()
    elif f["opcode"] in (0, 1) and len(f["payload"]) <= 64:
        d["payload_text"] = f["payload"].decode("utf-8", "replace")
    return d


def text(v):
    return v.decode("latin-1") if isinstance(v, bytes) else v


class Logged:
    def __init__(self, sock):
        self.sock, self.sent, self.recv, self.events, self.t0 = sock, bytearray(), bytearray(), [], time.monotonic()

    def ev(self, d):
        d["t"] = round(time.monotonic() - self.t0, 6)
        self.events.append(d)

    def flush(self, conn):
        b = conn.data_to_send()
        if b:
            self.sock.sendall(b)
            self.sent.extend(b)

    def read(self):
        d = self.sock.recv(65536)
        self.recv.extend(d)
        return d

    def write_logs(self, prefix, c2s, s2c):
        with open(prefix + ".sent", "wb") as f:
            f.write(c2s)
        with open(prefix + ".recv", "wb") as f:
            f.write(s2c)
        with open(prefix + ".events.json", "w") as f:
            json.dump(self.events, f, indent=1)


def h2_event(e):
    x = {"event": type(e).__name__}
    if hasattr(e, "stream_id"):
        x["stream_id"] = e.stream_id
    if getattr(e, "headers", None):
        x["headers"] = [[text(k), text(v)] for k, v in e.headers]
    if isinstance(e, h2.events.DataReceived):
        x["data_bytes"] = len(e.data)
    if isinstance(e, h2.events.RemoteSettingsChanged):
        x["changed"] = [{"id": int(k), "value": v.new_value} for k, v in e.changed_settings.items()]
    if isinstance(e, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
        x["error_code"] = int(e.error_code)
    return x


def server(a):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.host, a.port))
    ls.listen(1)
    s, _ = ls.accept()
    s.settimeout(10)
    lg = Logged(s)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding=None))
    conn.local_settings = h2.settings.Settings(client=False, initial_values={
        SettingCodes.ENABLE_CONNECT_PROTOCOL: 1, SettingCodes.MAX_CONCURRENT_STREAMS: 100})
    conn.initiate_connection()
    lg.flush(conn)
    ws = {}   # stream id -> receive buffer
    done = False
    while not done:
        d = lg.read()
        if not d:
            break
        for e in conn.receive_data(d):
            lg.ev(h2_event(e))
            if isinstance(e, h2.events.RequestReceived):
                h = {text(k): text(v) for k, v in e.headers}
                if h.get(":method") == "CONNECT" and h.get(":protocol") == "websocket":
                    conn.send_headers(e.stream_id, [(":status", "200"), ("server", "hopscope-h2-ws/1")])
                    ws[e.stream_id] = bytearray()
                    lg.ev({"action": "ExtendedConnectAccepted", "stream_id": e.stream_id, "path": h[":path"]})
                else:
                    body = b"plain HTTP/2 answer next to the WebSocket\n"
                    conn.send_headers(e.stream_id, [(":status", "200"), ("content-type", "text/plain"),
                                                    ("content-length", str(len(body))),
                                                    ("server", "hopscope-h2-ws/1")])
                    conn.send_data(e.stream_id, body, end_stream=True)
            elif isinstance(e, h2.events.DataReceived):
                conn.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
                buf = ws[e.stream_id]
                buf += e.data
                frames, used = ws_parse(buf)
                del buf[:used]
                for f in frames:
                    lg.ev({"ws_received": desc(f), "stream_id": e.stream_id})
                    if f["opcode"] in (0, 1, 2):
                        out = ws_frame(f["opcode"], f["payload"], fin=f["fin"])
                    elif f["opcode"] == 9:
                        out = ws_frame(10, f["payload"])
                    elif f["opcode"] == 8:
                        out = ws_frame(8, f["payload"])
                    else:
                        continue
                    conn.send_data(e.stream_id, out, end_stream=f["opcode"] == 8)
                    lg.ev({"ws_sent": desc(ws_parse(out)[0][0]), "stream_id": e.stream_id,
                           "end_stream": f["opcode"] == 8})
            elif isinstance(e, h2.events.ConnectionTerminated):
                done = True
        lg.flush(conn)
    while True:
        try:
            d = lg.read()
        except (socket.timeout, ConnectionResetError):
            break
        if not d:
            break
    s.close()
    lg.write_logs(a.log, lg.recv, lg.sent)


def client(a):
    host, port = a.server.rsplit(":", 1)
    lh, lp = a.local.rsplit(":", 1)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((lh, int(lp)))
    s.connect((host, int(port)))
    s.settimeout(10)
    lg = Logged(s)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
    conn.initiate_connection()
    lg.flush(conn)
    # the server must say SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 before an extended CONNECT
    while conn.remote_settings.get(SettingCodes.ENABLE_CONNECT_PROTOCOL) != 1:
        d = lg.read()
        if not d:
            raise SystemExit("h2_ws: closed before the server's SETTINGS")
        for e in conn.receive_data(d):
            lg.ev(h2_event(e))
        lg.flush(conn)
    auth = a.server
    conn.send_headers(1, [(":method", "GET"), (":path", "/"), (":scheme", "http"), (":authority", auth),
                          ("user-agent", "hopscope-h2-ws/1")], end_stream=True)
    hdrs = [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"), (":path", "/chat"),
            (":authority", auth), ("sec-websocket-version", "13"), ("origin", f"http://{auth}"),
            ("user-agent", "hopscope-h2-ws/1")]
    conn.send_headers(3, hdrs)
    lg.ev({"action": "ExtendedConnectSent", "stream_id": 3, "headers": [list(h) for h in hdrs]})
    lg.flush(conn)
    masks = iter(bytes.fromhex(x) for x in ("11223344", "55667788", "99aabbcc", "01020304", "a0b0c0d0",
                                             "0f1e2d3c", "deadbeef"))
    msgs = [(1, b"hello over h2", True), (2, bytes(range(256)) + bytes(range(44)), True), (9, b"ping-1", True),
            (1, b"fragmented ", False), (0, b"message", True), (8, struct.pack(">H", 1000) + b"bye", True)]
    status, sent_ws, buf, closed, ended = None, False, bytearray(), False, {1: False, 3: False}
    while not (closed and all(ended.values())):
        d = lg.read()
        if not d:
            raise SystemExit("h2_ws: the server closed the connection")
        for e in conn.receive_data(d):
            lg.ev(h2_event(e))
            if isinstance(e, h2.events.ResponseReceived) and e.stream_id == 3:
                status = int(dict((text(k), text(v)) for k, v in e.headers)[":status"])
            elif isinstance(e, h2.events.DataReceived):
                conn.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
                if e.stream_id == 3:
                    buf += e.data
                    frames, used = ws_parse(buf)
                    del buf[:used]
                    for f in frames:
                        lg.ev({"ws_received": desc(f), "stream_id": 3})
                        closed = closed or f["opcode"] == 8
            elif isinstance(e, h2.events.StreamEnded):
                ended[e.stream_id] = True
        if status == 200 and not sent_ws:
            sent_ws = True
            for op, payload, fin in msgs:
                out = ws_frame(op, payload, fin=fin, mask=next(masks))
                last = op == 8
                conn.send_data(3, out, end_stream=last)
                lg.ev({"ws_sent": desc(ws_parse(out)[0][0]), "stream_id": 3, "end_stream": last})
                lg.flush(conn)
        lg.flush(conn)
    conn.close_connection()
    lg.ev({"action": "GoawaySent"})
    lg.flush(conn)
    s.shutdown(socket.SHUT_WR)
    while True:
        try:
            if not lg.read():
                break
        except socket.timeout:
            break
    s.close()
    lg.write_logs(a.log, lg.sent, lg.recv)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    sv = sub.add_parser("server")
    sv.add_argument("host")
    sv.add_argument("port", type=int)
    sv.add_argument("--log", required=True)
    cl = sub.add_parser("client")
    cl.add_argument("server")
    cl.add_argument("--local", required=True)
    cl.add_argument("--log", required=True)
    a = ap.parse_args()
    server(a) if a.cmd == "server" else client(a)
    if a.cmd == "server":
        open(a.log + ".done", "w").close()


if __name__ == "__main__":
    main()
