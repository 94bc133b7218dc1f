#!/usr/bin/env python3
"""WebSocket protocol violations for samples/record.sh: a raw-socket client and a raw-socket
server (no WebSocket library on the wire) that complete a real RFC 6455 upgrade handshake and
then break one rule each, one connection per case.

  ws_bad.py server HOST PORT --log PREFIX      accepts one connection per case, in order
  ws_bad.py client HOST:PORT --local-base N --log PREFIX
                                               case i connects from local port N+i
  ws_bad.py cases                              the table as JSON

Every frame either side writes is built here byte by byte (handshake keys and masking keys are
fixed per case, so the bytes repeat between runs) and logged by the side that wrote it:
PREFIX.CASE.sent (client->server bytes, as facts.py expects), PREFIX.CASE.recv (server->client)
and PREFIX.CASE.json (handshake, frames_sent with their exact hex, the case). The side that
receives a violation reacts as RFC 6455 says it must: it fails the connection with a close
frame (1002 protocol error, 1007 for invalid UTF-8) and the server closes TCP; a client that
gets a bad handshake response closes TCP without sending a frame (there is no WebSocket
connection to close).

`websockets_verdict` (in the case JSON written by `cases --verdicts`): what the Python
`websockets` library's Sans-IO parser says about the violating bytes when it is the receiver,
as a second opinion.
"""
import argparse
import base64
import hashlib
import json
import socket
import sys

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OPNAMES = {0: "continuation", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}
TIMEOUT = 10


def sha(b):
    return hashlib.sha256(b).hexdigest()


def mask_key(case, n):
    return hashlib.sha256(f"{case}/{n}".encode()).digest()[:4]


def frame(op, payload=b"", fin=True, rsv=0, key=None, length=None):
    """One frame; length= forces the 16-bit form for a short payload (non-minimal)."""
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    n = len(payload)
    mbit = 0x80 if key else 0
    if length == "16-bit" or (length is None and 126 <= n < 65536):
        head = bytes([b0, mbit | 126]) + n.to_bytes(2, "big")
    elif n >= 65536:
        head = bytes([b0, mbit | 127]) + n.to_bytes(8, "big")
    else:
        head = bytes([b0, mbit | n])
    if key:
        return head + key + bytes(x ^ key[i % 4] for i, x in enumerate(payload))
    return head + payload


def close_payload(code, reason=""):
    return code.to_bytes(2, "big") + reason.encode()


def parse(buf):
    """-> (fields, unmasked payload, frame length) or None if incomplete. Lenient: reports
    what is there (reserved opcodes, RSV bits, non-minimal lengths) without judging."""
    if len(buf) < 2:
        return None
    b0, b1 = buf[0], buf[1]
    n, off, enc = b1 & 0x7F, 2, "7-bit"
    if n == 126:
        if len(buf) < 4:
            return None
        n, off, enc = int.from_bytes(buf[2:4], "big"), 4, "16-bit"
    elif n == 127:
        if len(buf) < 10:
            return None
        n, off, enc = int.from_bytes(buf[2:10], "big"), 10, "64-bit"
    key = None
    if b1 & 0x80:
        if len(buf) < off + 4:
            return None
        key, off = bytes(buf[off:off + 4]), off + 4
    if len(buf) < off + n:
        return None
    payload = bytes(buf[off:off + n])
    if key:
        payload = bytes(x ^ key[i % 4] for i, x in enumerate(payload))
    f = {"fin": bool(b0 & 0x80), "rsv1": bool(b0 & 0x40), "rsv2": bool(b0 & 0x20),
         "rsv3": bool(b0 & 0x10), "opcode": b0 & 0x0F,
         "opcode_name": OPNAMES.get(b0 & 0x0F, "reserved"), "masked": bool(b1 & 0x80),
         "mask_key": key.hex() if key else None, "header_bytes": off, "length_field": enc,
         "payload_length": n,
         "minimal_length_encoding": not ((enc == "16-bit" and n < 126) or (enc == "64-bit" and n < 65536))}
    return f, payload, off + n


# --- the cases ------------------------------------------------------------------------------
# by: who violates; frames(case) -> the violating frames (bytes); react: close code the other
# side answers with (None: the handshake case, the client just closes TCP); echo: the violator
# answers that close (False when it already sent a close of its own).

def C(case, n):
    return mask_key(case, n)


