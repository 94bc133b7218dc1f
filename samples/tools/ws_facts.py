#!/usr/bin/env python3
"""WebSocket facts for a sample: merge the client's and the server's own logs of one connection
(tools/ws_frames.py or tools/ws_bad.py) into one `details` entry, and check them against each
other.

  ws_facts.py connection --client-log PREFIX --server-log PREFIX --client C --server S
                         [--pcap FILE --port N] --out JSON
      PREFIX.json, .sent, .recv as the tools write them. Both sides must have logged the same
      bytes in each direction (the server's log is a second copy of the same stream), and every
      message one side sent must be what the other side's library received.
      With --pcap: tshark's WebSocket view of the same connection (frames per direction and
      their opcodes) is added as `tshark_websocket`, a second opinion only.
  ws_facts.py merge JSON... --summary-key websocket_connections   -> details JSON on stdout
  ws_facts.py tunnel-legs --client-log PREFIX --server-log PREFIX --front C S --back C S
                          --out JSON
      A WebSocket conversation that went through a tunnel (SOCKS5 or CONNECT) set up by
      ws_client.py --socks5 / --connect-proxy, to ws_server.py --log: the client leg (C S of the
      client's connection to the proxy) and the upstream leg (the proxy's connection to the
      server, as the server logged it). The tunnel must carry the same bytes on both legs: what
      the client wrote after the proxy handshake is what the server read, what the server wrote
      is what the client read after the proxy's answer. Frames are split from those bytes and
      must begin and end exactly where the writer's transport writes did (one write = one
      frame), so each frame is as the writing program wrote it. Writes
      {"websocket_connections": [client leg, upstream leg], "tunnels": [the tunnel]} in the
      format of samples/README.md.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def sha(b):
    return hashlib.sha256(b).hexdigest()


def rd(p):
    with open(p, "rb") as f:
        return f.read()


def hdr(headers, name):
    v = [x[1] for x in headers if x[0].lower() == name]
    return ", ".join(v) if v else None


def tshark_ws(pcap, port, client):
    cport = client.rsplit(":", 1)[1]
    p = subprocess.run(["tshark", "-r", pcap, "-d", f"tcp.port=={port},http", "-Y",
                        f"websocket && tcp.port=={cport}", "-T", "fields", "-E",
                        "occurrence=a", "-e", "frame.number", "-e", "tcp.srcport",
                        "-e", "websocket.opcode", "-e", "websocket.fin", "-e", "websocket.mask"],
                       capture_output=True, text=True)
    c2s, s2c = [], []
    for line in p.stdout.splitlines():
        frame, sport, ops, fins, masks = (line.split("\t") + [""] * 5)[:5]
        for op, fin, mask in zip(ops.split(","), fins.split(","), masks.split(",")):
            (c2s if sport == cport else s2c).append(
                {"frame": int(frame), "opcode": int(op), "fin": fin in ("1", "True"),
                 "masked": mask in ("1", "True")})
    return {"client_to_server": c2s, "server_to_client": s2c,
            "how": f"tshark -d tcp.port=={port},http -Y websocket -e websocket.opcode "
                   "-e websocket.fin -e websocket.mask (tshark's dissector, not the programs' "
                   "logs)"}


def connection(a):
    cj = json.load(open(a.client_log + ".json"))
    sj = json.load(open(a.server_log + ".json"))
    for ext in (".sent", ".recv"):
        if rd(a.client_log + ext) != rd(a.server_log + ext):
            raise SystemExit(f"ws_facts: client and server logs differ ({ext})")
    # what one side sent (app payload) is what the other side's library handed up
    for snd, rcv, what in ((cj, sj, "client->server"), (sj, cj, "server->client")):
        sent = [(m["type"], m["payload_bytes"], m["sha256"]) for m in snd.get("messages_sent", [])]
        got = [(m["type"], m["bytes"], m["sha256"]) for m in rcv.get("messages_received", [])]
        if "messages_received" in rcv and sent != got:
            raise SystemExit(f"ws_facts: {what}: sent {sent} but the peer received {got}")
    hs = cj["handshake"]
    out = {"client": a.client, "server": a.server,
           "path": hs["request_line"].split(" ")[1],
           "handshake": {"request_line": hs["request_line"], "request_bytes": hs["request_bytes"],
                         "response_line": hs["response_line"],
                         "response_bytes": hs["response_bytes"],
                         "request_headers": hs["request_headers"],
                         "response_headers": hs["response_headers"],
                         "extensions_offered": hdr(hs["request_headers"], "sec-websocket-extensions"),
                         "extensions_agreed": hdr(hs["response_headers"], "sec-websocket-extensions")},
           "frames_client_to_server": cj["frames_sent"],
           "frames_server_to_client": sj["frames_sent"],
           "messages_client_to_server": cj.get("messages_sent"),
           "messages_server_to_client": sj.get("messages_sent"),
           "close": {side: next(({"code": f.get("close_code"), "reason": f.get("close_reason")}
                                 for f in j["frames_sent"] if f["opcode"] == 8), None)
                     for side, j in (("client", cj), ("server", sj))},
           "peer_received_every_message": True if "messages_received" in cj else None,
           "source": "frames_client_to_server from the client's log, frames_server_to_client "
                     "from the server's log (each side logs the frames it wrote); both logs "
                     "hold the same stream bytes"}
    if a.case_json:
        case = next(c for c in json.load(open(a.case_json)) if c["case"] == cj["case"])
        mine = cj if case["by"] == "client" else sj
        other = sj if case["by"] == "client" else cj
        bad = [f for f in mine["frames_sent"] if f.get("note") == "the violation"]
        assert [f["frame_hex"] for f in bad] == case["violating_frames_hex"]
        react = [f for f in other["frames_sent"] if f.get("note", "").startswith("the re")]
        case.update(client=a.client, server=a.server,
                    violating_frames=[{k: f[k] for k in ("direction", "index", "stream_offset",
                                                         "frame_hex")} for f in bad],
                    reaction=({k: react[0][k] for k in ("direction", "close_code", "close_reason",
                                                       "frame_hex")} if react else
                              "the client closed TCP without sending a frame"),
                    client_checks=cj["handshake"].get("client_checks"))
        out["case"] = case
    if a.pcap:
        out["tshark_websocket"] = tshark_ws(a.pcap, a.port, a.client)
        mine = [(f["opcode"], f["fin"], f["masked"]) for f in cj["frames_sent"]]
        theirs = [(f["opcode"], f["fin"], f["masked"]) for f in out["tshark_websocket"]["client_to_server"]]
        mine_s = [(f["opcode"], f["fin"], f["masked"]) for f in sj["frames_sent"]]
        theirs_s = [(f["opcode"], f["fin"], f["masked"]) for f in out["tshark_websocket"]["server_to_client"]]
        out["tshark_websocket"]["agrees"] = mine == theirs and mine_s == theirs_s
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)


def summary(c):
    if "case" in c:
        k = c["case"]
        r = k["reaction"]
        return (f"{k['client']} {k['case']} (by the {k['by']}): "
                + " + ".join(k["violating_frames_hex"] or ["bad handshake response"])
                + " -> " + (f"close {r['close_code']} '{r['close_reason']}'" if isinstance(r, dict) else r))
    def msgs(ms):
        if ms is None:
            return "-"
        return ", ".join(f"{m['type']} {m['payload_bytes']} B in {m['fragments']} frame(s)"
                         + (" compressed" if m.get("compressed") else "")
                         + (f" ({m['wire_payload_bytes']} B on the wire)" if m.get("compressed") else "")
                         for m in ms)
    cl = c["close"]
    fmt = lambda x: f"{x['code']} '{x['reason']}'" if x else "none"
    s = (f"{c['client']} {c['path']}: extensions agreed: {c['handshake']['extensions_agreed'] or 'none'}; "
         f"client sent {len(c['frames_client_to_server'])} frames (messages: "
         f"{msgs(c['messages_client_to_server'])}), server sent "
         f"{len(c['frames_server_to_client'])} frames (messages: {msgs(c['messages_server_to_client'])}); "
         f"close client {fmt(cl['client'])}, server {fmt(cl['server'])}")
    return s


def merge(a):
    conns = [json.load(open(p)) for p in a.files]
    print(json.dumps({"websocket_connections": conns,
                      "summary": "; ".join(summary(c) for c in conns)}, indent=1))


def split_frames(buf, base, direction):
    """Every frame in buf (one direction's bytes after the handshake), offsets + base."""
    from ws_frames import OPNAMES, describe
    frames, off = [], 0
    while off < len(buf):
        b0, b1 = buf[off], buf[off + 1]
        n, h, enc = b1 & 0x7F, 2, "7-bit"
        if n == 126:
            n, h, enc = int.from_bytes(buf[off + 2:off + 4], "big"), 4, "16-bit"
        elif n == 127:
            n, h, enc = int.from_bytes(buf[off + 2:off + 10], "big"), 10, "64-bit"
        key = None
        if b1 & 0x80:
            key, h = bytes(buf[off + h:off + h + 4]), h + 4
        payload = bytes(buf[off + h:off + h + n])
        if len(payload) != n:
            raise SystemExit(f"ws_facts: {direction}: frame at {base + off} is cut short")
        if key:
            payload = bytes(x ^ key[i % 4] for i, x in enumerate(payload))
        f = {"direction": direction, "index": len(frames), "stream_offset": base + off,
             "fin": bool(b0 & 0x80), "rsv1": bool(b0 & 0x40), "rsv2": bool(b0 & 0x20),
             "rsv3": bool(b0 & 0x10), "opcode": b0 & 0x0F,
             "opcode_name": OPNAMES.get(b0 & 0x0F, "reserved"), "masked": bool(b1 & 0x80),
             "mask_key": key.hex() if key else None, "header_bytes": h, "length_field": enc,
             "payload_length": n, "payload_sha256": sha(payload)}
        if f["opcode"] not in (0, 1, 2):
            f.update(describe(payload))   # control frames; data frames: see messages_of
        if f["opcode"] == 8:
            f["close_code"] = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
            f["close_reason"] = payload[2:].decode() if len(payload) >= 2 else None
        f["_payload"] = payload
        f["_span"] = (off, h + n)
        frames.append(f)
        off += h + n
    return frames


def shown(data, typ):
    """payload_text for text (when valid UTF-8), payload_hex for binary; at most 64 bytes."""
    if len(data) > 64:
        return {}
    if typ == "text":
        try:
            return {"payload_text": data.decode()}
        except UnicodeDecodeError:
            pass
    return {"payload_hex": data.hex()}


def messages_of(frames, app):
    """Data messages from the frames; app = [(type, payload sha256, bytes)] the program sent."""
    msgs, open_m = [], None
    for f in frames:
        if f["opcode"] in (1, 2):
            open_m = {"direction": f["direction"], "index": len(msgs), "type": f["opcode_name"],
                      "frames": [], "compressed": f["rsv1"], "wire_payload_bytes": 0,
                      "control_frames_inside": [], "_wire": bytearray()}
            msgs.append(open_m)
        if f["opcode"] in (0, 1, 2):
            if open_m is None:
                raise SystemExit("ws_facts: continuation without a message")
            open_m["frames"].append(f["index"])
            open_m["wire_payload_bytes"] += f["payload_length"]
            open_m["_wire"] += f["_payload"]
            f.update(shown(f["_payload"], open_m["type"]))
            f["message"] = open_m["index"]
            if f["fin"]:
                open_m = None
        else:
            f["message"] = None
            if open_m is not None:
                open_m["control_frames_inside"].append(f["index"])
    if len(msgs) != len(app):
        raise SystemExit(f"ws_facts: {len(msgs)} messages on the wire, the program logged {len(app)}")
    for m, (typ, digest, n) in zip(msgs, app):
        data = bytes(m.pop("_wire"))
        # no extension was negotiated: the wire payload is the message the program sent
        if (m["type"], sha(data), len(data)) != (typ, digest, n):
            raise SystemExit(f"ws_facts: message {m['index']}: the wire has {m['type']} "
                             f"{len(data)} B, the program logged {typ} {n} B")
        m.update(fragments=len(m["frames"]), wire_payload_sha256=sha(data),
                 payload_bytes=len(data), sha256=digest)
        m.update(shown(data, m["type"]))
    return msgs


def head_at(buf, off):
    end = buf.index(b"\r\n\r\n", off) + 4
    lines = bytes(buf[off:end - 4]).decode("latin-1").split("\r\n")
    return lines[0], [[x.strip() for x in l.split(":", 1)] for l in lines[1:]], end - off


def tunnel_legs(a):
    cj = json.load(open(a.client_log + ".json"))
    ph = cj["proxy_handshake"]
    c_sent, c_recv = rd(a.client_log + ".sent"), rd(a.client_log + ".recv")
    s_sent, s_recv = rd(a.server_log + ".sent"), rd(a.server_log + ".recv")
    hc, hs = ph["client_bytes"], ph["server_bytes"]
    if c_sent[hc:] != s_sent or c_recv[hs:] != s_recv:
        raise SystemExit("ws_facts: the tunnel did not carry the same bytes on both legs")
    if os.path.getsize(a.server_log + ".sent") == 0:
        raise SystemExit("ws_facts: the server got nothing")
    req_line, req_h, req_n = head_at(s_sent, 0)
    resp_line, resp_h, resp_n = head_at(s_recv, 0)
    if resp_line.split(" ")[1] != "101":
        raise SystemExit(f"ws_facts: no upgrade: {resp_line}")
    c2s = split_frames(s_sent[req_n:], req_n, "client->server")
    s2c = split_frames(s_recv[resp_n:], resp_n, "server->client")
    # one transport write = one frame, for both writers (offsets in their own streams)
    cw = [tuple(w) for w in cj["writes"]]
    want_c = [(hc, req_n)] + [(hc + f["stream_offset"], f["_span"][1]) for f in c2s]
    if cw != want_c:
        raise SystemExit(f"ws_facts: the client's writes {cw} are not one frame each {want_c}")
    sw = [tuple(int(x) for x in l.split()) for l in open(a.server_log + ".writes")]
    want_s = [(0, resp_n)] + [(f["stream_offset"], f["_span"][1]) for f in s2c]
    if sw != want_s:
        raise SystemExit(f"ws_facts: the server's writes {sw} are not one frame each {want_s}")
    smsgs = [json.loads(l) for l in open(a.server_log + ".messages")]
    c_app = [(m["type"], m["sha256"], m["length"]) for m in cj["messages"]]
    s_got = [(m["type"], m["sha256"], m["bytes"]) for m in smsgs if m["event"] == "received"]
    s_app = [(m["type"], m["sha256"], m["bytes"]) for m in smsgs if m["event"] == "sent"]
    if c_app != s_got:
        raise SystemExit("ws_facts: the server did not receive what the client sent")
    # ws_client.py checks every echo against what it sent before logging the message
    if s_app != c_app:
        raise SystemExit("ws_facts: the server did not echo what it received")
    m_c2s, m_s2c = messages_of(c2s, c_app), messages_of(s2c, s_app)
    for f in c2s + s2c:
        del f["_payload"], f["_span"]

    def hdr(h, name):
        v = [x[1] for x in h if x[0].lower() == name]
        return ", ".join(v) if v else None

    def close(frames):
        return next(({"code": f["close_code"], "reason": f["close_reason"]}
                     for f in frames if f["opcode"] == 8), None)

    def leg(client, server, dc, ds, which):
        shift = lambda fs, d: [dict(f, stream_offset=f["stream_offset"] + d) for f in fs]
        return {"client": client, "server": server, "path": req_line.split(" ")[1],
                "leg": which,
                "handshake": {"request_line": req_line, "request_bytes": req_n,
                              "request_offset": dc, "response_line": resp_line,
                              "response_bytes": resp_n, "response_offset": ds,
                              "request_headers": req_h, "response_headers": resp_h,
                              "extensions_offered": hdr(req_h, "sec-websocket-extensions"),
                              "extensions_agreed": hdr(resp_h, "sec-websocket-extensions")},
                "frames_client_to_server": shift(c2s, dc),
                "frames_server_to_client": shift(s2c, ds),
                "messages_client_to_server": m_c2s, "messages_server_to_client": m_s2c,
                "close": {"client": close(c2s), "server": close(s2c)},
                "peer_received_every_message": True,
                "identical_on_both_legs": True,
                "source": "frames_client_to_server as ws_client.py wrote them (its transport "
                          "writes, one frame each), frames_server_to_client as ws_server.py "
                          "wrote them; the tunnel carried the same bytes on both legs (the "
                          "client's log after the proxy handshake equals the server's log), so "
                          "both legs have the same frames, offset by the proxy handshake on the "
                          "client leg"}

    front = leg(a.front[0], a.front[1], hc, hs, "client -> proxy (inside the tunnel)")
    back = leg(a.back[0], a.back[1], 0, 0, "proxy -> server")
    t = {"client": a.front[0], "proxy": a.front[1], "kind": ph["kind"], "target": ph["target"],
         "established": True, "upstream": {"client": a.back[0], "server": a.back[1]},
         "tunnel_stream_offset_client": hc, "tunnel_stream_offset_server": hs,
         "bytes_to_target": len(s_sent), "bytes_from_target": len(s_recv),
         "carries": "an HTTP/1.1 WebSocket upgrade (101), then WebSocket frames",
         "tunnel_bytes_identical_on_both_legs": True}
    if ph["kind"] == "socks5":
        from facts import parse_socks5
        t["auth"] = "none"
        t["socks5"] = parse_socks5(c_sent[:hc], c_recv[:hs])
        t["socks5_client_handshake_hex"] = c_sent[:hc].hex()
        t["socks5_server_handshake_hex"] = c_recv[:hs].hex()
    else:
        line, h, n = head_at(c_sent, 0)
        rline, rh, rn = head_at(c_recv, 0)
        assert (n, rn) == (hc, hs)
        t.update(connect_request_line=line, connect_request_headers=h,
                 connect_response_status=int(rline.split(" ")[1]),
                 connect_response_reason=rline.split(" ", 2)[2],
                 connect_response_version=rline.split(" ")[0],
                 connect_response_headers=rh,
                 proxy_agent=hdr(rh, "proxy-agent"))
    out = {"websocket_connections": [front, back], "tunnels": [t]}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("connection")
    c.add_argument("--client-log", required=True)
    c.add_argument("--server-log", required=True)
    c.add_argument("--client", required=True)
    c.add_argument("--server", required=True)
    c.add_argument("--pcap")
    c.add_argument("--port")
    c.add_argument("--case-json", help="tools/ws_bad.py cases --verdicts output")
    c.add_argument("--out", required=True)
    m = sub.add_parser("merge")
    m.add_argument("files", nargs="+")
    t = sub.add_parser("tunnel-legs")
    t.add_argument("--client-log", required=True)
    t.add_argument("--server-log", required=True)
    t.add_argument("--front", nargs=2, required=True, metavar=("CLIENT", "SERVER"))
    t.add_argument("--back", nargs=2, required=True, metavar=("CLIENT", "SERVER"))
    t.add_argument("--out", required=True)
    a = ap.parse_args()
    {"connection": connection, "merge": merge, "tunnel-legs": tunnel_legs}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
