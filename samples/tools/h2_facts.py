#!/usr/bin/env python3
"""Facts for the HTTP/2 samples (details.h2_* of samples/expected.json; see samples/README.md).

  h2_facts.py capture --pcap P [--keylog K --keylog-name NAME] --server IP:PORT...
                      [--nginx-log JSONL] [--nginx-debug LOG]
                      [--curl "CLIENT PREFIX"]... [--bytes-log "CLIENT SERVER PREFIX SOURCE"]...
                      [--nghttp-log LOG] [--decode-as PORT]... [--summary-prefix JSON]
                      --tshark-out TXT --out JSON
      One object per HTTP/2 connection to a --server (details.h2_connections), from what the
      programs logged:
        * nginx's debug log (error_log ... debug): every frame nginx read (type, flags, length,
          stream id; SETTINGS values, WINDOW_UPDATE increments, RST_STREAM / GOAWAY codes), the
          request headers it decoded per stream, the response headers and trailers it encoded,
          every HEADERS / DATA frame it created and the control frames it sent; nginx's access
          log (JSON: $connection, $request_id, $status, $body_bytes_sent, $http2, ...);
        * curl's --trace (7.88 logs each request's header list as "h2h3 [name: value]" lines
          and "Using Stream ID: N"; ALPN) and, per transfer n, PREFIX.n.hdr (-D: the response
          heads), PREFIX.n.out (-o: the decoded body) and -w '%{json}' (PREFIX.w: method, URL,
          status, size_download = the body as received, size_upload);
        * --bytes-log: a program that logged the connection's exact bytes (PREFIX.sent =
          client->server, PREFIX.recv = server->client; PREFIX.events.json = its h2 library's
          events if any): its frames are parsed with hyperframe/hpack, both directions;
        * --nghttp-log: nghttp -v's frame log (every frame it sent and received, with the
          header fields) for the connection whose requests nginx's access log shows with
          nghttp's User-Agent (nghttp cannot bind a fixed client port).
      --decode-as PORT: tshark decodes cleartext TCP to PORT as HTTP/2 (-d tcp.port==PORT,http2).
      Every value two sources give is checked equal, or the command fails. tshark (with the key
      log) is the second opinion: its HTTP/2 frames per connection (written to --tshark-out
      with the command) must be the frames the programs logged: same type, flags, length and
      stream id in each direction where a program logged every frame, the same header lists,
      DATA bytes per stream, RST_STREAM codes and WINDOW_UPDATE increments.

  h2_facts.py proxy-legs --h2 JSON --backend-requests JSONL --back TX.json... --out JSON
      details.h2_proxy_legs: each HTTP/2 stream of the front connection(s) in JSON (written by
      `capture`) paired with the HTTP/1.1 request the proxy made for it, found by the
      X-Request-ID the backend received (tools/proxy_backend.py's requests log) being nginx's
      $request_id for that stream (its access log); null when nginx answered by itself (its log
      then has no upstream address). TX.json: tools/httpwire.py transactions of the backend's
      logged connections (the back legs, as in transactions[]).
"""
import argparse
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter, OrderedDict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from facts import endpoint, follow_bytes, tshark  # noqa: E402

TYPES = {0: "DATA", 1: "HEADERS", 2: "PRIORITY", 3: "RST_STREAM", 4: "SETTINGS", 5: "PUSH_PROMISE",
         6: "PING", 7: "GOAWAY", 8: "WINDOW_UPDATE", 9: "CONTINUATION"}
TYPE_CODES = {v: k for k, v in TYPES.items()}
FLAG_NAMES = {0: {1: "END_STREAM", 8: "PADDED"},
              1: {1: "END_STREAM", 4: "END_HEADERS", 8: "PADDED", 0x20: "PRIORITY"},
              4: {1: "ACK"}, 6: {1: "ACK"}, 5: {4: "END_HEADERS", 8: "PADDED"}, 9: {4: "END_HEADERS"}}
SETTINGS = {1: "HEADER_TABLE_SIZE", 2: "ENABLE_PUSH", 3: "MAX_CONCURRENT_STREAMS",
            4: "INITIAL_WINDOW_SIZE", 5: "MAX_FRAME_SIZE", 6: "MAX_HEADER_LIST_SIZE",
            8: "ENABLE_CONNECT_PROTOCOL"}
ERRORS = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR", 3: "FLOW_CONTROL_ERROR",
          4: "SETTINGS_TIMEOUT", 5: "STREAM_CLOSED", 6: "FRAME_SIZE_ERROR", 7: "REFUSED_STREAM",
          8: "CANCEL", 9: "COMPRESSION_ERROR", 10: "CONNECT_ERROR", 11: "ENHANCE_YOUR_CALM",
          12: "INADEQUATE_SECURITY", 13: "HTTP_1_1_REQUIRED"}
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def sha(b):
    return hashlib.sha256(b).hexdigest()


def rd(p):
    with open(p, "rb") as f:
        return f.read()


def flag_names(t, flags):
    return [n for bit, n in sorted(FLAG_NAMES.get(t, {}).items()) if flags & bit]


def frame(t, flags, length, sid, **kw):
    f = {"type": TYPES.get(t, f"UNKNOWN_{t}"), "type_code": t, "flags": flag_names(t, flags),
         "flags_byte": flags, "length": length, "stream_id": sid}
    f.update(kw)
    return f


def settings_list(pairs):
    return [{"id": int(k), "name": SETTINGS.get(int(k), "UNKNOWN"), "value": int(v)} for k, v in pairs]


def split_field(line):
    """'name: value' as nginx and nghttpd log a header field (pseudo-headers start with ':')."""
    i = line.index(":", 1)
    return [line[:i], line[i + 1:].lstrip(" ")]


# --- nginx ---------------------------------------------------------------------------------------

NGX = re.compile(r"^\S+ \S+ \[debug\] \d+#\d+: \*(\d+) (.*)$")