CASES = [
    dict(case="unmasked_client_frame", by="client", react=1002, echo=True,
         rule="RFC 6455 5.1: a client MUST mask every frame it sends; the server MUST close the connection on an unmasked frame",
         frames=lambda c: [frame(1, b"hello, unmasked")]),
    dict(case="masked_server_frame", by="server", react=1002, echo=True,
         rule="RFC 6455 5.1: a server MUST NOT mask any frame; the client MUST close the connection on a masked frame",
         frames=lambda c: [frame(1, b"hello, masked by the server", key=C(c, 0))]),
    dict(case="rsv1_without_extension", by="client", react=1002, echo=True,
         rule="RFC 6455 5.2: RSV1-3 MUST be 0 unless an extension that defines them was negotiated (none was)",
         frames=lambda c: [frame(1, b"rsv1 set", rsv=4, key=C(c, 0))]),
    dict(case="reserved_opcode_0x3", by="client", react=1002, echo=True,
         rule="RFC 6455 5.2: opcodes 0x3-0x7 are reserved for further non-control frames; an unknown opcode fails the connection",
         frames=lambda c: [frame(3, b"opcode three", key=C(c, 0))]),
    dict(case="ping_126_byte_payload", by="client", react=1002, echo=True,
         rule="RFC 6455 5.5: control frames MUST have a payload length of 125 bytes or less (this one uses the 16-bit length 126)",
         frames=lambda c: [frame(9, bytes(range(126)), key=C(c, 0))]),
    dict(case="fragmented_ping", by="client", react=1002, echo=True,
         rule="RFC 6455 5.5: control frames MUST NOT be fragmented (FIN=0 on a ping)",
         frames=lambda c: [frame(9, b"fragmented ping", fin=False, key=C(c, 0))]),
    dict(case="continuation_without_start", by="client", react=1002, echo=True,
         rule="RFC 6455 5.4: a continuation frame is only valid inside a fragmented message; none was started",
         frames=lambda c: [frame(0, b"orphan continuation", key=C(c, 0))]),
    dict(case="text_inside_fragmented_message", by="client", react=1002, echo=True,
         rule="RFC 6455 5.4: the fragments of one message MUST NOT be interleaved with another data frame (a new text frame arrives before the first message's FIN)",
         frames=lambda c: [frame(1, b"first part of message 1", fin=False, key=C(c, 0)),
                           frame(1, b"a new text message", key=C(c, 1))]),
    dict(case="invalid_utf8_text", by="client", react=1007, echo=True,
         rule="RFC 6455 8.1: a text message that is not valid UTF-8 MUST fail the connection (close 1007); payload has 0xC3 0x28 and a lone 0xFF",
         frames=lambda c: [frame(1, b"bad utf-8: \xc3\x28 and \xff", key=C(c, 0))]),
    dict(case="close_code_1005_on_wire", by="client", react=1002, echo=False,
         rule="RFC 6455 7.4.1: 1005 (no status received) MUST NOT be set as a status code in a close frame",
         frames=lambda c: [frame(8, close_payload(1005), key=C(c, 0))]),
    dict(case="close_code_999", by="client", react=1002, echo=False,
         rule="RFC 6455 7.4.2: status codes 0-999 are not used; a close frame carrying one is invalid",
         frames=lambda c: [frame(8, close_payload(999, "nine nine nine"), key=C(c, 0))]),
    dict(case="close_payload_1_byte", by="client", react=1002, echo=False,
         rule="RFC 6455 5.5.1: a close frame's body, if any, MUST start with a 2-byte status code; a 1-byte body is invalid",
         frames=lambda c: [frame(8, b"\x03", key=C(c, 0))]),
    dict(case="non_minimal_length", by="client", react=1002, echo=True,
         rule="RFC 6455 5.2: the minimal number of bytes MUST be used to encode the length (126 + 16-bit length 5 for a 5-byte payload)",
         frames=lambda c: [frame(1, b"hello", key=C(c, 0), length="16-bit")]),
    dict(case="frames_after_close", by="client", react=1000, echo=False,
         rule="RFC 6455 5.5.1: after sending a close frame an endpoint MUST NOT send any more data frames (a text frame follows the close)",
         frames=lambda c: [frame(8, close_payload(1000, "bye"), key=C(c, 0)),
                           frame(1, b"data after my close", key=C(c, 1))]),
    dict(case="wrong_accept", by="server", react=None, echo=False, handshake="wrong_accept",
         rule="RFC 6455 4.1: if Sec-WebSocket-Accept is not base64(SHA-1(key + GUID)) the client MUST fail the connection",
         frames=lambda c: []),
    dict(case="subprotocol_not_offered", by="server", react=None, echo=False,
         handshake="subprotocol_not_offered", offer_protocol="chat",
         rule="RFC 6455 4.1: a Sec-WebSocket-Protocol value the client did not offer MUST fail the connection (offered 'chat', got 'superchat')",
         frames=lambda c: []),
]
BY_NAME = {c["case"]: c for c in CASES}


def ws_key(case):
    return base64.b64encode(hashlib.sha256(b"key/" + case.encode()).digest()[:16]).decode()


