#!/usr/bin/env python3
"""Facts of the browser WebSocket sample (websocket-browser) from the programs' own logs:
what headless Chromium's page logged (tools/ws_browser_lab.py's SCRIPT: one JSON line per
event, read back from the dumped DOM and from the copy it POSTed) and what the servers logged
(every byte each connection carried, every transport write, the `websockets` library's view of
the handshake, the messages and the close frames).

  ws_browser_facts.py --log PREFIX --dom DOM.html --browser VERSION-FILE
                      --ws HOST:PORT --refuse HOST:PORT --out DETAILS.json

Checks, each a hard failure:
  - the DOM's log and the POSTed log are the same lines;
  - the server's writes are one frame each (so frames_server_to_client are as the library wrote
    them); the client's frames are split from the bytes the server read (the browser cannot log
    its frames);
  - every message, inflated here (permessage-deflate, RFC 7692, one LZ77 context per direction
    since no *_no_context_takeover was agreed), is what the sender logged having sent and what
    the receiver logged having received: type, byte length and sha256, for the browser (via
    crypto.subtle) and for the server (the library's delivered message);
  - the close frames on the wire are the ones the library recorded (close_sent / close_rcvd),
    and the browser's close event has the server's code and reason.
The `details` written: `browser`, `page_log` (the page's events), `websocket_connections` (one,
in the format of samples/README.md, plus `close_initiator`, `browser_close_event`,
`extensions_browser_reports` and per message `browser` = the page's log line for it),
`refused_upgrades` (the connection the server refused by Origin), `summary`.
"""
import argparse
import hashlib
import html
import json
import os
import re
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ws_facts import head_at, split_frames  # noqa: E402


def sha(b):
    return hashlib.sha256(b).hexdigest()


def rd(p):
    with open(p, "rb") as f:
        return f.read()


def jsonl(p):
    return [json.loads(line) for line in open(p, encoding="utf-8") if line.strip()]


def hdr(headers, name):
    v = [x[1] for x in headers if x[0].lower() == name]
    return ", ".join(v) if v else None


def fail(msg):
    raise SystemExit("ws_browser_facts: " + msg)