def nginx_debug(path):
    """Per nginx connection number: frames read, frames created/sent, headers per stream."""
    conns = {}

    def conn(n):
        return conns.setdefault(n, {"frames_in": [], "control_out": [], "sent": [],
                                    "streams": OrderedDict(), "out_headers": [], "out_trailers": [],
                                    "hdr_sid": None, "last_in": None})

    def stream(c, sid):
        return c["streams"].setdefault(sid, {
            "stream_id": sid, "request_headers": [], "headers_out": [], "data_out": [],
            "data_in": [], "rst_out": [], "rst_in": [], "window_updates_in": [],
            "window_updates_out": []})

    with open(path, encoding="latin-1") as f:
        for line in f:
            m = NGX.match(line.rstrip("\n"))
            if not m:
                continue
            c, msg = conn(int(m.group(1))), m.group(2)
            if not msg.startswith("http2"):
                continue
            if x := re.match(r"http2 frame type:(\d+) f:([0-9A-Fa-f]+) l:(\d+) sid:(\d+)$", msg):
                t, fl, ln, sid = int(x[1]), int(x[2], 16), int(x[3]), int(x[4])
                fr = frame(t, fl, ln, sid)
                c["frames_in"].append(fr)
                c["last_in"] = fr
                if t in (1, 9):
                    c["hdr_sid"] = sid
                    stream(c, sid)
                if t == 0:
                    stream(c, sid)["data_in"].append(ln)
            elif x := re.match(r"http2 setting (\d+):(\d+)$", msg):
                c["last_in"].setdefault("settings", []).extend(settings_list([(x[1], x[2])]))
            elif x := re.match(r"http2 WINDOW_UPDATE frame sid:(\d+) window:(\d+)$", msg):
                c["last_in"]["window_increment"] = int(x[2])
                if int(x[1]):
                    stream(c, int(x[1]))["window_updates_in"].append(int(x[2]))
            elif x := re.match(r"http2 RST_STREAM frame, sid:(\d+) status:(\d+)$", msg):
                c["last_in"]["error_code"] = int(x[2])
                stream(c, int(x[1]))["rst_in"].append(int(x[2]))
            elif x := re.match(r"http2 GOAWAY frame: last sid (\d+), error (\d+)$", msg):
                c["last_in"].update(last_stream_id=int(x[1]), error_code=int(x[2]))
            elif x := re.match(r'http2 header: "(.*)"$', msg):
                stream(c, c["hdr_sid"])["request_headers"].append(split_field(x[1]))
            elif x := re.match(r'http2 output header: "(.*)"$', msg):
                c["out_headers"].append(split_field(x[1]))
            elif x := re.match(r'http2 output trailer: "(.*)"$', msg):
                c["out_trailers"].append(split_field(x[1]))
            elif x := re.match(r"http2:(\d+) create HEADERS frame \w+: len:(\d+) fin:(\d)$", msg):
                s = stream(c, int(x[1]))
                if c["out_trailers"]:
                    kind, hdrs = "trailers", c["out_trailers"]
                else:
                    kind, hdrs = "headers", c["out_headers"]
                s["headers_out"].append({"kind": kind, "length": int(x[2]), "end_stream": x[3] == "1",
                                         "headers": hdrs})
                c["out_headers"], c["out_trailers"] = [], []
            elif x := re.match(r"http2:(\d+) create DATA frame \w+: len:(\d+) flags:(\d+)$", msg):
                stream(c, int(x[1]))["data_out"].append({"length": int(x[2]),
                                                          "end_stream": int(x[3]) & 1 == 1})
            elif x := re.match(r"http2 send RST_STREAM frame sid:(\d+), status:(\d+)$", msg):
                c["control_out"].append({"type": "RST_STREAM", "stream_id": int(x[1]),
                                         "error_code": int(x[2])})
                stream(c, int(x[1]))["rst_out"].append(int(x[2]))
            elif x := re.match(r"http2 send WINDOW_UPDATE frame sid:(\d+), window:(\d+)$", msg):
                c["control_out"].append({"type": "WINDOW_UPDATE", "stream_id": int(x[1]),
                                         "window_increment": int(x[2])})
                if int(x[1]):
                    stream(c, int(x[1]))["window_updates_out"].append(int(x[2]))
            elif msg == "http2 send SETTINGS frame":
                c["control_out"].append({"type": "SETTINGS", "stream_id": 0})
            elif x := re.match(r"http2 send GOAWAY frame: last sid (\d+), error (\d+)$", msg):
                c["control_out"].append({"type": "GOAWAY", "stream_id": 0, "last_stream_id": int(x[1]),
                                         "error_code": int(x[2])})
            elif x := re.match(r"http2 frame sent: \w+ sid:(\d+) bl:\d len:(\d+)$", msg):
                c["sent"].append((int(x[1]), int(x[2])))
    for n, c in conns.items():
        # everything nginx created for a stream was sent: the frames-sent lengths per stream are
        # the HEADERS and DATA it created (control frames are logged as sent on sid 0)
        sent = Counter()
        for sid, ln in c["sent"]:
            sent[sid] += ln
        for sid, s in c["streams"].items():
            made = sum(h["length"] for h in s["headers_out"]) + sum(d["length"] for d in s["data_out"])
            if sent[sid] != made:
                raise SystemExit(f"h2_facts: nginx *{n} stream {sid}: created {made} B, sent {sent[sid]} B")
    return conns


def nginx_streams(c, access):
    """nginx's view of each stream, with its access-log line (the n-th request of the connection
    is the n-th stream that has request headers)."""
    out = OrderedDict()
    reqs = [s for s in c["streams"].values() if s["request_headers"]]
    if len(reqs) != len(access):
        raise SystemExit(f"h2_facts: nginx debug log has {len(reqs)} requests, access log {len(access)}")
    for s, a in zip(reqs, sorted(access, key=lambda r: r["connection_requests"])):
        h = dict(s["request_headers"])
        if (h.get(":method"), h.get(":path")) != (a["method"], a["target"]):
            raise SystemExit(f"h2_facts: nginx logs disagree: {h} vs {a}")
        heads = [x for x in s["headers_out"] if x["kind"] == "headers"]
        interim = [x for x in heads if dict(x["headers"]).get(":status", "").startswith("1")]
        final = [x for x in heads if x not in interim]
        status = int(dict(final[0]["headers"])[":status"]) if final else None
        if status != a["status"]:
            raise SystemExit(f"h2_facts: nginx status {status} vs access log {a}")
        trailers = [x for x in s["headers_out"] if x["kind"] == "trailers"]
        body = sum(d["length"] for d in s["data_out"])
        if body != a["body_bytes_sent"]:
            raise SystemExit(f"h2_facts: nginx sent {body} B in DATA for {a['target']}, "
                             f"$body_bytes_sent {a['body_bytes_sent']}")
        ended = (any(d["end_stream"] for d in s["data_out"]) or any(x["end_stream"] for x in s["headers_out"]))
        out[s["stream_id"]] = {
            "stream_id": s["stream_id"], "request_headers": s["request_headers"],
            "request_body_bytes": sum(s["data_in"]),
            "interim": [int(dict(x["headers"])[":status"]) for x in interim],
            "interim_headers": [x["headers"] for x in interim],
            "status": status, "response_headers": final[0]["headers"] if final else None,
            "trailers": trailers[0]["headers"] if trailers else None,
            "response_data_frames": [d["length"] for d in s["data_out"]],
            "response_body_wire_bytes": body, "response_end_stream_sent": ended,
            "rst_stream_sent": [{"error_code": e, "error": ERRORS.get(e)} for e in s["rst_out"]],
            "rst_stream_received": [{"error_code": e, "error": ERRORS.get(e)} for e in s["rst_in"]],
            "window_updates_received": s["window_updates_in"],
            "access_log": {k: a.get(k) for k in ("connection", "connection_requests", "request_id",
                                                  "http2", "method", "target", "protocol", "status",
                                                  "body_bytes_sent", "bytes_sent", "request_length",
                                                  "gzip_ratio", "upstream_addr", "upstream_status")}}
    return out


# --- curl ----------------------------------------------------------------------------------------

def read_heads(path):
    """curl -D: the response heads (interim and final) as [status, [[name, value], ...]]."""
    heads = []
    text = rd(path).decode("latin-1")
    for block in text.split("\r\n\r\n"):
        lines = [l for l in block.split("\r\n") if l]
        if not lines:
            continue
        st = int(lines[0].split(" ")[1])
        heads.append((lines[0], st, [split_field(l) for l in lines[1:]]))
    return heads