def accept_for(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def handshake_request(case, host):
    c = BY_NAME[case]
    lines = [f"GET /bad/{case} HTTP/1.1", f"Host: {host}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {ws_key(case)}",
             "Sec-WebSocket-Version: 13"]
    if c.get("offer_protocol"):
        lines.append(f"Sec-WebSocket-Protocol: {c['offer_protocol']}")
    lines.append("User-Agent: hopscope-ws-bad/1")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def handshake_response(case, key):
    c = BY_NAME[case]
    acc = accept_for(key)
    if c.get("handshake") == "wrong_accept":
        acc = accept_for(key + "x")   # well-formed, but for another key
    lines = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Accept: {acc}"]
    if c.get("handshake") == "subprotocol_not_offered":
        lines.append("Sec-WebSocket-Protocol: superchat")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Side:
    def __init__(self, sock, role, case):
        self.sock, self.role, self.case = sock, role, case
        self.sent, self.recv, self.buf = bytearray(), bytearray(), bytearray()
        self.frames, self.frames_in, self.eof = [], [], False
        self.hs_done = False

    def send(self, data, note=None):
        if self.hs_done:
            f, payload, _ = parse(data)
            e = {"direction": "client->server" if self.role == "client" else "server->client",
                 "index": len(self.frames), "stream_offset": len(self.sent)}
            e.update(f)
            e.update(frame_hex=data.hex(), payload_sha256=sha(payload))
            if len(payload) <= 64:
                try:
                    e["payload_text"] = payload.decode()
                except UnicodeDecodeError:
                    e["payload_hex"] = payload.hex()
            if f["opcode"] == 8:
                e["close_code"] = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
                e["close_reason"] = payload[2:].decode("utf-8", "replace") if len(payload) > 2 else ""
            e["message"] = None
            if note:
                e["note"] = note
            self.frames.append(e)
        self.sock.sendall(data)
        self.sent += data

    def fill(self):
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            raise SystemExit(f"{self.role} {self.case}: timed out")
        except ConnectionResetError:
            d = b""
        if not d:
            self.eof = True
        self.recv += d
        self.buf += d

    def read_head(self):
        while b"\r\n\r\n" not in self.buf:
            self.fill()
            if self.eof:
                raise SystemExit(f"{self.role} {self.case}: EOF in the handshake")
        end = self.buf.index(b"\r\n\r\n") + 4
        head = bytes(self.buf[:end])
        del self.buf[:end]
        return head

    def read_frame(self):
        while True:
            p = parse(self.buf)
            if p:
                f, payload, n = p
                del self.buf[:n]
                self.frames_in.append(f)
                return f, payload
            if self.eof:
                raise SystemExit(f"{self.role} {self.case}: EOF while reading a frame")
            self.fill()

    def read_eof(self):
        while not self.eof:
            self.fill()
        if self.buf:
            raise SystemExit(f"{self.role} {self.case}: {len(self.buf)} unexpected bytes")


def headers_of(head):
    lines = head.decode("latin-1").split("\r\n")[:-2]
    return lines[0], [[x.strip() for x in l.split(":", 1)] for l in lines[1:]]


def run_case(side, c):
    """The same script on both sides; each side does its part."""
    name, me = c["case"], side.role
    violator, reactor = c["by"], ("server" if c["by"] == "client" else "client")
    bad = c["frames"](name)
    if c["react"] is None:           # a bad handshake response: the client fails it
        if me == "client":
            side.sock.close()        # no WebSocket connection exists: just close TCP
        else:
            side.read_eof()
            side.sock.close()
        return
    nreact = 0
    if me == violator:
        for b in bad:
            side.send(b, note="the violation")
        # the reactor's close
        f, payload = side.read_frame()
        assert f["opcode"] == 8, f
        if c["echo"]:
            side.send(frame(8, payload, key=mask_key(name, 9) if me == "client" else None),
                      note="echo of the peer's close")
    else:
        for _ in bad:
            side.read_frame()
        code = c["react"]
        reason = {1002: "protocol error", 1007: "invalid UTF-8", 1000: "bye"}[code]
        side.send(frame(8, close_payload(code, reason), key=mask_key(name, 8) if me == "client" else None),
                  note="the reaction: fail the connection" if code != 1000 else "the reply to the close")
        if c["echo"]:
            side.read_frame()
    # the server closes TCP first; the client waits for it
    if me == "server":
        side.sock.shutdown(socket.SHUT_WR)
        side.read_eof()
    else:
        side.read_eof()
    side.sock.close()


def write_log(prefix, side, hs):
    c2s, s2c = (side.sent, side.recv) if side.role == "client" else (side.recv, side.sent)
    open(prefix + ".sent", "wb").write(c2s)
    open(prefix + ".recv", "wb").write(s2c)
    out = {"role": side.role, "handshake": hs, "frames_sent": side.frames,
           "frames_read": side.frames_in, "case": side.case}
    with open(prefix + ".json", "w") as f:
        json.dump(out, f, indent=1)


def hs_info(req, resp):
    rl, rh = headers_of(req)
    sl, sh = headers_of(resp)
    return {"request_line": rl, "request_headers": rh, "request_bytes": len(req),
            "response_line": sl, "response_headers": sh, "response_bytes": len(resp)}


def client(a):
    host, port = a.connect.rsplit(":", 1)
    for i, c in enumerate(CASES):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.bind((a.local_host, a.local_base + i))
        s.settimeout(TIMEOUT)
        s.connect((host, int(port)))
        side = Side(s, "client", c["case"])
        req = handshake_request(c["case"], a.connect)
        side.send(req)
        resp = side.read_head()
        _, hdrs = headers_of(resp)
        h = {k.lower(): v for k, v in hdrs}
        checks = {"accept_valid": h.get("sec-websocket-accept") == accept_for(ws_key(c["case"])),
                  "subprotocol_offered": h.get("sec-websocket-protocol") in (None, c.get("offer_protocol"))}
        side.hs_done = True
        run_case(side, c)
        hs = hs_info(req, resp)
        hs["client_checks"] = checks
        write_log(f"{a.log}.{c['case']}", side, hs)


def server(a):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.host, a.port))
    ls.listen(4)
    for c in CASES:
        s, peer = ls.accept()
        s.settimeout(TIMEOUT)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        side = Side(s, "server", c["case"])
        req = side.read_head()
        line, hdrs = headers_of(req)
        assert line == f"GET /bad/{c['case']} HTTP/1.1", line
        key = {k.lower(): v for k, v in hdrs}["sec-websocket-key"]
        resp = handshake_response(c["case"], key)
        side.send(resp)
        side.hs_done = True
        run_case(side, c)
        hs = hs_info(req, resp)
        hs["peer"] = f"{peer[0]}:{peer[1]}"
        write_log(f"{a.log}.{c['case']}", side, hs)
        open(f"{a.log}.{c['case']}.done", "w").close()


