#!/usr/bin/env python3
"""details.chromium_netlog for h2-chromium.pcap: what Chromium's own NetLog (--log-net-log)
says of its HTTP/2 streams, checked stream by stream against nginx's view (details.h2_connections
written by tools/h2_facts.py from nginx's debug and access logs).

  h2_netlog_facts.py --netlog NETLOG.json --h2 H2.json --dom DOM.html --browser VERSION.txt --out JSON

NetLog events used: TCP_CONNECT (its end carries local_address, the client's ephemeral port),
HTTP2_SESSION_INITIALIZED (source_dependency: the socket the session runs on),
HTTP2_SESSION_SEND_HEADERS (stream_id, the request header list, fin), HTTP2_SESSION_RECV_HEADERS
(stream_id, the response header list) and HTTP2_SESSION_RECV_DATA (stream_id, size, fin). Every
stream's method, path, request and response header lists, status and DATA bytes must equal
nginx's, and each side must have the same streams, or the command fails.
"""
import argparse
import json
import re


def load(path):
    txt = open(path).read()
    try:
        return json.loads(txt)
    except json.JSONDecodeError:
        # a NetLog whose writer did not finish: the events so far
        return json.loads(txt.rstrip().rstrip(",") + "]}")


def field(line):
    i = line.index(":", 1)
    return [line[:i], line[i + 1:].lstrip(" ")]


def sessions(nl):
    names = {v: k for k, v in nl["constants"]["logEventTypes"].items()}
    local = {}
    out = {}
    for e in nl["events"]:
        n, p, sid = names.get(e["type"]), e.get("params") or {}, e["source"]["id"]
        if n == "TCP_CONNECT" and "local_address" in p:
            local[sid] = p["local_address"]
        elif n == "HTTP2_SESSION_INITIALIZED":
            out[sid] = {"socket": p["source_dependency"]["id"], "protocol": p.get("protocol"), "streams": {}}
        elif n in ("HTTP2_SESSION_SEND_HEADERS", "HTTP2_SESSION_RECV_HEADERS", "HTTP2_SESSION_RECV_DATA"):
            s = out[sid]["streams"].setdefault(p["stream_id"], {
                "stream_id": p["stream_id"], "request_headers": None, "request_fin": None,
                "response_heads": [], "data_bytes": 0, "data_frames": 0, "response_fin": False})
            if n == "HTTP2_SESSION_SEND_HEADERS":
                s["request_headers"] = [field(h) for h in p["headers"]]
                s["request_fin"] = p["fin"]
                s["priority"] = {k: p[k] for k in ("weight", "exclusive", "parent_stream_id") if k in p}
            elif n == "HTTP2_SESSION_RECV_HEADERS":
                s["response_heads"].append([field(h) for h in p["headers"]])
                s["response_fin"] = s["response_fin"] or p["fin"]
            else:
                s["data_bytes"] += p["size"]
                s["data_frames"] += 1 if p["size"] or p["fin"] else 0
                s["response_fin"] = s["response_fin"] or p["fin"]
    for s in out.values():
        s["client"] = local.get(s["socket"])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--netlog", required=True)
    ap.add_argument("--h2", required=True)
    ap.add_argument("--dom", required=True)
    ap.add_argument("--browser", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    ss = sessions(load(a.netlog))
    h2 = {c["client"]: c for c in json.load(open(a.h2))["h2_connections"]}
    problems, conns = [], []
    for s in ss.values():
        c = h2.get(s["client"])
        if c is None:
            problems.append(f"NetLog session on {s['client']}: no HTTP/2 connection in nginx's logs")
            continue
        ng = {x["stream_id"]: x for x in c["streams"]}
        if sorted(ng) != sorted(s["streams"]):
            problems.append(f"{s['client']}: NetLog streams {sorted(s['streams'])}, nginx {sorted(ng)}")
        streams = []
        for sid in sorted(s["streams"]):
            x, n = s["streams"][sid], ng.get(sid)
            h = dict(x["request_headers"] or [])
            final = [r for r in x["response_heads"] if not dict(r).get(":status", "").startswith("1")]
            st = int(dict(final[0])[":status"]) if final else None
            rec = {"stream_id": sid, "method": h.get(":method"), "path": h.get(":path"),
                   "authority": h.get(":authority"), "status": st,
                   "request_headers": x["request_headers"], "request_end_stream": x["request_fin"],
                   "priority": x.get("priority"), "response_headers": final[0] if final else None,
                   "response_data_bytes": x["data_bytes"], "response_end_stream": x["response_fin"]}
            if n is not None:
                agree = {"request_headers": x["request_headers"] == n["request_headers"],
                         "status": st == n["status"],
                         "response_headers": (final[0] if final else None) == n["response_headers"],
                         "response_data_bytes": x["data_bytes"] == n["response_body_wire_bytes"]}
                rec["nginx_agrees"] = agree
                if not all(agree.values()):
                    problems.append(f"{s['client']} stream {sid}: NetLog vs nginx {agree}")
            streams.append(rec)
        conns.append({"client": s["client"], "protocol": s["protocol"], "streams": streams})
    if problems:
        raise SystemExit("h2_netlog_facts: " + "\n".join(problems))
    dom = open(a.dom).read()
    pre = re.search(r'<pre id="out">(.*?)</pre>', dom, re.S).group(1)
    out = {"chromium_netlog": {
        "browser": open(a.browser).read().strip(), "sessions": conns,
        "page_results": [l for l in pre.split("\n") if l],
        "source": "Chromium's NetLog (--log-net-log, default capture mode): HTTP2_SESSION_SEND_HEADERS, "
                  "_RECV_HEADERS and _RECV_DATA per stream id; the session's socket from "
                  "HTTP2_SESSION_INITIALIZED.source_dependency and that socket's TCP_CONNECT "
                  "local_address; every stream checked equal to nginx's debug and access logs",
        "summary": " | ".join(f"{c['client']} ({c['protocol']}): " + "; ".join(
            f"{x['stream_id']} {x['method']} {x['path']} -> {x['status']} {x['response_data_bytes']} B"
            for x in c["streams"]) for c in conns)}}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