def curl_h2(prefix):
    """curl's own record of its HTTP/2 transfers: stream id and request headers from the trace,
    per transfer -w, -D and -o."""
    info, streams, block = [], OrderedDict(), []
    with open(prefix + ".trace", encoding="latin-1") as f:
        for line in f:
            if not line.startswith("== Info: "):
                continue
            i = line[9:].rstrip("\n")
            info.append(i)
            if x := re.match(r"h2h3 \[(.*)\]$", i):
                block.append(split_field(x[1]))
            elif x := re.match(r"Using Stream ID: (\d+)", i):
                streams[int(x[1])] = {"stream_id": int(x[1]), "request_headers": block}
                block = []
    transfers = []
    with open(prefix + ".w") as f:
        for line in f:
            if line.startswith("{"):
                transfers.append(json.loads(line))
    # one entry per stream curl used, in transfer order: a transfer curl followed (-L) or
    # retried (--anyauth) spans several streams, one per final head in its -D file (only its
    # last stream has -w's method and URL, its body in -o and its byte counts)
    entries = []
    for t in sorted(transfers, key=lambda t: int(t["filename_effective"].rsplit(".", 2)[-2])):
        n = int(t["filename_effective"].rsplit(".", 2)[-2])
        heads = read_heads(f"{prefix}.{n}.hdr")
        # curl creates no -o file for a response without a body (a 304)
        out = rd(t["filename_effective"]) if os.path.exists(t["filename_effective"]) else b""
        path = "/" + t["url_effective"].split("/", 3)[3]
        finals = [i for i, h in enumerate(heads) if not 100 <= h[1] < 200]
        prev = -1
        for j, fi in enumerate(finals):
            last = j == len(finals) - 1
            e = {"transfer": n, "transfer_streams": len(finals), "transfer_stream_index": j,
                 "key": (t["method"], path) if last else None,
                 "method": t["method"] if last else None, "url": t["url_effective"] if last else None,
                 "http_code": heads[fi][1], "http_version": t["http_version"],
                 "size_download": t["size_download"] if last else None,
                 "size_upload": t["size_upload"] if len(finals) == 1 else None,
                 "num_connects": t["num_connects"], "local_port": t["local_port"],
                 "interim": [h[1] for h in heads[prev + 1:fi]],
                 "status_line": heads[fi][0], "response_headers": heads[fi][2],
                 # -o holds the body only when curl finished the transfer: when it gave up
                 # (exit 47, --max-redirs reached) the last response's body is not written
                 "decoded_bytes": None if t["method"] == "HEAD" or not last or t.get("exitcode")
                 else len(out),
                 "decoded_sha256": None if t["method"] == "HEAD" or not last or t.get("exitcode")
                 else sha(out)}
            if t.get("exitcode") and last:
                e["exitcode"] = t["exitcode"]
            entries.append(e)
            prev = fi
    keys = [e["key"] for e in entries]
    # transfers sent at once (-Z) are matched to streams by method and path; when a path
    # repeats or a transfer spans several streams the transfers ran one after another (--next):
    # by order
    by_order = None in keys or len(set(keys)) != len(keys)
    by_key = {} if by_order else {e["key"]: e for e in entries}
    alpn = next((re.match(r"ALPN: server accepted (\S+)", i)[1] for i in info
                 if i.startswith("ALPN: server accepted")), None)
    lines = [re.sub(r" \(easy handle 0x[0-9a-f]+\)", "", i) for i in info if re.match(
        r"(ALPN|Using Stream ID|Connected to|Re-using|Connection #|Received 101|Copying HTTP/2|"
        r"HTTP/2 found|h2 \[|Closing connection|using HTTP/2|Server doesn't support multiplex)", i)]
    return {"streams": streams, "transfers": by_key, "entries": entries, "by_order": by_order,
            "alpn": alpn, "lines": lines}


# --- byte logs (hyperframe) ----------------------------------------------------------------------

def parse_frames(data, off):
    import hpack
    from hyperframe.frame import Frame
    dec = hpack.Decoder()
    out, pos, block = [], off, {}
    while pos + 9 <= len(data):
        f, length = Frame.parse_frame_header(memoryview(data[pos:pos + 9]))
        if pos + 9 + length > len(data):
            break
        f.parse_body(memoryview(data[pos + 9:pos + 9 + length]))
        flags = data[pos + 4]
        e = frame(f.type, flags, length, f.stream_id, stream_offset=pos)
        t = f.type
        if t == 4:
            e["settings"] = settings_list(f.settings.items())
        elif t == 8:
            e["window_increment"] = f.window_increment
        elif t == 7:
            e.update(last_stream_id=f.last_stream_id, error_code=f.error_code)
        elif t == 3:
            e["error_code"] = f.error_code
        elif t == 0:
            e["data_bytes"] = len(f.data)
            e["data"] = bytes(f.data)
        elif t in (1, 9, 5):
            block.setdefault(f.stream_id, bytearray()).extend(f.data)
            if flags & 4:
                e["headers"] = [[k, v] for k, v in dec.decode(bytes(block.pop(f.stream_id)))]
        elif t == 6:
            e["opaque_data"] = bytes(f.opaque_data).hex()
        out.append(e)
        pos += 9 + length
    return out, pos


def bytes_log(prefix):
    """Frames both ways from a program's log of the connection's exact bytes: after the preface
    (prior knowledge), or after the HTTP/1.1 upgrade exchange."""
    c, s = rd(prefix + ".sent"), rd(prefix + ".recv")
    up = None
    if c.startswith(PREFACE):
        coff, soff, start = len(PREFACE), 0, "prior-knowledge"
    else:
        req_end = c.index(b"\r\n\r\n") + 4
        resp_end = s.index(b"\r\n\r\n") + 4
        if c[req_end:req_end + len(PREFACE)] != PREFACE:
            raise SystemExit(f"h2_facts: {prefix}: no connection preface")
        head = c[:req_end].decode("latin-1").split("\r\n")
        hdrs = [split_field(l) for l in head[1:] if l]
        b64 = next(v for k, v in hdrs if k.lower() == "http2-settings")
        raw = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
        up = {"request_line": head[0], "request_headers": hdrs, "http2_settings": b64,
              "http2_settings_decoded": settings_list((int.from_bytes(raw[i:i + 2], "big"),
                                                       int.from_bytes(raw[i + 2:i + 6], "big"))
                                                      for i in range(0, len(raw), 6)),
              "response_head": s[:resp_end].decode("latin-1"), "client_preface_offset": req_end,
              "server_frames_offset": resp_end}
        coff, soff, start = req_end + len(PREFACE), resp_end, "upgrade"
    cf, cend = parse_frames(c, coff)
    sf, send = parse_frames(s, soff)
    ev = None
    if os.path.exists(prefix + ".events.json"):
        ev = json.load(open(prefix + ".events.json"))
    return {"start": start, "upgrade": up, "frames_c2s": cf, "frames_s2c": sf,
            "trailing_c2s": len(c) - cend, "trailing_s2c": len(s) - send, "events": ev,
            "client_bytes": len(c), "server_bytes": len(s)}


def streams_from_frames(cf, sf, upgrade=None):
    """Per stream: request and response heads, bodies, resets, window updates, from both
    directions' frames."""
    st = OrderedDict()

    def get(sid):
        return st.setdefault(sid, {"stream_id": sid, "request_headers": None, "request_body": bytearray(),
                                   "request_body_len": 0, "heads": [], "body": bytearray(),
                                   "body_len": 0, "data_frames": [],
                                   "rst_by_client": [], "rst_by_server": [],
                                   "window_updates_from_client": [], "window_updates_from_server": [],
                                   "request_trailers": None, "end_stream_by_client": False,
                                   "end_stream_by_server": False})
    if upgrade:
        line = upgrade["request_line"].split(" ")
        s = get(1)
        s["opened_by"] = "the HTTP/1.1 upgrade request"
        s["request_line"] = upgrade["request_line"]
        s["method"], s["path"] = line[0], line[1]
        s["request_headers"] = upgrade["request_headers"]   # HTTP/1.1 field lines, as sent
        s["end_stream_by_client"] = True
    for f in cf:
        sid = f["stream_id"]
        if sid == 0:
            continue
        s = get(sid)
        if f["type"] == "HEADERS" and "headers" in f:
            if s["request_headers"] is None:
                s["request_headers"] = f["headers"]
                s.setdefault("opened_by", "HEADERS frame")
            else:
                s["request_trailers"] = f["headers"]
        elif f["type"] == "DATA":
            s["request_body_len"] += f["data_bytes"]
            if s["request_body"] is not None and "data" in f:
                s["request_body"] += f["data"]
            else:
                s["request_body"] = None
        elif f["type"] == "RST_STREAM":
            s["rst_by_client"].append(f["error_code"])
        elif f["type"] == "WINDOW_UPDATE":
            s["window_updates_from_client"].append(f["window_increment"])
        if "END_STREAM" in f["flags"]:
            s["end_stream_by_client"] = True
    for f in sf:
        sid = f["stream_id"]
        if sid == 0:
            continue
        s = get(sid)
        if f["type"] == "HEADERS" and "headers" in f:
            s["heads"].append(f["headers"])
        elif f["type"] == "DATA":
            s["body_len"] += f["data_bytes"]
            if s["body"] is not None and "data" in f:
                s["body"] += f["data"]
            else:
                s["body"] = None
            s["data_frames"].append(f["data_bytes"])
        elif f["type"] == "RST_STREAM":
            s["rst_by_server"].append(f["error_code"])
        elif f["type"] == "WINDOW_UPDATE":
            s["window_updates_from_server"].append(f["window_increment"])
        if "END_STREAM" in f["flags"]:
            s["end_stream_by_server"] = True
    return st


