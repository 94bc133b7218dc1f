#!/usr/bin/env python3
"""HTTP/1.x transactions from the two byte streams of one connection, as a client logged them.

The sample recorder gets the exact bytes a client wrote to and read from its socket (curl's
`--trace`, or the log of tools/http_raw_client.py). This module splits those bytes into
request/response exchanges: request line, headers, body framing (Content-Length or chunked),
interim 1xx responses, the final response's framing (Content-Length, chunked with extensions and
trailers, close-delimited, or none for HEAD/1xx/204/304), and the content-coding (gzip, deflate
zlib-wrapped or raw, br, stacked codings such as "gzip, br"). It stops at a 101 or a successful
CONNECT (the rest of the connection is not HTTP), unless --through-connect says the tunnel
carries plaintext HTTP/1.x: then the requests inside the tunnel are split too, numbered on
after the CONNECT (`index` counts the requests on the TCP connection).

It is deliberately strict: a head it cannot split cleanly is an error, because the recorder
only feeds it well-formed traffic and wants to know when its idea of the exchange is wrong.
The smuggling sample (deliberately malformed requests) does not use it.

  httpwire.py transactions --client C --server S --source TEXT
              (--curl-trace TRACE | --log PREFIX) [--body FILE|-]... [--out JSON]
      --curl-trace: the bytes and their send/receive order from `curl --trace`.
      --log: PREFIX.sent, PREFIX.recv and optionally PREFIX.events (JSON list of
             ["send"|"recv", n]) as written by http_raw_client.py; without events there is no
             "pipelined" field (e.g. the WebSocket programs' logs).
      --body: the decoded response body the client itself saved, one per transaction in order
              ("-" for none); its sha256 must equal ours or the command fails.
      --headers: also request_headers / response_headers (every field line, in order).
      Writes a JSON list of transactions (fields: see samples/README.md).
"""
import argparse
import gzip
import hashlib
import json
import os
import sys
import zlib

try:
    import brotli
except ImportError:  # only needed for br
    brotli = None

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import curl_trace_bytes  # noqa: E402


class Incomplete(Exception):
    pass


def sha(b):
    return hashlib.sha256(b).hexdigest()


def parse_head(buf, off):
    """-> (start line, [(name, value)], offset after the blank line)"""
    end = buf.find(b"\r\n\r\n", off)
    if end < 0:
        raise Incomplete(f"no end of head after offset {off}")
    lines = bytes(buf[off:end]).split(b"\r\n")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or name != name.strip() or not name:
            raise ValueError(f"unexpected header line {line!r} at offset {off}")
        headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
    return lines[0].decode("latin-1"), headers, end + 4


def field(headers, name):
    vals = [v for n, v in headers if n.lower() == name]
    return ", ".join(vals) if vals else None


def codings(value):
    return [c.strip().lower() for c in value.split(",") if c.strip()] if value else []


def read_chunked(buf, off):
    """-> dict(data, end, sizes, extensions, trailers)"""
    data, sizes, exts = bytearray(), [], []
    while True:
        le = buf.find(b"\r\n", off)
        if le < 0:
            raise Incomplete("chunk size line")
        line = bytes(buf[off:le]).decode("latin-1")
        size_s, semi, ext = line.partition(";")
        size = int(size_s.strip(), 16)
        if semi:
            exts.append({"chunk": len(sizes), "extension": ";" + ext})
        off = le + 2
        sizes.append(size)
        if size == 0:
            break
        if len(buf) < off + size + 2:
            raise Incomplete("chunk data")
        data += buf[off:off + size]
        if buf[off + size:off + size + 2] != b"\r\n":
            raise ValueError(f"chunk data not followed by CRLF at offset {off + size}")
        off += size + 2
    trailers = []
    while True:
        le = buf.find(b"\r\n", off)
        if le < 0:
            raise Incomplete("trailer section")
        line = bytes(buf[off:le])
        off = le + 2
        if not line:
            break
        n, _, v = line.partition(b":")
        trailers.append([n.decode("latin-1"), v.strip(b" \t").decode("latin-1")])
    return {"data": bytes(data), "end": off, "sizes": sizes, "extensions": exts,
            "trailers": trailers}


def decode_content(data, ce):
    """Undo the content-codings (listed in the order they were applied). -> (bytes, notes)"""
    notes = []
    for c in reversed(codings(ce)):
        if c in ("gzip", "x-gzip"):
            data = gzip.decompress(data)
        elif c == "deflate":
            try:
                data = zlib.decompress(data)
            except zlib.error:
                data = zlib.decompress(data, -15)
                notes.append("deflate without zlib header (raw RFC 1951)")
        elif c == "br":
            if brotli is None:
                raise SystemExit("httpwire: Content-Encoding br needs the brotli module")
            data = brotli.decompress(data)
        elif c != "identity":
            raise ValueError(f"unknown content-coding {c!r}")
    return data, notes


