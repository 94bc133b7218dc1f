#!/usr/bin/env python3
"""Frame-level WebSocket client and server for samples/record.sh (the Sans-IO protocol objects
of the Python `websockets` library, over plain blocking sockets).

The asyncio API of `websockets` decides the framing itself; these scripts call the protocol's
send_text/send_binary/send_continuation/send_ping/send_pong/send_close one frame at a time, so
a sample can hold fragmented messages, control frames between fragments, an empty final
continuation frame, unsolicited pongs and a chosen close code. Every frame a side sends is
logged by that side: the API call (what was asked for) and the frame as it left the socket
(parsed back from the bytes this program wrote: FIN, RSV bits, opcode, mask bit and key,
length encoding, payload length, sha256 of the unmasked payload). Those logs, not a
dissector, are where the sample facts come from.

  ws_frames.py server HOST PORT --log PREFIX [--count N]
      Accepts N connections (default 1) one after the other; the request path picks the script
      (/features, /deflate-takeover, /deflate-no-takeover). Offers permessage-deflate to
      clients that ask for it (ServerPerMessageDeflateFactory with its defaults).
      Logs connection n to PREFIX.n.sent (client->server bytes, as facts.py expects),
      PREFIX.n.recv (server->client bytes), PREFIX.n.json (frames, messages, handshake).
  ws_frames.py client URI --local HOST:PORT --log PREFIX
      Runs the script named by the URI's path; logs PREFIX.sent / .recv / .json.

Scripts:
  /features            no compression. Client: a text message in 3 fragments with a ping
                       between the first two, a binary message in 3 fragments, a text message
                       ending with an empty final continuation frame, a ping with a payload, an
                       unsolicited pong, close 1001 "going away". Server: echoes message 1 in
                       one frame, message 2 in 2 fragments with a ping of its own between them,
                       message 3 as a full first frame plus an empty final continuation,
                       answers the client's unsolicited pong with one of its own; the library
                       answers pings and echoes the close.
  /deflate-takeover    permessage-deflate as offered by default (context takeover). Client: the
  /deflate-no-takeover same text 4 times, a compressed text in 3 fragments, one text sent
                       WITHOUT compression (RSV1=0) on the compressed connection, a binary
                       message, close 1000. Server: echoes every message the same way (the
                       uncompressed one uncompressed). -no-takeover offers
                       client_no_context_takeover, server_no_context_takeover and
                       server_max_window_bits=10.
The uncompressed message: `websockets` has no per-message compression switch, so that frame is
serialized by the library's Frame.serialize without the extension (the negotiated compressor is
not touched, as RFC 7692 section 6 allows).
"""
import argparse
import hashlib
import json
import socket
import sys

from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import (ClientPerMessageDeflateFactory,
                                                      ServerPerMessageDeflateFactory)
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

OPNAMES = {0: "continuation", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}
TIMEOUT = 10


def sha(b):
    return hashlib.sha256(b).hexdigest()


def parse_frame(b):
    """A frame this program serialized -> its header fields and unmasked payload."""
    b0, b1 = b[0], b[1]
    n, off, enc = b1 & 0x7F, 2, "7-bit"
    if n == 126:
        n, off, enc = int.from_bytes(b[2:4], "big"), 4, "16-bit"
    elif n == 127:
        n, off, enc = int.from_bytes(b[2:10], "big"), 10, "64-bit"
    key = None
    if b1 & 0x80:
        key, off = b[off:off + 4], off + 4
    payload = b[off:off + n]
    assert len(payload) == n and off + n == len(b), "one write = one frame"
    if key:
        payload = bytes(x ^ key[i % 4] for i, x in enumerate(payload))
    return {"fin": bool(b0 & 0x80), "rsv1": bool(b0 & 0x40), "rsv2": bool(b0 & 0x20),
            "rsv3": bool(b0 & 0x10), "opcode": b0 & 0x0F,
            "opcode_name": OPNAMES.get(b0 & 0x0F, "reserved"), "masked": bool(b1 & 0x80),
            "mask_key": key.hex() if key else None, "header_bytes": off,
            "length_field": enc, "payload_length": n}, payload


def describe(payload, limit=64):
    try:
        t = payload.decode()
        return {"payload_text": t} if len(payload) <= limit else {}
    except UnicodeDecodeError:
        return {"payload_hex": payload.hex()} if len(payload) <= limit else {}