# --- nghttp -v -----------------------------------------------------------------------------------

def nghttp_log(path):
    """nghttpd -v / nghttp -v: '[id=N] [ t] send|recv TYPE frame <length=L, flags=0xF,
    stream_id=S>' lines ([id=N] only from the server), each followed by indented detail lines
    (header fields sent, settings, window increments, error codes); received header fields are
    logged before their frame as '[ t] recv (stream_id=S) name: value'."""
    conns = {}
    cur = None
    with open(path, encoding="latin-1") as f:
        for line in f:
            line = line.rstrip("\n")
            if x := re.match(r"^(?:\[id=(\d+)\] )?\[\s*[\d.]+\] (send|recv) (\w+) frame <length=(\d+), "
                             r"flags=0x([0-9a-f]+), stream_id=(\d+)>$", line):
                t = TYPE_CODES.get(x[3], -1)
                cur = frame(t, int(x[5], 16), int(x[4]), int(x[6]))
                c = conns.setdefault(int(x[1] or 0), {"recv": [], "send": []})
                c[x[2]].append(cur)
                if t in (1, 5):
                    cur["headers"] = []
                continue
            if x := re.match(r"^(?:\[id=(\d+)\] )?\[\s*[\d.]+\] recv \(stream_id=(\d+)\) (.*)$", line):
                # received header fields are logged before the HEADERS frame line
                c = conns.setdefault(int(x[1] or 0), {"recv": [], "send": []})
                c.setdefault("pending", {}).setdefault(int(x[2]), []).append(split_field(x[3]))
                continue
            if cur is None or not line.startswith("          "):
                cur = None if not line.startswith("          ") else cur
                continue
            d = line.strip()
            if x := re.match(r"^\[SETTINGS_\w+\(0x([0-9a-f]+)\):(\d+)\]$", d):
                cur.setdefault("settings", []).extend(settings_list([(int(x[1], 16), x[2])]))
            elif x := re.match(r"^\(window_size_increment=(\d+)\)$", d):
                cur["window_increment"] = int(x[1])
            elif x := re.match(r"^\(error_code=(\w+)\(0x([0-9a-f]+)\)\)$", d):
                cur["error_code"] = int(x[2], 16)
            elif x := re.match(r"^\(last_stream_id=(\d+), error_code=(\w+)\(0x([0-9a-f]+)\)", d):
                cur.update(last_stream_id=int(x[1]), error_code=int(x[3], 16))
            elif "headers" in cur and re.match(r"^:?[a-z0-9-]+: ", d) and not d.startswith("; "):
                cur["headers"].append(split_field(d))
    for c in conns.values():
        for f in c["recv"]:
            if f["type"] == "HEADERS":
                f["headers"] = c.get("pending", {}).pop(f["stream_id"], f.get("headers") or [])
        c.pop("pending", None)
        for f in c["recv"] + c["send"]:
            if f["type"] == "DATA":
                if "PADDED" in f["flags"]:
                    raise SystemExit("h2_facts: padded DATA in an nghttp log")
                f["data_bytes"] = f["length"]
    return conns


# --- tshark --------------------------------------------------------------------------------------

TSHARK_FIELDS = ["frame.number", "tcp.stream", "tcp.srcport", "http2.streamid", "http2.type",
                 "http2.flags", "http2.length", "http2.header.count", "http2.header.name",
                 "http2.header.value", "http2.rst_stream.error", "http2.window_update.window_size_increment",
                 "http2.settings.id", "http2.settings.initial_window_size", "http2.goaway.error",
                 "http2.goaway.last_stream_id", "http2.header_table_size_update.header_table_size"]


def tshark_h2(a, server_ports):
    kl = ["-o", f"tls.keylog_file:{a.keylog}"] if a.keylog else []
    da = []
    for p in a.decode_as or []:
        da += ["-d", f"tcp.port=={p},http2"]
    args = [*kl, *da, "-Y", "http2", "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"]
    for fl in TSHARK_FIELDS:
        args += ["-e", fl]
    out, _ = tshark(a.pcap, *args)
    shown = " ".join(["tshark", "-r", os.path.basename(a.pcap)] + [
        x if not x.startswith("tls.keylog_file:") else f"tls.keylog_file:{a.keylog_name}" for x in args])
    per = {}
    for line in out.splitlines():
        f = (line.split("\t") + [""] * len(TSHARK_FIELDS))[:len(TSHARK_FIELDS)]
        L = lambda i: f[i].split("|") if f[i] else []
        sids, types, flags, lens = L(3), L(4), L(5), L(6)
        counts, names, values = L(7), L(8), L(9)
        rst, wu = L(10), L(11)
        sid_set, iws = L(12), L(13)
        ge, gl = L(14), L(15)
        # tshark's header count includes HPACK dynamic table size updates (a header block's
        # first entries; here only in a connection's first block), which have no name: given
        # to the packet's first header blocks, one each
        updates = L(16)
        if len(names) != len(values) or sum(int(c) for c in counts) != len(names) + len(updates):
            raise SystemExit(f"h2_facts: tshark header fields do not line up in frame {f[0]}")
        if not (len(sids) == len(types) == len(flags) == len(lens)):
            raise SystemExit(f"h2_facts: tshark frame fields do not line up in frame {f[0]}")
        conn = per.setdefault(int(f[1].split("|")[0]), [])
        hi = ci = ri = wi = gi = 0
        for sid, t, fl, ln in zip(sids, types, flags, lens):
            t, fl = int(t), int(fl, 16)
            e = frame(t, fl, int(ln), int(sid), packet=int(f[0]), src_port=int(f[2].split("|")[0]))
            if t in (1, 5, 9) and fl & 4 and ci < len(counts):
                n = int(counts[ci])
                if ci < len(updates):
                    e["table_size_update"] = int(updates[ci])
                    n -= 1
                ci += 1
                e["headers"] = [[names[hi + k], values[hi + k]] for k in range(n)]
                hi += n
            elif t == 3:
                e["error_code"] = int(rst[ri], 0)
                ri += 1
            elif t == 8:
                e["window_increment"] = int(wu[wi], 0)
                wi += 1
            elif t == 7:
                e.update(error_code=int(ge[gi], 0), last_stream_id=int(gl[gi], 0))
                gi += 1
            conn.append(e)
        for e in conn:
            if e["packet"] == int(f[0]) and e["type"] == "SETTINGS" and sid_set:
                e["settings_ids"] = [int(x, 0) for x in sid_set]
                e["initial_window_size"] = [int(x, 0) for x in iws]
                sid_set = []
    with open(a.tshark_out, "w") as fo:
        fo.write(f"# {os.path.basename(a.pcap)}: tshark's HTTP/2 view"
                 + (" with the key log" if a.keylog else "") + ", a second opinion\n")
        v = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
        fo.write(f"# {v}\n# one line per packet with HTTP/2 frames; several frames or header fields "
                 "in a packet are joined with '|'\n")
        fo.write(f"\n## {shown}\n")
        fo.write("# " + "\t".join(TSHARK_FIELDS) + "\n")
        fo.write(out)
    return per, shown


