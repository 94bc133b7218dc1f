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
"""
import argparse
import hashlib
import json
import subprocess
import sys


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
    a = ap.parse_args()
    connection(a) if a.cmd == "connection" else merge(a)


if __name__ == "__main__":
    sys.exit(main())