class Peer:
    def __init__(self, sock, proto, side):
        self.sock, self.proto, self.side = sock, proto, side
        self.sent, self.recv = bytearray(), bytearray()   # this side's writes / reads
        self.frames, self.received, self.calls = [], [], []
        self.open_msg = None          # index of this side's message being fragmented
        self.msgs = []                # this side's messages
        self.rx_msgs, self.rx_open = [], None
        self.eof = False
        self.handshake_done = False
        self.app_data = {}            # message index -> the payload this side asked to send

    # -- sending ------------------------------------------------------------------------------
    def flush(self):
        for data in self.proto.data_to_send():
            if data == b"":
                self.sock.shutdown(socket.SHUT_WR)
                self.calls.append({"call": "eof (TCP FIN after the closing handshake)"})
                continue
            if self.handshake_done:
                self.log_frame(data)
            self.sock.sendall(data)
            self.sent += data

    def log_frame(self, data, note=None):
        hdr, payload = parse_frame(data)
        f = {"direction": "client->server" if self.side == "client" else "server->client",
             "index": len(self.frames), "stream_offset": len(self.sent)}
        f.update(hdr)
        f["payload_sha256"] = sha(payload)
        f.update(describe(payload))
        op = hdr["opcode"]
        if op == 8:
            if len(payload) >= 2:
                f["close_code"] = int.from_bytes(payload[:2], "big")
                f["close_reason"] = payload[2:].decode()
            else:
                f["close_code"] = None
        if op in (0, 1, 2):
            if op != 0:
                self.open_msg = len(self.msgs)
                self.msgs.append({"direction": f["direction"], "index": self.open_msg,
                                  "type": OPNAMES[op], "frames": [], "compressed": hdr["rsv1"],
                                  "wire_payload_bytes": 0, "control_frames_inside": [],
                                  "_wire": bytearray()})
            m = self.msgs[self.open_msg]
            m["frames"].append(f["index"])
            m["wire_payload_bytes"] += hdr["payload_length"]
            m["_wire"] += payload
            f["message"] = self.open_msg
            if hdr["fin"]:
                self.open_msg = None
        else:
            f["message"] = None
            if self.open_msg is not None:
                self.msgs[self.open_msg]["control_frames_inside"].append(f["index"])
        if note:
            f["note"] = note
        self.frames.append(f)

    def call(self, what, data=b"", **kw):
        """One protocol send call; records what was asked for (the uncompressed payload)."""
        c = {"call": what, "data_bytes": len(data), "data_sha256": sha(data)}
        c.update(kw)
        self.calls.append(c)
        if what in ("send_text", "send_binary", "send_continuation", "send_raw"):
            if what != "send_continuation":
                self.app_data[len(self.msgs)] = bytearray()
                key = len(self.msgs)
            else:
                key = self.open_msg
            self.app_data[key] += data
        if what == "send_raw":
            # a data frame serialized without the negotiated extension (not compressed)
            op = Opcode.TEXT if kw["opcode"] == "text" else Opcode.BINARY
            frame = Frame(op, data, kw.get("fin", True))
            raw = frame.serialize(mask=self.side == "client", extensions=[])
            self.log_frame(raw, note="serialized without the permessage-deflate extension")
            self.sock.sendall(raw)
            self.sent += raw
            return
        fn = getattr(self.proto, what)
        fn(data, **{k: v for k, v in kw.items() if k in ("fin",)}) if what != "send_close" \
            else fn(kw["code"], kw["reason"])
        self.flush()

    # -- receiving ----------------------------------------------------------------------------
    def pump(self, done, what):
        """Read until done() is true (bounded by the socket timeout)."""
        while not done():
            if self.eof:
                raise SystemExit(f"{self.side}: connection closed while waiting for {what}")
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise SystemExit(f"{self.side}: timed out waiting for {what}")
            if data:
                self.recv += data
                self.proto.receive_data(data)
            else:
                self.eof = True
                self.proto.receive_eof()
            for ev in self.proto.events_received():
                self.event(ev)
            self.flush()

    def event(self, ev):
        if isinstance(ev, (Request, Response)):
            self.handshake_event = ev
            return
        r = {"index": len(self.received), "opcode": int(ev.opcode),
             "opcode_name": OPNAMES.get(int(ev.opcode), "reserved"), "fin": ev.fin,
             "data_bytes": len(ev.data), "data_sha256": sha(bytes(ev.data))}
        if ev.opcode == Opcode.CLOSE:
            c = Close.parse(ev.data) if ev.data else None
            r["close_code"], r["close_reason"] = (c.code, c.reason) if c else (None, "")
        self.received.append(r)
        if ev.opcode in (Opcode.TEXT, Opcode.BINARY):
            self.rx_open = bytearray(ev.data)
            self.rx_type = OPNAMES[int(ev.opcode)]
        elif ev.opcode == Opcode.CONT:
            self.rx_open += ev.data
        if ev.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT) and ev.fin:
            self.rx_msgs.append({"type": self.rx_type, "data": bytes(self.rx_open)})
            self.rx_open = None

    def got(self, opname, data=None):
        return lambda: any(r["opcode_name"] == opname and (data is None or r["data_sha256"] == sha(data))
                           for r in self.received)

    def got_msgs(self, n):
        return lambda: len(self.rx_msgs) >= n

    # -- the log ------------------------------------------------------------------------------
    def write_log(self, prefix, role, hs):
        for m in self.msgs:
            data = bytes(self.app_data[m["index"]])
            m["fragments"] = len(m["frames"])
            m["wire_payload_sha256"] = sha(bytes(m.pop("_wire")))
            m["payload_bytes"] = len(data)
            m["sha256"] = sha(data)
            m.update({k: v for k, v in describe(data).items()})
        c2s, s2c = (self.sent, self.recv) if role == "client" else (self.recv, self.sent)
        with open(prefix + ".sent", "wb") as f:
            f.write(c2s)
        with open(prefix + ".recv", "wb") as f:
            f.write(s2c)
        out = {"role": role, "handshake": hs, "frames_sent": self.frames,
               "messages_sent": self.msgs, "calls": self.calls,
               "frames_received": self.received,
               "messages_received": [{"type": m["type"], "bytes": len(m["data"]),
                                      "sha256": sha(m["data"])} for m in self.rx_msgs],
               "client_bytes": len(c2s), "server_bytes": len(s2c),
               "client_sha256": sha(c2s), "server_sha256": sha(s2c)}
        with open(prefix + ".json", "w") as f:
            json.dump(out, f, indent=1)