def frames_key(fs):
    return [(f["type"], f["flags_byte"], f["length"], f["stream_id"]) for f in fs]


def tshark_streams(frames, server_port):
    c2s = [f for f in frames if f["src_port"] != server_port]
    s2c = [f for f in frames if f["src_port"] == server_port]
    st = OrderedDict()

    def get(sid):
        return st.setdefault(sid, {"request_headers": [], "response_heads": [], "data_c2s": 0,
                                   "data_s2c": 0, "data_frames_s2c": [], "rst_c2s": [], "rst_s2c": [],
                                   "wu_c2s": [], "wu_s2c": []})
    for f in c2s:
        if f["stream_id"] == 0:
            continue
        s = get(f["stream_id"])
        if "headers" in f:
            s["request_headers"].append(f["headers"])
        elif f["type"] == "DATA":
            s["data_c2s"] += f["length"]
        elif f["type"] == "RST_STREAM":
            s["rst_c2s"].append(f["error_code"])
        elif f["type"] == "WINDOW_UPDATE":
            s["wu_c2s"].append(f["window_increment"])
    for f in s2c:
        if f["stream_id"] == 0:
            continue
        s = get(f["stream_id"])
        if "headers" in f:
            s["response_heads"].append(f["headers"])
        elif f["type"] == "DATA":
            s["data_s2c"] += f["length"]
            s["data_frames_s2c"].append(f["length"])
        elif f["type"] == "RST_STREAM":
            s["rst_s2c"].append(f["error_code"])
        elif f["type"] == "WINDOW_UPDATE":
            s["wu_s2c"].append(f["window_increment"])
    return c2s, s2c, st


def tcp_connections(pcap, servers):
    out, _ = tshark(pcap, "-Y", "tcp.flags.syn==1 && tcp.flags.ack==0", "-T", "fields",
                    "-e", "tcp.stream", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport",
                    "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport")
    conns, seen = [], set()
    for r in out.splitlines():
        f = r.split("\t")
        client, server = endpoint(f[1], f[2], f[3]), endpoint(f[4], f[5], f[6])
        if server in servers and f[0] not in seen:
            seen.add(f[0])
            conns.append({"client": client, "server": server, "tcp_stream": int(f[0])})
    return conns


def counts(fs):
    return dict(Counter(f["type"] for f in fs))


def strip(fs):
    """Frames for the facts (no payload bytes)."""
    out = []
    for i, f in enumerate(fs):
        e = {k: v for k, v in f.items() if k not in ("data", "packet", "src_port")}
        e["index"] = i
        if "data" in f:
            e["data_sha256"] = sha(f["data"])
        out.append(e)
    return out


def decode_body(body, enc):
    import zlib
    if not enc:
        return body
    if enc == "gzip":
        return zlib.decompress(body, 16 + zlib.MAX_WBITS)
    if enc == "deflate":
        return zlib.decompress(body)
    if enc == "br":
        import brotli
        return brotli.decompress(body)
    raise SystemExit(f"h2_facts: content-coding {enc}")


# --- capture -------------------------------------------------------------------------------------

