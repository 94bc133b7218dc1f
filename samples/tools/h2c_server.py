#!/usr/bin/env python3
"""HTTP/2 cleartext server with the HTTP/1.1 Upgrade: h2c path (RFC 7540 section 3.2), for
samples/record.sh; built on the Python `h2` library (sans-IO) over a plain socket.

  h2c_server.py HOST PORT --log PREFIX [--count N]
      Serves N connections (default 1). Connection n's bytes are logged as the server read and
      wrote them: PREFIX.n.sent (client->server, as facts.py expects), PREFIX.n.recv
      (server->client), PREFIX.n.events.json (the h2 library's events, in order).
  h2c_server.py frames PREFIX.n > JSON
      The HTTP/2 frames in both logged streams (hyperframe, HPACK-decoded header blocks), the
      frame counts per type and direction, and the streams with their :path and :status.

Answers GET /NAME with a small text body (200) and anything else with 404. The request that
carried the Upgrade becomes stream 1, answered over HTTP/2 after the 101 (RFC 7540 3.2).
"""
import argparse
import base64
import hashlib
import json
import socket
import sys
from collections import Counter

import h2.config
import h2.connection
import h2.events
import hpack
from hyperframe.frame import Frame

TIMEOUT = 10
BODIES = {"/one.txt": b"".join(b"stream one line %03d\n" % i for i in range(40)),
          "/two.json": json.dumps({"items": [{"id": i, "name": f"item-{i}"} for i in range(50)]}).encode()}


def sha(b):
    return hashlib.sha256(b).hexdigest()


def serve(conn, n, prefix):
    c2s, s2c = bytearray(), bytearray()
    events = []

    def send(b):
        conn.sendall(b)
        s2c.extend(b)

    buf = bytearray()
    while b"\r\n\r\n" not in buf:
        d = conn.recv(65536)
        if not d:
            raise SystemExit("EOF before the upgrade request")
        buf += d
        c2s += d
    end = buf.index(b"\r\n\r\n") + 4
    head = bytes(buf[:end]).decode("latin-1").split("\r\n")
    req_line = head[0]
    hdrs = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in head[1:] if l}
    if hdrs.get("upgrade", "").lower() != "h2c" or "http2-settings" not in hdrs:
        raise SystemExit(f"not an h2c upgrade request: {head}")
    method, path, _ = req_line.split(" ")
    send(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
    h2c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    h2c.initiate_upgrade_connection(hdrs["http2-settings"])
    send(h2c.data_to_send())
    rest = bytes(buf[end:])

    def respond(stream_id, path):
        body = BODIES.get(path, b"not found\n")
        status = "200" if path in BODIES else "404"
        ctype = "application/json" if path.endswith(".json") else "text/plain"
        h2c.send_headers(stream_id, [(":status", status), ("content-type", ctype),
                                     ("content-length", str(len(body))),
                                     ("server", "hopscope-h2c/1")])
        h2c.send_data(stream_id, body, end_stream=True)
        send(h2c.data_to_send())
        events.append({"event": "ResponseSent", "stream_id": stream_id, "status": int(status),
                       "body_bytes": len(body), "body_sha256": sha(body)})

    respond(1, path)
    events.insert(0, {"event": "UpgradeRequest", "stream_id": 1, "method": method, "path": path})
    pending = rest
    closed = False
    while not closed:
        if pending:
            d, pending = pending, b""
        else:
            d = conn.recv(65536)
            c2s += d
        if not d:
            break
        for ev in h2c.receive_data(d):
            e = {"event": type(ev).__name__}
            if isinstance(ev, h2.events.RequestReceived):
                hh = {k.decode() if isinstance(k, bytes) else k: v.decode() if isinstance(v, bytes) else v
                      for k, v in ev.headers}
                e.update(stream_id=ev.stream_id, headers=[[k, v] for k, v in hh.items()])
                events.append(e)
                respond(ev.stream_id, hh[":path"])
                continue
            if isinstance(ev, h2.events.ConnectionTerminated):
                e.update(error_code=int(ev.error_code), last_stream_id=ev.last_stream_id)
                closed = True
            if hasattr(ev, "stream_id"):
                e["stream_id"] = ev.stream_id
            events.append(e)
        send(h2c.data_to_send())
    # read what is left until the client closes
    while True:
        d = conn.recv(65536)
        if not d:
            break
        c2s += d
    conn.close()
    with open(f"{prefix}.{n}.sent", "wb") as f:
        f.write(c2s)
    with open(f"{prefix}.{n}.recv", "wb") as f:
        f.write(s2c)
    with open(f"{prefix}.{n}.events.json", "w") as f:
        json.dump(events, f, indent=1)


def server(a):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.host, a.port))
    ls.listen(4)
    for n in range(1, a.count + 1):
        c, _ = ls.accept()
        c.settimeout(TIMEOUT)
        serve(c, n, a.log)
        open(f"{a.log}.{n}.done", "w").close()


TYPE_NAMES = {0: "DATA", 1: "HEADERS", 2: "PRIORITY", 3: "RST_STREAM", 4: "SETTINGS",
              5: "PUSH_PROMISE", 6: "PING", 7: "GOAWAY", 8: "WINDOW_UPDATE", 9: "CONTINUATION"}