def parse_request(c, off):
    start, headers, body_off = parse_head(c, off)
    method, target, version = start.split(" ", 2)
    te = field(headers, "transfer-encoding")
    cl = field(headers, "content-length")
    req = {"offset": off, "method": method, "target": target, "version": version,
           "head_bytes": body_off - off, "transfer_encoding": te, "headers": headers}
    if codings(te)[-1:] == ["chunked"]:
        ch = read_chunked(c, body_off)
        req.update(body=ch["data"], end=ch["end"], chunk_sizes=ch["sizes"],
                   trailers=ch["trailers"])
    elif cl is not None:
        n = int(cl)
        if len(c) < body_off + n:
            raise Incomplete("request body")
        req.update(body=bytes(c[body_off:body_off + n]), end=body_off + n)
    else:
        req.update(body=b"", end=body_off)
    req["body_wire_bytes"] = req["end"] - body_off
    return req


def parse_response(s, off, method, closed):
    first = off
    interim = []
    while True:
        start, headers, body_off = parse_head(s, off)
        parts = start.split(" ", 2)
        version, status = parts[0], int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        if 100 <= status < 200 and status != 101:
            interim.append({"status": status, "offset": off, "headers": headers})
            off = body_off
            continue
        break
    te = field(headers, "transfer-encoding")
    cl = field(headers, "content-length")
    r = {"offset": first, "final_offset": off, "version": version, "status": status,
         "reason": reason, "head_bytes": body_off - off, "headers": headers, "interim": interim,
         "transfer_encoding": te, "content_encoding": field(headers, "content-encoding"),
         "content_length": int(cl) if cl is not None else None,
         "chunk_sizes": None, "chunk_extensions": None, "trailers": None}
    if (method == "HEAD" or status in (101, 204, 304)
            or (method == "CONNECT" and 200 <= status < 300)):
        r.update(framing="none", payload=b"", end=body_off)
    elif codings(te)[-1:] == ["chunked"]:
        ch = read_chunked(s, body_off)
        r.update(framing="chunked", payload=ch["data"], end=ch["end"],
                 chunk_sizes=ch["sizes"], chunk_extensions=ch["extensions"],
                 trailers=ch["trailers"])
    elif cl is not None:
        n = int(cl)
        if len(s) < body_off + n:
            raise Incomplete("response body")
        r.update(framing="content-length", payload=bytes(s[body_off:body_off + n]),
                 end=body_off + n)
    else:
        if not closed:
            raise Incomplete("close-delimited body before the close")
        r.update(framing="close", payload=bytes(s[body_off:]), end=len(s))
    r["body_wire_bytes"] = r["end"] - body_off
    return r


def send_position(events, stream_offset):
    """How many server bytes the client had received when it sent client byte stream_offset."""
    sent = recv = 0
    for kind, n in events:
        if kind == "send":
            if sent + n > stream_offset:
                return recv
            sent += n
        else:
            recv += n
    return recv


def unanswered(req, client, server, source, index):
    return {"client": client, "server": server, "index": index,
            "method": req["method"], "target": req["target"], "version": req["version"],
            "request_offset": req["offset"], "request_head_bytes": req["head_bytes"],
            "request_headers": [list(h) for h in req["headers"]],
            "request_body_wire_bytes": req["body_wire_bytes"],
            "request_body_bytes": len(req["body"]), "interim": [], "status": None,
            "response_framing": None, "note": "no response: the server closed the connection",
            "source": source}