def cmd_capture(a):
    servers = set(a.server)
    conns = tcp_connections(a.pcap, servers)
    ports = {int(s.rsplit(":", 1)[1]) for s in servers}
    tsh, tcmd = tshark_h2(a, ports)
    access = []
    if a.nginx_log:
        with open(a.nginx_log) as f:
            access = [json.loads(l) for l in f if l.strip()]
    ngx = nginx_debug(a.nginx_debug) if a.nginx_debug else {}
    curls = {}
    for spec in a.curl or []:
        client, prefix = spec.split()
        curls[client] = curl_h2(prefix)
    blogs = {}
    for spec in a.bytes_log or []:
        client, server, prefix, source = spec.split()
        blogs[client] = (server, bytes_log(prefix), source)
    nghs = {}
    if a.nghttp_log:
        ua = {r["client"] for r in access if r.get("user_agent", "").startswith("nghttp2/")}
        if len(ua) != 1:
            raise SystemExit(f"h2_facts: nghttp's connection in nginx's log: {ua}")
        nghs[ua.pop()] = nghttp_log(a.nghttp_log)
    problems = []
    out = []
    for c in conns:
        client, server, idx = c["client"], c["server"], c["tcp_stream"]
        sport = int(server.rsplit(":", 1)[1])
        tf = tsh.get(idx, [])
        t_c2s, t_s2c, t_st = tshark_streams(tf, sport)
        e = dict(c)
        sources = []
        agree = {}
        streams = OrderedDict()
        acc = [r for r in access if r["client"] == client]
        e["tls"] = bool(a.keylog)
        # how the connection started
        raw = follow_bytes(a.pcap, idx, client) or (b"", b"")
        if a.keylog:
            e["start"] = "alpn"
        elif raw[0].startswith(PREFACE):
            e["start"] = "prior-knowledge"
        elif b"upgrade: h2c" in raw[0].split(b"\r\n\r\n")[0].lower():
            e["start"] = "upgrade"
        else:
            e["start"] = None
        e["alpn"] = None
        frames_c2s = frames_s2c = None
        # nginx
        if acc and ngx:
            ncs = {r["connection"] for r in acc}
            if len(ncs) != 1:
                problems.append(f"{client}: nginx connections {ncs}")
                continue
            n = ncs.pop()
            nc = ngx[n]
            e["nginx_connection"] = n
            e["alpn"] = acc[0].get("ssl_alpn_protocol") or None
            if {r["http2"] for r in acc} != {"h2" if a.keylog else "h2c"}:
                problems.append(f"{client}: nginx $http2 {[r['http2'] for r in acc]}")
            frames_c2s = nc["frames_in"]
            e["nginx"] = {"frames_read": strip(nc["frames_in"]), "control_frames_sent": nc["control_out"],
                          "source": "nginx's debug log (frames it read; HEADERS/DATA frames it created "
                                    "and control frames it sent) and its JSON access log"}
            sources.append("nginx-debug-log")
            for sid, s in nginx_streams(nc, acc).items():
                streams[sid] = {"nginx": s}
            # every frame nginx read is the client's frame tshark saw, in order
            agree["client_frames_equal_nginx_read"] = frames_key(t_c2s) == frames_key(frames_c2s)
            if not agree["client_frames_equal_nginx_read"]:
                problems.append(f"{client}: tshark c2s {frames_key(t_c2s)[:50]} vs nginx {frames_key(frames_c2s)[:50]}")
            e["client_settings"] = [x.get("settings", []) for x in frames_c2s if x["type"] == "SETTINGS"
                                    and "ACK" not in x["flags"]]
        # curl
        if client in curls:
            cu = curls[client]
            sources.append("curl--trace+-w+-D+-o")
            if a.keylog and cu["alpn"] != "h2":
                problems.append(f"{client}: curl ALPN {cu['alpn']}")
            if e["alpn"] is None:
                e["alpn"] = cu["alpn"]
            e["curl_lines"] = cu["lines"]
            used = set()
            if cu["by_order"]:
                if len(cu["entries"]) != len(cu["streams"]):
                    problems.append(f"{client}: curl used {len(cu['streams'])} streams, its -D files "
                                    f"have {len(cu['entries'])} final heads")
                for (sid, s), tr in zip(cu["streams"].items(), cu["entries"]):
                    h = dict(s["request_headers"])
                    if tr["key"] is not None and tr["key"] != (h[":method"], h[":path"]):
                        problems.append(f"{client}: stream {sid} is {h[':method']} {h[':path']}, "
                                        f"curl's transfer {tr['transfer']} {tr['key']}")
                    streams.setdefault(sid, {})["curl"] = dict(tr, stream_id=sid,
                                                               request_headers=s["request_headers"])
                rest = []
            else:
                for sid, s in cu["streams"].items():
                    h = dict(s["request_headers"])
                    key = (h[":method"], h[":path"])
                    tr = cu["transfers"].get(key)
                    if tr is None:
                        problems.append(f"{client}: no curl transfer for {key}")
                        continue
                    used.add(key)
                    streams.setdefault(sid, {})["curl"] = dict(tr, stream_id=sid,
                                                               request_headers=s["request_headers"])
                rest = [k for k in cu["transfers"] if k not in used]
            if e["start"] == "upgrade" and len(rest) == 1:
                # the transfer that asked for the upgrade: its HTTP/1.1 request is stream 1
                streams.setdefault(1, {})["curl"] = dict(cu["transfers"][rest[0]], stream_id=1,
                                                         request_headers=None)
            elif rest:
                problems.append(f"{client}: curl transfers with no stream: {rest}")
        # a program's log of the bytes
        if client in blogs:
            bserver, bl, source = blogs[client]
            if bserver != server:
                problems.append(f"{client}: logged server {bserver}")
            sources.append(source)
            if bl["start"] != e["start"]:
                problems.append(f"{client}: log says {bl['start']}, capture {e['start']}")
            if bl["trailing_c2s"] or bl["trailing_s2c"]:
                problems.append(f"{client}: bytes after the last whole frame in the log")
            frames_c2s, frames_s2c = bl["frames_c2s"], bl["frames_s2c"]
            e["frames_client_to_server"] = strip(frames_c2s)
            e["frames_server_to_client"] = strip(frames_s2c)
            if bl["upgrade"]:
                e["upgrade"] = bl["upgrade"]
            if bl["events"] is not None:
                e["h2_events"] = bl["events"]
            agree["client_frames_equal_log"] = frames_key(t_c2s) == frames_key(frames_c2s)
            agree["server_frames_equal_log"] = frames_key(t_s2c) == frames_key(frames_s2c)
            for sid, s in streams_from_frames(frames_c2s, frames_s2c, bl["upgrade"]).items():
                streams.setdefault(sid, {})["log"] = s
        if client in nghs and acc and ngx:
            nl = nghs[client]
            if len(nl) != 1:
                problems.append(f"{client}: nghttp logged {len(nl)} connections")
            ng = next(iter(nl.values()))
            sources.append("nghttp -v")
            frames_c2s, frames_s2c = ng["send"], ng["recv"]
            e["frames_client_to_server"] = strip(frames_c2s)
            e["frames_server_to_client"] = strip(frames_s2c)
            e["frames_source"] = "nghttp -v (every frame it sent and received)"
            agree["client_frames_equal_nghttp"] = frames_key(t_c2s) == frames_key(frames_c2s)
            agree["server_frames_equal_nghttp"] = frames_key(t_s2c) == frames_key(frames_s2c)
            if frames_key(frames_c2s) != frames_key(nc["frames_in"]):
                problems.append(f"{client}: nghttp sent {frames_key(frames_c2s)}, nginx read "
                                f"{frames_key(nc['frames_in'])}")
            for sid, s in streams_from_frames(frames_c2s, frames_s2c).items():
                streams.setdefault(sid, {})["nghttp"] = s
        if not sources:
            continue
        e["sources"] = sources
        if frames_c2s is not None:
            e["frame_counts_client_to_server"] = counts(frames_c2s)
        if frames_s2c is not None:
            e["frame_counts_server_to_client"] = counts(frames_s2c)
        e["window_updates"] = window_updates(frames_c2s, frames_s2c, t_c2s, t_s2c)
        # merge per stream, every pair of sources checked
        recs = []
        for sid in sorted(streams):
            r, p = merge_stream(sid, streams[sid], t_st.get(sid), e)
            problems += [f"{client} stream {sid}: {x}" for x in p]
            if r:
                recs.append(r)
        e["streams"] = recs
        agree["streams_equal_programs"] = all(r["tshark_agrees"] for r in recs)
        agree["stream_ids_equal"] = sorted(
            sid for sid, x in t_st.items() if x["request_headers"] or x["response_heads"]) == [
            r["stream_id"] for r in recs]
        e["tshark"] = {"frames_client_to_server": len(t_c2s), "frames_server_to_client": len(t_s2c),
                       "frame_counts_client_to_server": counts(t_c2s),
                       "frame_counts_server_to_client": counts(t_s2c), "agrees": agree}
        if not all(agree.values()):
            problems.append(f"{client}: tshark disagrees: {agree}")
        out.append(e)
    if problems:
        raise SystemExit("h2_facts: " + "\n".join(problems))
    det = {"h2_connections": out,
           "h2_tshark": {"output_file": "h2/" + os.path.basename(a.tshark_out), "command": tcmd,
                         "agrees_with_the_programs": all(all(c["tshark"]["agrees"].values()) for c in out)}}
    if a.keylog:
        det["h2_tshark"]["keylog"] = a.keylog_name
    prefix = ""
    if a.summary_prefix:
        prefix = json.load(open(a.summary_prefix)).get("summary", "") + ". "
    det["summary"] = prefix + summary(out)
    with open(a.out, "w") as f:
        json.dump(det, f, indent=1)


def window_updates(c2s, s2c, t_c2s, t_s2c):
    def cnt(fs):
        if fs is None:
            return None
        wu = [f for f in fs if f["type"] == "WINDOW_UPDATE"]
        return {"connection": sum(1 for f in wu if f["stream_id"] == 0),
                "stream": sum(1 for f in wu if f["stream_id"] != 0),
                "connection_increment_total": sum(f["window_increment"] for f in wu if f["stream_id"] == 0),
                "stream_increment_total": sum(f["window_increment"] for f in wu if f["stream_id"] != 0)}
    return {"client_to_server": cnt(c2s), "server_to_client": cnt(s2c),
            "tshark_client_to_server": cnt(t_c2s), "tshark_server_to_client": cnt(t_s2c)}