def head_info(raw, kind):
    end = raw.index(b"\r\n\r\n") + 4
    lines = raw[:end - 4].decode("latin-1").split("\r\n")
    hdrs = [[p.strip() for p in l.split(":", 1)] for l in lines[1:]]
    return {kind + "_line": lines[0], kind + "_headers": hdrs, kind + "_bytes": end}


TEXT4 = ('{"event":"tick","symbol":"HOPS","price":101.25,"volume":1200,'
         '"note":"the same message again, so a shared compression context makes it small"}')


def client_script(p, path):
    if path == "/features":
        p.call("send_text", b"Hello, ", fin=False)
        p.call("send_ping", b"between fragments")
        p.call("send_continuation", b"fragmented ", fin=False)
        p.call("send_continuation", b"world!", fin=True)
        p.pump(lambda: p.got_msgs(1)() and p.got("pong", b"between fragments")(), "echo 1 + pong")
        p.call("send_binary", bytes(range(100)), fin=False)
        p.call("send_continuation", bytes(range(200)), fin=False)
        p.call("send_continuation", bytes(255 - (i % 256) for i in range(300)), fin=True)
        p.pump(p.got_msgs(2), "echo 2")
        p.call("send_text", "ends with an empty continuation frame \u2713".encode(), fin=False)
        p.call("send_continuation", b"", fin=True)
        p.pump(p.got_msgs(3), "echo 3")
        p.call("send_ping", b"ping-payload-0123456789")
        p.pump(p.got("pong", b"ping-payload-0123456789"), "pong")
        p.call("send_pong", b"unsolicited pong")
        p.pump(p.got("pong", b"server's unsolicited pong"), "the server's pong")
        p.call("send_close", code=1001, reason="going away")
    else:
        t = TEXT4.encode()
        for i in range(4):
            p.call("send_text", t)
            p.pump(p.got_msgs(i + 1), f"echo {i + 1}")
        p.call("send_text", t[:50], fin=False)
        p.call("send_continuation", t[50:100], fin=False)
        p.call("send_continuation", t[100:], fin=True)
        p.pump(p.got_msgs(5), "echo 5")
        p.call("send_raw", b"this message is not compressed (RSV1 clear) " * 3, opcode="text")
        p.pump(p.got_msgs(6), "echo 6")
        p.call("send_binary", bytes(range(256)) * 4)
        p.pump(p.got_msgs(7), "echo 7")
        p.call("send_close", code=1000, reason="done")
    p.pump(lambda: p.eof, "the server's close and TCP FIN")