def transactions(c, s, client, server, source, events=None, closed=True, bodies=None,
                 allow_unanswered=False, headers=False, through_connect=False):
    out = []
    coff = soff = 0
    prev_end = None
    while coff < len(c):
        req = parse_request(c, coff)
        if allow_unanswered and soff == len(s):
            out.append(unanswered(req, client, server, source, len(out)))
            coff = req["end"]
            continue
        resp = parse_response(s, soff, req["method"], closed)
        decoded, notes = decode_content(resp["payload"], resp["content_encoding"])
        t = {"client": client, "server": server, "index": len(out)}
        if events is not None:
            # sent before the previous response had fully arrived = pipelined
            t["pipelined"] = prev_end is not None and send_position(events, coff) < prev_end
        t.update({
            "method": req["method"], "target": req["target"], "version": req["version"],
            "request_offset": req["offset"], "request_head_bytes": req["head_bytes"],
            "expect": field(req["headers"], "expect"),
            "request_transfer_encoding": req["transfer_encoding"],
            "request_body_wire_bytes": req["body_wire_bytes"],
            "request_body_bytes": len(req["body"]),
            "request_body_sha256": sha(req["body"]),
            "interim": [i["status"] for i in resp["interim"]],
            "interim_headers": [[list(h) for h in i["headers"]] for i in resp["interim"]],
            "status": resp["status"], "reason": resp["reason"],
            "response_version": resp["version"],
            "response_offset": resp["offset"], "final_response_offset": resp["final_offset"],
            "response_head_bytes": resp["head_bytes"],
            "response_framing": resp["framing"],
            "content_length": resp["content_length"],
            "transfer_encoding": resp["transfer_encoding"],
            "content_encoding": resp["content_encoding"],
            "response_body_wire_bytes": resp["body_wire_bytes"],
            "response_body_payload_bytes": len(resp["payload"]),
            "response_body_decoded_bytes": len(decoded),
            "response_body_sha256": sha(decoded),
        })
        if req.get("chunk_sizes") is not None:
            t["request_chunk_sizes"] = req["chunk_sizes"]
        if resp["chunk_sizes"] is not None:
            t.update(chunk_sizes=resp["chunk_sizes"], chunk_extensions=resp["chunk_extensions"],
                     trailers=resp["trailers"])
        if notes:
            t["decoding_notes"] = notes
        if resp["status"] == 101:
            t["upgrade"] = field(resp["headers"], "upgrade")
        if headers:
            t["request_headers"] = [list(h) for h in req["headers"]]
            t["response_headers"] = [list(h) for h in resp["headers"]]
        t["source"] = source
        if bodies is not None:
            b = bodies[len(out)] if len(out) < len(bodies) else "-"
            if b != "-":
                with open(b, "rb") as f:
                    mine = f.read()
                if sha(mine) != t["response_body_sha256"]:
                    raise SystemExit(f"httpwire: {b}: the client's decoded body ({len(mine)} B) "
                                     f"differs from ours ({len(decoded)} B) for {req['target']}")
                t["client_decoded_body_agrees"] = True
        out.append(t)
        coff, soff, prev_end = req["end"], resp["end"], resp["end"]
        if req["method"] == "CONNECT" and 200 <= resp["status"] < 300:
            if not through_connect:
                break
            t["tunnel_follows"] = True
            continue
        if resp["status"] == 101:
            break
        if resp["framing"] == "close":
            break
    return out, coff, soff


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("transactions")
    t.add_argument("--client", required=True)
    t.add_argument("--server", required=True)
    t.add_argument("--source", required=True)
    g = t.add_mutually_exclusive_group(required=True)
    g.add_argument("--curl-trace")
    g.add_argument("--log")
    t.add_argument("--body", action="append")
    t.add_argument("--allow-trailing", action="store_true",
                   help="bytes after the last HTTP exchange (a tunnel, WebSocket frames) are fine")
    t.add_argument("--allow-unanswered", action="store_true",
                   help="a request the server never answered (it closed) is a transaction "
                        "with status null")
    t.add_argument("--stream-offset-client", type=int, default=0,
                   help="the logged bytes start this far into the client->server stream "
                        "(e.g. after a SOCKS handshake curl does not trace); added to offsets")
    t.add_argument("--stream-offset-server", type=int, default=0)
    t.add_argument("--through-connect", action="store_true",
                   help="after a successful CONNECT the tunnel carries plaintext HTTP/1.x: split "
                        "the requests inside it too (index keeps counting on the connection)")
    t.add_argument("--headers", action="store_true",
                   help="also every request and final-response header line, in order "
                        "(request_headers / response_headers: [[name, value], ...])")
    t.add_argument("--out")
    a = ap.parse_args()
    if a.curl_trace:
        c, s = curl_trace_bytes.parse(a.curl_trace)
        events = curl_trace_bytes.events(a.curl_trace)
    else:
        with open(a.log + ".sent", "rb") as f:
            c = f.read()
        with open(a.log + ".recv", "rb") as f:
            s = f.read()
        events = None
        if os.path.exists(a.log + ".events"):
            with open(a.log + ".events") as f:
                events = json.load(f)
    txs, cend, send = transactions(c, s, a.client, a.server, a.source, events=events,
                                   bodies=a.body, allow_unanswered=a.allow_unanswered,
                                   headers=a.headers, through_connect=a.through_connect)
    if not a.allow_trailing and (cend != len(c) or send != len(s)):
        raise SystemExit(f"httpwire: {len(c) - cend} client / {len(s) - send} server bytes "
                         f"after the last exchange")
    for t in txs:
        t["request_offset"] += a.stream_offset_client
        for k in ("response_offset", "final_response_offset"):
            if k in t:
                t[k] += a.stream_offset_server
    text = json.dumps(txs, indent=1)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