def merge_stream(sid, src, ts, conn):
    """One stream's record from its sources (nginx / curl / log / nghttp), checked pairwise and
    against tshark."""
    p = []
    ng, cu, lg, nh = src.get("nginx"), src.get("curl"), src.get("log"), src.get("nghttp")
    ts = ts or {}
    fr = lg or nh   # frame-level sources
    req = None
    for name, h in (("curl", cu and cu["request_headers"]), ("nginx", ng and ng["request_headers"]),
                    ("frames", fr and fr["request_headers"])):
        if h is None:
            continue
        if req is None:
            req = h
        elif name == "frames" and fr.get("opened_by", "").startswith("the HTTP/1.1"):
            continue
        elif [list(x) for x in h] != [list(x) for x in req]:
            p.append(f"request headers differ ({name}): {h} vs {req}")
    if req is None:
        return None, p   # a stream with no request (e.g. only a WINDOW_UPDATE)
    hd = dict(req)
    r = {"stream_id": sid, "method": hd.get(":method"), "path": hd.get(":path"),
         "scheme": hd.get(":scheme"), "authority": hd.get(":authority"), "protocol": hd.get(":protocol"),
         "host": next((v for k, v in req if k.lower() == "host"), None), "request_headers": req}
    if fr and fr.get("opened_by"):
        r["opened_by"] = fr["opened_by"]
    if fr and fr.get("request_line"):
        # stream 1 after an h2c upgrade: the HTTP/1.1 request (its head, not HPACK)
        r.update(method=fr["method"], path=fr["path"], request_line=fr["request_line"])
    # request body
    rb = []
    if cu and cu["size_upload"] is not None:
        rb.append(("curl", cu["size_upload"]))
    if ng:
        rb.append(("nginx", ng["request_body_bytes"]))
    if fr:
        rb.append(("frames", fr["request_body_len"]))
    if len({v for _, v in rb}) > 1:
        p.append(f"request body bytes differ {rb}")
    r["request_body_bytes"] = rb[0][1] if rb else None
    if fr:
        if fr["request_body"] is not None:
            r["request_body_sha256"] = sha(bytes(fr["request_body"]))
        r["request_trailers"] = fr["request_trailers"]
    # response
    heads = None
    if ng:
        heads = {"interim": ng["interim"], "interim_headers": ng["interim_headers"],
                 "status": ng["status"], "response_headers": ng["response_headers"],
                 "trailers": ng["trailers"], "wire": ng["response_body_wire_bytes"],
                 "data_frames": ng["response_data_frames"]}
    if fr:
        hs = fr["heads"]
        sts = [int(dict(h)[":status"]) if ":status" in dict(h) else None for h in hs]
        interim = [i for i, s in enumerate(sts) if s is not None and s < 200]
        final = [i for i, s in enumerate(sts) if s is not None and s >= 200]
        trailers = [hs[i] for i, s in enumerate(sts) if s is None]
        fh = {"interim": [sts[i] for i in interim], "interim_headers": [hs[i] for i in interim],
              "status": sts[final[0]] if final else None,
              "response_headers": hs[final[0]] if final else None,
              "trailers": trailers[0] if trailers else None, "wire": fr["body_len"],
              "data_frames": fr["data_frames"]}
        if heads:
            for k in fh:
                if fh[k] != heads[k]:
                    p.append(f"{k}: frames {fh[k]} vs nginx {heads[k]}")
        else:
            heads = fh
    if heads is None and cu:
        heads = {"interim": cu["interim"], "interim_headers": None, "status": cu["http_code"],
                 "response_headers": cu["response_headers"], "trailers": None,
                 "wire": cu["size_download"], "data_frames": None}
    if cu:
        if cu["http_code"] != heads["status"]:
            p.append(f"curl status {cu['http_code']} vs {heads['status']}")
        if cu["size_download"] is not None and cu["size_download"] != heads["wire"]:
            p.append(f"curl size_download {cu['size_download']} vs DATA {heads['wire']}")
        upgraded = bool(fr and fr.get("opened_by", "").startswith("the HTTP/1.1"))
        # curl -D shows the upgrade's 101 (HTTP/1.1) before the HTTP/2 response on stream 1
        ci = cu["interim"][1:] if upgraded and cu["interim"][:1] == [101] else cu["interim"]
        if ci != heads["interim"]:
            p.append(f"curl interim {cu['interim']} vs {heads['interim']}")
        if heads["response_headers"] is not None and [list(x) for x in cu["response_headers"]] != [
                list(x) for x in heads["response_headers"] if x[0] != ":status"]:
            p.append(f"curl -D headers {cu['response_headers']} vs {heads['response_headers']}")
    r.update(interim=heads["interim"], interim_headers=heads["interim_headers"] or [],
             status=heads["status"], response_headers=heads["response_headers"],
             trailers=heads["trailers"])
    rh = dict(heads["response_headers"] or [])
    r["content_length"] = int(rh["content-length"]) if "content-length" in rh else None
    r["content_encoding"] = rh.get("content-encoding")
    r["response_body_wire_bytes"] = heads["wire"]
    r["response_data_frames"] = heads["data_frames"]
    if fr and fr["body"] is not None:
        body = bytes(fr["body"])
        r["response_body_wire_sha256"] = sha(body)
        if r["method"] != "HEAD" and r["status"] and r["status"] >= 200:
            dec = decode_body(body, r["content_encoding"])
            r["response_body_decoded_bytes"] = len(dec)
            r["response_body_sha256"] = sha(dec)
    if cu:
        if cu["decoded_bytes"] is not None:
            if "response_body_decoded_bytes" in r and (r["response_body_decoded_bytes"], r["response_body_sha256"]) != (
                    cu["decoded_bytes"], cu["decoded_sha256"]):
                p.append("curl's decoded body differs from the frames'")
            r["response_body_decoded_bytes"] = cu["decoded_bytes"]
            r["response_body_sha256"] = cu["decoded_sha256"]
        r["client_transfer"] = {k: cu[k] for k in ("transfer", "method", "url", "http_code", "http_version",
                                                    "size_download", "size_upload", "num_connects",
                                                    "local_port", "status_line", "interim")}
        if cu.get("transfer_streams", 1) > 1:
            r["client_transfer"].update({k: cu[k] for k in ("transfer_streams", "transfer_stream_index")})
        if "exitcode" in cu:
            r["client_transfer"]["exitcode"] = cu["exitcode"]
        r["client_transfer"]["source"] = "curl -w '%{json}', -D, -o; stream id from --trace"
    if "response_body_decoded_bytes" not in r:
        # no source has the body itself (nghttp -v logs frames, not payloads)
        r["response_body_decoded_bytes"] = (None if r["method"] == "HEAD" or r["content_encoding"]
                                            else r["response_body_wire_bytes"])
    # how it ended
    end = {}
    if ng:
        end.update(response_end_stream=ng["response_end_stream_sent"],
                   rst_stream_by_server=ng["rst_stream_sent"], rst_stream_by_client=ng["rst_stream_received"])
        r["request_id"] = ng["access_log"]["request_id"]
        r["nginx_access_log"] = ng["access_log"]
    if fr:
        fe = {"response_end_stream": fr["end_stream_by_server"],
              "rst_stream_by_server": [{"error_code": e, "error": ERRORS.get(e)} for e in fr["rst_by_server"]],
              "rst_stream_by_client": [{"error_code": e, "error": ERRORS.get(e)} for e in fr["rst_by_client"]],
              "request_end_stream": fr["end_stream_by_client"]}
        for k in end:
            if end[k] != fe[k]:
                p.append(f"{k}: nginx {end[k]} vs frames {fe[k]}")
        end.update(fe)
        r["window_updates_from_client"] = fr["window_updates_from_client"]
        r["window_updates_from_server"] = fr["window_updates_from_server"]
    r["end"] = end
    # tshark
    ag = {}
    if ts:
        want_req = [] if r.get("opened_by", "").startswith("the HTTP/1.1") else [req]
        ag["request_headers"] = [[list(x) for x in h] for h in ts["request_headers"][:1]] == [
            [list(x) for x in h] for h in want_req]
        want_heads = [h for h in (r["interim_headers"] or [])] + (
            [r["response_headers"]] if r["response_headers"] else []) + ([r["trailers"]] if r["trailers"] else [])
        ag["response_heads"] = [[list(x) for x in h] for h in ts["response_heads"]] == [
            [list(x) for x in h] for h in want_heads]
        ag["response_data_bytes"] = ts["data_s2c"] == r["response_body_wire_bytes"]
        if r["response_data_frames"] is not None:
            ag["response_data_frames"] = ts["data_frames_s2c"] == r["response_data_frames"]
        if r["request_body_bytes"] is not None:
            ag["request_data_bytes"] = ts["data_c2s"] == r["request_body_bytes"]
        if "rst_stream_by_server" in end:
            ag["rst_stream"] = ([x["error_code"] for x in end["rst_stream_by_server"]] == ts["rst_s2c"]
                                and [x["error_code"] for x in end["rst_stream_by_client"]] == ts["rst_c2s"])
        r["tshark"] = {"request_data_bytes": ts["data_c2s"], "response_data_bytes": ts["data_s2c"],
                       "rst_stream_client": ts["rst_c2s"], "rst_stream_server": ts["rst_s2c"],
                       "window_updates_client": len(ts["wu_c2s"]), "window_updates_server": len(ts["wu_s2c"]),
                       "agrees": ag}
    else:
        ag["seen"] = False
        r["tshark"] = {"agrees": ag}
    r["tshark_agrees"] = all(ag.values())
    if not r["tshark_agrees"]:
        p.append(f"tshark disagrees: {ag}; tshark {ts}")
    r["sources"] = [k for k in ("curl", "nginx", "log", "nghttp") if k in src]
    return r, p