def messages(frames, inflater, sender_log, receiver_log, direction):
    """Data messages of one direction; each inflated and checked against both programs' logs."""
    msgs, cur = [], None
    for f in frames:
        if f["opcode"] in (1, 2):
            cur = {"direction": direction, "index": len(msgs), "type": f["opcode_name"],
                   "frames": [], "compressed": f["rsv1"], "control_frames_inside": [],
                   "_wire": bytearray()}
            msgs.append(cur)
        if f["opcode"] in (0, 1, 2):
            if cur is None:
                fail(f"{direction}: continuation without a message")
            if f["opcode"] == 0 and f["rsv1"]:
                fail(f"{direction}: RSV1 on a continuation frame")
            cur["frames"].append(f["index"])
            cur["_wire"] += f["_payload"]
            f["message"] = cur["index"]
            if f["fin"]:
                cur = None
        else:
            f["message"] = None
            if cur is not None:
                cur["control_frames_inside"].append(f["index"])
    if len(msgs) != len(sender_log) or len(msgs) != len(receiver_log):
        fail(f"{direction}: {len(msgs)} messages on the wire, the sender logged "
             f"{len(sender_log)}, the receiver {len(receiver_log)}")
    for m, s, r in zip(msgs, sender_log, receiver_log):
        wire = bytes(m.pop("_wire"))
        data = inflater.decompress(wire + b"\x00\x00\xff\xff") if m["compressed"] else wire
        got = (m["type"], len(data), sha(data))
        for who, x in (("sender", s), ("receiver", r)):
            if (x["type"], x["bytes"], x["sha256"]) != got:
                fail(f"{direction} message {m['index']}: inflated {got[:2]}, the {who} logged "
                     f"{x['type']} {x['bytes']} B")
        m.update(fragments=len(m["frames"]), wire_payload_bytes=len(wire),
                 wire_payload_sha256=sha(wire), payload_bytes=len(data), sha256=sha(data),
                 payload_head_hex=data[:16].hex())
        if m["type"] == "text":
            m["payload_head_text"] = data[:40].decode("utf-8", "replace")
            if len(data) <= 64:
                m["payload_text"] = data.decode()
            m["chars"] = len(data.decode())
    return msgs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--dom", required=True)
    ap.add_argument("--browser", required=True)
    ap.add_argument("--ws", required=True)
    ap.add_argument("--refuse", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    P = a.log

    dom = open(a.dom, encoding="utf-8").read()
    pre = html.unescape(re.search(r'<pre id="out">(.*?)</pre>', dom, re.S).group(1))
    dom_lines = [json.loads(x) for x in pre.split("\n") if x.strip()]
    page = jsonl(P + ".page-log.jsonl")
    if dom_lines != page:
        fail("the DOM's log and the POSTed log differ")
    ev = lambda name: [e for e in page if e["event"] == name]
    if not ev("done"):
        fail("the page did not finish")

    # -- the accepted connection
    base = P + ".ws.1"
    if os.path.exists(P + ".ws.2.peer"):
        fail("more than one connection to the WebSocket server")
    c_bytes, s_bytes = rd(base + ".sent"), rd(base + ".recv")
    req_line, req_h, req_n = head_at(c_bytes, 0)
    resp_line, resp_h, resp_n = head_at(s_bytes, 0)
    sev = jsonl(base + ".wslog")
    hs = next(e for e in sev if e["event"] == "handshake")
    if resp_line.split(" ")[1] != "101" or hs["response_status"] != 101:
        fail(f"no upgrade: {resp_line}")
    if [list(x) for x in hs["request_headers"]] != req_h:
        fail("the library's request headers are not the logged bytes'")
    c2s = split_frames(c_bytes[req_n:], req_n, "client->server")
    s2c = split_frames(s_bytes[resp_n:], resp_n, "server->client")
    writes = [tuple(int(x) for x in line.split()) for line in open(base + ".writes")]
    want = [(0, resp_n)] + [(f["stream_offset"], f["_span"][1]) for f in s2c]
    if writes != want:
        fail(f"the server's writes {writes} are not one frame each {want}")
    agreed = hdr(resp_h, "sec-websocket-extensions")
    if not agreed or not agreed.startswith("permessage-deflate") or "no_context_takeover" in agreed:
        fail(f"unexpected extensions agreed: {agreed}")
    opened = ev("open")[0]
    b_sent = [e for e in page if e["event"] == "sent"]
    b_recv = [e for e in page if e["event"] == "received"]
    s_recv = [e for e in sev if e["event"] == "received"]
    s_sent = [e for e in sev if e["event"] == "sent"]
    m_c2s = messages(c2s, zlib.decompressobj(-15), b_sent, s_recv, "client->server")
    m_s2c = messages(s2c, zlib.decompressobj(-15), s_sent, b_recv, "server->client")
    for m, b in zip(m_c2s, b_sent):
        m["browser"] = b
    for m, b in zip(m_s2c, b_recv):
        m["browser"] = b

    def close_of(frames):
        cl = [f for f in frames if f["opcode"] == 8]
        if len(cl) != 1:
            fail(f"{len(cl)} close frames in one direction")
        return {"code": cl[0]["close_code"], "reason": cl[0]["close_reason"],
                "stream_offset": cl[0]["stream_offset"]}

    cc, sc = close_of(c2s), close_of(s2c)
    lost = next(e for e in sev if e["event"] == "connection_lost")
    if (lost["close_sent"], lost["close_rcvd"]) != (
            {"code": sc["code"], "reason": sc["reason"]}, {"code": cc["code"], "reason": cc["reason"]}):
        fail("the close frames on the wire are not the ones the library recorded")
    if lost["close_rcvd_then_sent"] is not False:
        fail("the server did not send its close first")
    bclose = ev("close")[0]
    if (bclose["code"], bclose["reason"], bclose["wasClean"]) != (sc["code"], sc["reason"], True):
        fail(f"the browser's close event {bclose} is not the server's close {sc}")
    # the server's close is its last frame; the browser's close answers it and nothing follows
    if s2c[-1]["opcode"] != 8 or c2s[-1]["opcode"] != 8:
        fail("a frame after a close frame")
    for f in c2s + s2c:
        del f["_payload"], f["_span"]
    client = open(base + ".peer").read().strip()
    conn = {"client": client, "server": a.ws, "path": req_line.split(" ")[1],
            "handshake": {"request_line": req_line, "request_bytes": req_n,
                          "response_line": resp_line, "response_bytes": resp_n,
                          "request_headers": req_h, "response_headers": resp_h,
                          "origin": hdr(req_h, "origin"),
                          "extensions_offered": hdr(req_h, "sec-websocket-extensions"),
                          "extensions_agreed": agreed},
            "extensions_browser_reports": opened["extensions"],
            "frames_client_to_server": c2s, "frames_server_to_client": s2c,
            "messages_client_to_server": m_c2s, "messages_server_to_client": m_s2c,
            "close": {"client": {k: cc[k] for k in ("code", "reason")},
                      "server": {k: sc[k] for k in ("code", "reason")}},
            "close_initiator": "server",
            "browser_close_event": {k: bclose[k] for k in ("code", "reason", "wasClean")},
            "peer_received_every_message": True,
            "source": "frames_server_to_client as the websockets server wrote them (its "
                      "transport writes, one frame each); frames_client_to_server split from the "
                      "bytes the server read (Chromium cannot log its frames); every message "
                      "inflated by this tool and equal (type, bytes, sha256) to what the page "
                      "logged (crypto.subtle) and to what the server library delivered or sent; "
                      "close frames as the library recorded them (close_sent/close_rcvd), the "
                      "server's first (close_rcvd_then_sent false)"}

    # -- the refused connection
    rbase = P + ".refuse.1"
    r_req, r_resp = rd(rbase + ".sent"), rd(rbase + ".recv")
    rl, rh, rn = head_at(r_req, 0)
    sl, sh, sn = head_at(r_resp, 0)
    body = r_resp[sn:]
    if int(sl.split(" ")[1]) != 403 or len(body) != int(hdr(sh, "content-length")):
        fail(f"the refused upgrade was answered {sl} with {len(body)} body bytes")
    if len(r_req) != rn:
        fail("the browser sent bytes after the refused upgrade request")
    rev = jsonl(rbase + ".wslog")
    if any(e["event"] == "unexpected-accept" for e in rev):
        fail("the refusing server accepted")
    rclose = ev("refused-close")[0]
    refused = {"client": open(rbase + ".peer").read().strip(), "server": a.refuse,
               "path": rl.split(" ")[1], "request_line": rl, "request_bytes": rn,
               "request_headers": rh, "origin": hdr(rh, "origin"),
               "extensions_offered": hdr(rh, "sec-websocket-extensions"),
               "response_line": sl, "response_status": 403, "response_bytes": len(r_resp),
               "response_headers": sh, "response_body": body.decode(),
               "server_rule": "websockets serve(origins=['http://allowed.hopscope.invalid']): "
                              "any other Origin is refused with 403",
               "browser_error_event": bool(ev("refused-error")),
               "browser_close_event": {k: rclose[k] for k in ("code", "reason", "wasClean")}}

    def mdesc(ms):
        return ", ".join(f"{m['type']} {m['payload_bytes']} B in {m['fragments']} frame(s)"
                         + (f" compressed to {m['wire_payload_bytes']} B" if m["compressed"] else "")
                         for m in ms)

    summary = (f"{client} -> {a.ws}{conn['path']}: offered '{conn['handshake']['extensions_offered']}', "
               f"agreed '{agreed}'; browser sent {len(c2s)} frames ({mdesc(m_c2s)}), server echoed "
               f"in {len(s2c)} frames ({mdesc(m_s2c)}); the server closed first with "
               f"{sc['code']} '{sc['reason']}', Chromium answered {cc['code']} '{cc['reason']}' "
               f"(close event code {bclose['code']}, wasClean {str(bclose['wasClean']).lower()}); "
               f"{refused['client']} -> {a.refuse}{refused['path']}: Origin {refused['origin']} "
               f"refused with 403 (close event code {rclose['code']}, wasClean "
               f"{str(rclose['wasClean']).lower()})")
    out = {"browser": open(a.browser).read().strip(), "page": page[0]["origin"] + "/page.html",
           "page_log": page, "websocket_connections": [conn], "refused_upgrades": [refused],
           "summary": summary}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    sys.exit(main())