def server_script(p, path):
    if path == "/features":
        p.pump(p.got_msgs(1), "message 1")
        p.call("send_text", p.rx_msgs[0]["data"])
        p.pump(p.got_msgs(2), "message 2")
        d = p.rx_msgs[1]["data"]
        p.call("send_binary", d[:250], fin=False)
        p.call("send_ping", b"server ping")
        p.call("send_continuation", d[250:], fin=True)
        p.pump(lambda: p.got_msgs(3)() and p.got("pong", b"server ping")(), "message 3 + pong")
        p.call("send_text", p.rx_msgs[2]["data"], fin=False)
        p.call("send_continuation", b"", fin=True)
        p.pump(p.got("pong", b"unsolicited pong"), "the client's unsolicited pong")
        p.call("send_pong", b"server's unsolicited pong")
    else:
        for i in range(4):
            p.pump(p.got_msgs(i + 1), f"message {i + 1}")
            p.call("send_text", p.rx_msgs[i]["data"])
        p.pump(p.got_msgs(5), "message 5")
        d = p.rx_msgs[4]["data"]
        p.call("send_text", d[:50], fin=False)
        p.call("send_continuation", d[50:100], fin=False)
        p.call("send_continuation", d[100:], fin=True)
        p.pump(p.got_msgs(6), "message 6")
        p.call("send_raw", p.rx_msgs[5]["data"], opcode="text")
        p.pump(p.got_msgs(7), "message 7")
        p.call("send_binary", p.rx_msgs[6]["data"])
    # the library answers the close (same code and reason) and then sends EOF
    p.pump(lambda: p.eof, "the client's close and TCP FIN")


def run_client(a):
    uri = parse_uri(a.uri)
    path = uri.resource_name
    exts = None
    if path == "/deflate-takeover":
        exts = [ClientPerMessageDeflateFactory()]
    elif path == "/deflate-no-takeover":
        exts = [ClientPerMessageDeflateFactory(client_no_context_takeover=True,
                                               server_no_context_takeover=True,
                                               server_max_window_bits=10)]
    host, port = a.local.rsplit(":", 1)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, int(port)))
    sock.settimeout(TIMEOUT)
    sock.connect((uri.host, uri.port))
    proto = ClientProtocol(uri, extensions=exts)
    p = Peer(sock, proto, "client")
    proto.send_request(proto.connect())
    p.flush()
    p.pump(lambda: hasattr(p, "handshake_event"), "the handshake response")
    if proto.handshake_exc:
        raise SystemExit(f"handshake failed: {proto.handshake_exc}")
    p.handshake_done = True
    hs = head_info(bytes(p.sent), "request")
    hs.update(head_info(bytes(p.recv), "response"))
    hs["extensions"] = [type(e).__name__ for e in proto.extensions]
    client_script(p, path)
    sock.close()
    p.write_log(a.log, "client", hs)


def run_server(a):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.host, a.port))
    ls.listen(4)
    for n in range(1, a.count + 1):
        sock, peer = ls.accept()
        sock.settimeout(TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        proto = ServerProtocol(extensions=[ServerPerMessageDeflateFactory()])
        p = Peer(sock, proto, "server")
        p.pump(lambda: hasattr(p, "handshake_event"), "the handshake request")
        req = p.handshake_event
        proto.send_response(proto.accept(req))
        p.flush()
        p.handshake_done = True
        hs = head_info(bytes(p.recv), "request")
        hs.update(head_info(bytes(p.sent), "response"))
        hs["extensions"] = [type(e).__name__ for e in proto.extensions]
        hs["peer"] = f"{peer[0]}:{peer[1]}"
        server_script(p, req.path)
        sock.close()
        p.write_log(f"{a.log}.{n}", "server", hs)
        open(f"{a.log}.{n}.done", "w").close()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("server")
    s.add_argument("host")
    s.add_argument("port", type=int)
    s.add_argument("--log", required=True)
    s.add_argument("--count", type=int, default=1)
    c = sub.add_parser("client")
    c.add_argument("uri")
    c.add_argument("--local", required=True)
    c.add_argument("--log", required=True)
    a = ap.parse_args()
    run_server(a) if a.cmd == "server" else run_client(a)


if __name__ == "__main__":
    sys.exit(main())