def summary(conns):
    parts = []
    for c in conns:
        how = {"alpn": f"TLS, ALPN {c['alpn']}", "prior-knowledge": "cleartext, prior knowledge",
               "upgrade": "cleartext, h2c upgrade"}.get(c["start"], c["start"])
        ss = []
        for s in c["streams"]:
            t = f"{s['stream_id']} {s['method']} {s['path']}"
            if s.get("protocol"):
                t += f" (:protocol {s['protocol']})"
            t += " -> " + ",".join(str(x) for x in s["interim"] + [s["status"]])
            t += f" {s['response_body_wire_bytes']} B"
            if s["content_encoding"]:
                dec = s["response_body_decoded_bytes"]
                t += f" {s['content_encoding']}" + (f" ({dec} B decoded)" if dec is not None else "")
            if s["request_body_bytes"]:
                t += f", request body {s['request_body_bytes']} B"
            if s["trailers"]:
                t += ", trailers " + ", ".join(k for k, _ in s["trailers"])
            for who in ("server", "client"):
                for x in s["end"].get(f"rst_stream_by_{who}", []):
                    t += f", RST_STREAM {x['error']} by the {who}"
            ss.append(t)
        wu = c["window_updates"]
        w = ""
        if wu["client_to_server"]:
            w = (f"; WINDOW_UPDATE from the client: {wu['client_to_server']['connection']} connection, "
                 f"{wu['client_to_server']['stream']} stream")
        parts.append(f"{c['client']} ({how}): streams " + "; ".join(ss) + w)
    ok = all(all(c["tshark"]["agrees"].values()) for c in conns)
    return ("HTTP/2: " + " | ".join(parts)
            + f". tshark's HTTP/2 frames {'agree' if ok else 'DO NOT agree'} with the programs' logs")


def cmd_proxy_legs(a):
    h2 = json.load(open(a.h2))
    reqs = [json.loads(l) for l in open(a.backend_requests) if l.strip()]
    txs = []
    for p in a.back or []:
        txs += json.load(open(p))
    legs = []
    used = set()
    for c in h2["h2_connections"]:
        for st in c["streams"]:
            rid = st["request_id"]
            got = [r for r in reqs if any(k.lower() == "x-request-id" and v == rid for k, v in r["headers"])]
            ups = st["nginx_access_log"]["upstream_addr"] or None
            if len(got) > 1 or bool(got) != bool(ups):
                raise SystemExit(f"h2_facts: stream {st['stream_id']}: backend requests {got}, nginx upstream {ups}")
            leg = {"front": {"client": c["client"], "server": c["server"], "stream_id": st["stream_id"]},
                   "back": None, "proxy": "nginx", "request_id": rid,
                   "matched_by": f"X-Request-ID: {rid}" if got else None,
                   "front_request": f"{st['method']} {st['path']}", "version_front": "HTTP/2",
                   "front_authority": st["authority"], "front_status": st["status"],
                   "front_request_body_bytes": st["request_body_bytes"],
                   "front_response_body_bytes": st["response_body_wire_bytes"]}
            if got:
                r = got[0]
                tx = [t for t in txs if t["client"] == r["peer"] and t["index"] == r["index"]]
                if len(tx) != 1:
                    raise SystemExit(f"h2_facts: no back transaction for {r}")
                t = tx[0]
                if (t["method"], t["target"], t["status"]) != (r["method"], r["target"], r["status"]):
                    raise SystemExit(f"h2_facts: backend log and its bytes disagree: {r} {t}")
                used.add((t["client"], t["index"]))
                sent = [[k, v] for k, v in st["request_headers"] if not k.startswith(":")]
                recv = t["request_headers"]
                sn = {k.lower() for k, _ in sent}
                rn = {k.lower() for k, _ in recv}
                if ups != t["server"]:
                    raise SystemExit(f"h2_facts: nginx upstream {ups}, back leg {t['server']}")
                back_resp = {k.lower(): v for k, v in t["response_headers"]}
                leg.update(
                    back={"client": t["client"], "server": t["server"], "index": t["index"]},
                    back_request_line=f"{t['method']} {t['target']} {t['version']}",
                    version_back=t["version"], back_host=next((v for k, v in recv if k.lower() == "host"), None),
                    back_status=t["status"], back_request_body_bytes=t["request_body_bytes"],
                    back_response_body_bytes=t["response_body_decoded_bytes"],
                    headers_removed=[k for k, _ in sent if k.lower() not in rn],
                    headers_added=[[k, v] for k, v in recv if k.lower() not in sn],
                    response_headers_removed=[k for k in back_resp if k not in {
                        x for x, _ in st["response_headers"]}],
                    response_headers_added=[[k, v] for k, v in st["response_headers"]
                                            if not k.startswith(":") and k not in back_resp],
                    nginx_upstream_addr=ups, nginx_upstream_status=st["nginx_access_log"]["upstream_status"])
                notes = []
                if leg["front_status"] != leg["back_status"]:
                    notes.append("status changed")
                if (leg["front_request_body_bytes"] or 0) != (leg["back_request_body_bytes"] or 0):
                    notes.append("request body length changed")
                leg["notes"] = notes
            else:
                leg["notes"] = ["answered by nginx itself (no upstream in its access log)"]
            legs.append(leg)
    left = [(t["client"], t["index"]) for t in txs if (t["client"], t["index"]) not in used]
    if left:
        raise SystemExit(f"h2_facts: back transactions no front stream asked for: {left}")
    with open(a.out, "w") as f:
        json.dump({"h2_proxy_legs": legs}, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("--pcap", required=True)
    c.add_argument("--keylog")
    c.add_argument("--keylog-name")
    c.add_argument("--server", action="append", required=True)
    c.add_argument("--nginx-log")
    c.add_argument("--nginx-debug")
    c.add_argument("--curl", action="append")
    c.add_argument("--bytes-log", action="append")
    c.add_argument("--nghttp-log")
    c.add_argument("--decode-as", action="append")
    c.add_argument("--summary-prefix")
    c.add_argument("--tshark-out", required=True)
    c.add_argument("--out", required=True)
    pl = sub.add_parser("proxy-legs")
    pl.add_argument("--h2", required=True)
    pl.add_argument("--backend-requests", required=True)
    pl.add_argument("--back", action="append")
    pl.add_argument("--out", required=True)
    a = ap.parse_args()
    {"capture": cmd_capture, "proxy-legs": cmd_proxy_legs}[a.cmd](a)


if __name__ == "__main__":
    main()