SETTING_NAMES = {1: "HEADER_TABLE_SIZE", 2: "ENABLE_PUSH", 3: "MAX_CONCURRENT_STREAMS",
                 4: "INITIAL_WINDOW_SIZE", 5: "MAX_FRAME_SIZE", 6: "MAX_HEADER_LIST_SIZE",
                 8: "ENABLE_CONNECT_PROTOCOL"}


def settings_list(items):
    return [{"id": int(k), "name": SETTING_NAMES.get(int(k), "UNKNOWN"), "value": v} for k, v in items]


def frames_of(data, off, dec):
    out, pos = [], off
    block = {}
    while pos + 9 <= len(data):
        f, length = Frame.parse_frame_header(memoryview(data[pos:pos + 9]))
        f.parse_body(memoryview(data[pos + 9:pos + 9 + length]))
        e = {"index": len(out), "stream_offset": pos,
             "type": TYPE_NAMES.get(f.type, f"UNKNOWN_{f.type}"), "type_code": f.type,
             "flags": sorted(f.flags), "stream_id": f.stream_id, "length": length}
        t = e["type"]
        if t == "SETTINGS":
            e["settings"] = settings_list(f.settings.items())
        elif t == "WINDOW_UPDATE":
            e["window_increment"] = f.window_increment
        elif t == "GOAWAY":
            e.update(last_stream_id=f.last_stream_id, error_code=f.error_code,
                     additional_data=bytes(f.additional_data).decode("latin-1"))
        elif t == "RST_STREAM":
            e["error_code"] = f.error_code
        elif t == "DATA":
            e["data_bytes"] = len(f.data)
            e["data_sha256"] = sha(bytes(f.data))
        elif t in ("HEADERS", "CONTINUATION"):
            block.setdefault(f.stream_id, bytearray()).extend(f.data)
            if "END_HEADERS" in f.flags:
                e["headers"] = [[k, v] for k, v in dec.decode(bytes(block.pop(f.stream_id)))]
        elif t == "PING":
            e["opaque_data"] = bytes(f.opaque_data).hex()
        out.append(e)
        pos += 9 + length
    if pos != len(data):
        raise SystemExit(f"h2c frames: {len(data) - pos} trailing bytes")
    return out


def frames(a):
    c2s = open(a.prefix + ".sent", "rb").read()
    s2c = open(a.prefix + ".recv", "rb").read()
    req_end = c2s.index(b"\r\n\r\n") + 4
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    assert c2s[req_end:req_end + len(preface)] == preface, "client connection preface"
    resp_end = s2c.index(b"\r\n\r\n") + 4
    head = c2s[:req_end].decode("latin-1").split("\r\n")
    hdrs = [[x.strip() for x in l.split(":", 1)] for l in head[1:] if l]
    settings_b64 = next(v for k, v in hdrs if k.lower() == "http2-settings")
    raw = base64.urlsafe_b64decode(settings_b64 + "=" * (-len(settings_b64) % 4))
    upgrade_settings = settings_list((int.from_bytes(raw[i:i + 2], "big"),
                                      int.from_bytes(raw[i + 2:i + 6], "big"))
                                     for i in range(0, len(raw), 6))
    cf = frames_of(c2s, req_end + len(preface), hpack.Decoder())
    sf = frames_of(s2c, resp_end, hpack.Decoder())
    streams = {1: {"stream_id": 1, "opened_by": "the HTTP/1.1 upgrade request",
                   "method": head[0].split(" ")[0], "path": head[0].split(" ")[1]}}
    for f in cf:
        if f["type"] == "HEADERS" and "headers" in f:
            h = dict(f["headers"])
            streams[f["stream_id"]] = {"stream_id": f["stream_id"], "opened_by": "HEADERS frame",
                                       "method": h.get(":method"), "path": h.get(":path"),
                                       "authority": h.get(":authority"), "scheme": h.get(":scheme")}
    for sid, s in streams.items():
        body = bytearray()
        for f in sf:
            if f["stream_id"] == sid and f["type"] == "HEADERS" and "headers" in f:
                s["status"] = int(dict(f["headers"])[":status"])
            if f["stream_id"] == sid and f["type"] == "DATA":
                start = f["stream_offset"] + 9
                body += s2c[start:start + f["data_bytes"]]
        s["response_body_bytes"] = len(body)
        s["response_body_sha256"] = sha(bytes(body))
    out = {"upgrade_request_line": head[0], "upgrade_request_headers": hdrs,
           "http2_settings_header": settings_b64, "http2_settings_decoded": upgrade_settings,
           "upgrade_response": s2c[:resp_end].decode("latin-1"),
           "client_preface_offset": req_end, "client_frames_offset": req_end + len(preface),
           "server_frames_offset": resp_end,
           "frames_client_to_server": cf, "frames_server_to_client": sf,
           "frame_counts": {"client_to_server": dict(Counter(f["type"] for f in cf)),
                            "server_to_client": dict(Counter(f["type"] for f in sf))},
           "streams": [streams[k] for k in sorted(streams)],
           "source": "frames parsed (hyperframe + hpack) from the bytes h2c_server.py read and "
                     "wrote; the server's own h2 library events are in h2_events"}
    print(json.dumps(out, indent=1))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("host")
    s.add_argument("port", type=int)
    s.add_argument("--log", required=True)
    s.add_argument("--count", type=int, default=1)
    f = sub.add_parser("frames")
    f.add_argument("prefix")
    a = ap.parse_args()
    server(a) if a.cmd == "serve" else frames(a)


if __name__ == "__main__":
    sys.exit(main())