def verdict(c):
    """What the websockets library (Sans-IO) does with the violating bytes as the receiver."""
    from websockets.client import ClientProtocol
    from websockets.frames import Close
    from websockets.protocol import Protocol, Side as WSide, State
    from websockets.uri import parse_uri
    name = c["case"]
    if c["react"] is None:
        p = ClientProtocol(parse_uri(f"ws://127.0.0.1/bad/{name}"),
                           subprotocols=[c["offer_protocol"]] if c.get("offer_protocol") else None)
        p.key = ws_key(name)
        p.receive_data(handshake_response(name, ws_key(name)))
        p.events_received()
        return {"handshake_error": f"{type(p.handshake_exc).__name__}: {p.handshake_exc}"
                if p.handshake_exc else None, "state": p.state.name}
    side = WSide.SERVER if c["by"] == "client" else WSide.CLIENT
    p = Protocol(side, state=State.OPEN)
    events = []
    for b in c["frames"](name):
        p.receive_data(b)
        events += [f"{e.opcode.name} fin={e.fin} {len(e.data)} B" for e in p.events_received()]
    sent = [parse(bytes(d)) for d in p.data_to_send() if d]
    close = None
    for f in sent:
        if f and f[0]["opcode"] == 8:
            cl = Close.parse(f[1])
            close = {"code": cl.code, "reason": cl.reason}
    exc = p.parser_exc
    return {"receiver": side.name.lower(), "events": events,
            "error": f"{type(exc).__name__}: {exc}" if exc else None,
            "would_send_close": close, "state": p.state.name,
            "note": "text payloads are checked for UTF-8 by the library's connection layer, "
                    "not by this frame parser" if name == "invalid_utf8_text" and not exc else None}


def cases_json(with_verdicts):
    out = []
    for i, c in enumerate(CASES):
        e = {k: v for k, v in c.items() if k != "frames"}
        e["index"] = i
        e["violating_frames_hex"] = [b.hex() for b in c["frames"](c["case"])]
        if with_verdicts:
            e["websockets_verdict"] = verdict(c)
        out.append(e)
    return out


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("server")
    s.add_argument("host")
    s.add_argument("port", type=int)
    s.add_argument("--log", required=True)
    c = sub.add_parser("client")
    c.add_argument("connect")
    c.add_argument("--local-host", default="127.0.0.1")
    c.add_argument("--local-base", type=int, required=True)
    c.add_argument("--log", required=True)
    k = sub.add_parser("cases")
    k.add_argument("--verdicts", action="store_true")
    a = ap.parse_args()
    if a.cmd == "server":
        server(a)
    elif a.cmd == "client":
        client(a)
    else:
        print(json.dumps(cases_json(a.verdicts), indent=1))


if __name__ == "__main__":
    sys.exit(main())
