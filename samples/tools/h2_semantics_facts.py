#!/usr/bin/env python3
"""The HTTP semantics details (validators, conditional, ranges, cookies, auth, redirect_chains,
cors: the keys of http-cache-range.pcap and http-cookies-auth-redirect.pcap) for an HTTP/2
sample, from the streams tools/h2_facts.py wrote (curl's trace, -D, -o and -w joined with
nginx's debug and access logs) and curl's cookie jar.

  h2_semantics_facts.py --h2 H2.JSON --www DIR --cache "CLIENT PREFIX" --cookies "CLIENT JAR"
                        --auth CLIENT --redirects CLIENT... --cors CLIENT --out JSON

Each stream becomes the transaction record tools/httpwire.py makes of an HTTP/1.1 exchange
(index = its place on the connection, method, target = :path, status, request_headers and
response_headers without the pseudo-header fields), plus its stream_id; then the HTTP/1.1
samples' own functions (range_facts.py, cookie_cors_facts.py) say the same things of them, so
the tests read both versions' facts the same way. What differs on purpose:

- RFC 9113 §8.2.3: a client may split the cookie into several `cookie` fields; they are one
  Cookie header joined with "; " (curl 7.88 sends one field);
- the response bodies (ranges) are the bytes curl saved with -o (no content-coding here), not
  offsets in a byte stream, and each body's sha256 is checked against the DATA frames';
- the multi-stream transfers (curl -L, --anyauth) are several streams of one connection.
"""
import argparse
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cookie_cors_facts as ccf  # noqa: E402
import range_facts as rf  # noqa: E402


def sha(b):
    return hashlib.sha256(b).hexdigest()


def txs(h2, client):
    conn = [c for c in h2["h2_connections"] if c["client"] == client]
    if len(conn) != 1:
        raise SystemExit(f"h2_semantics_facts: {client}: {len(conn)} connections")
    c = conn[0]
    out = []
    for i, s in enumerate(c["streams"]):
        rq = [[k, v] for k, v in s["request_headers"] if not k.startswith(":")]
        cookies = [v for k, v in rq if k == "cookie"]
        if len(cookies) > 1:
            # RFC 9113 §8.2.3: several cookie fields are one Cookie header, joined with "; "
            rq = [x for x in rq if x[0] != "cookie"] + [["cookie", "; ".join(cookies)]]
        out.append({"client": c["client"], "server": c["server"], "index": i,
                    "stream_id": s["stream_id"], "method": s["method"], "target": s["path"],
                    "authority": s["authority"], "status": s["status"],
                    "request_headers": rq, "request_body_bytes": s["request_body_bytes"],
                    "response_headers": [[k, v] for k, v in s["response_headers"] if not k.startswith(":")],
                    "response_body_wire_bytes": s["response_body_wire_bytes"],
                    "response_body_sha256": s.get("response_body_sha256"),
                    "curl_transfer": (s.get("client_transfer") or {}).get("transfer")})
    return out


def with_stream(entries, ts):
    """Beside each fact's index, the stream id (and the client) of that transaction."""
    sid = {t["index"]: t["stream_id"] for t in ts}
    for e in entries:
        e["stream_id"] = sid[e["index"]]
        e["client"] = ts[0]["client"]
    return entries


def cache_range(ts, prefix, www):
    files = {n: open(os.path.join(www, n), "rb").read() for n in os.listdir(www)
             if os.path.isfile(os.path.join(www, n))}
    first = ts[0]
    out = {"validators": {"index": 0, "stream_id": first["stream_id"], "client": first["client"],
                          "etag": rf.hdr(first["response_headers"], "etag"),
                          "last_modified": rf.hdr(first["response_headers"], "last-modified"),
                          "cache_control": [v for n, v in first["response_headers"] if n == "cache-control"],
                          "expires": rf.hdr(first["response_headers"], "expires")},
           "conditional": [], "ranges": []}
    for t in ts:
        for name in ("if-none-match", "if-modified-since"):
            v = rf.hdr(t["request_headers"], name)
            if v:
                out["conditional"].append({"index": t["index"], "header": name, "value": v,
                                           "status": t["status"]})
    for t in ts:
        rng = rf.hdr(t["request_headers"], "range")
        if not rng:
            continue
        data = files[t["target"].lstrip("/")]
        b = b"" if t["status"] == 416 else open(f"{prefix}.{t['curl_transfer']}.out", "rb").read()
        if t["status"] != 416 and sha(b) != t["response_body_sha256"]:
            raise SystemExit(f"h2_semantics_facts: curl's -o of {t['target']} is not the DATA frames' body")
        cr = rf.hdr(t["response_headers"], "content-range")
        r = {"index": t["index"], "target": t["target"], "range": rng, "status": t["status"],
             "content_range": cr, "content_type": rf.hdr(t["response_headers"], "content-type"),
             "body_bytes": t["response_body_wire_bytes"], "body_sha256": sha(b),
             "body_source": "curl -o (checked against the DATA frames' sha256)"}
        if cr:
            r["content_range_parsed"] = rf.parse_content_range(cr)
            p = r["content_range_parsed"]
            if not p.get("unsatisfied"):
                r["equals_file_range"] = b == data[p["first"]:p["last"] + 1]
        if r["content_type"] and r["content_type"].startswith("multipart/byteranges"):
            r["multipart"] = rf.multipart(b, r["content_type"], data)
        out["ranges"].append(r)
    assert all(r.get("equals_file_range", True) for r in out["ranges"])
    assert all(p["equals_file_range"] for r in out["ranges"] if "multipart" in r for p in r["multipart"]["parts"])
    with_stream(out["conditional"], ts)
    with_stream(out["ranges"], ts)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--h2", required=True)
    ap.add_argument("--www", required=True)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--cookies", required=True)
    ap.add_argument("--auth", required=True)
    ap.add_argument("--redirects", nargs="+", required=True)
    ap.add_argument("--cors", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    h2 = json.load(open(a.h2))
    client, prefix = a.cache.split()
    det = cache_range(txs(h2, client), prefix, a.www)
    client, jar = a.cookies.split()
    ct = txs(h2, client)
    ck = ccf.cookies(ct, ccf.read_jar(jar))
    sid = {t["index"]: t["stream_id"] for t in ct}
    for c in ck["set_cookies"]:
        c["set_by"]["stream_id"] = sid[c["set_by"]["index"]]
        c["sent_on_streams"] = [sid[i] for i in c["sent_on"]]
        c["not_sent_on_streams"] = [sid[i] for i in c["not_sent_on"]]
    with_stream(ck["requests"], ct)
    ck["client"] = client
    ck["notes"] = [n for n in ck["notes"] if "plain HTTP" not in n] + [
        "sent_on / not_sent_on are indexes on the connection (as on HTTP/1.1); "
        "sent_on_streams / not_sent_on_streams the same requests' stream ids",
        "RFC 9113 §8.2.3: several cookie fields would be one Cookie header joined with '; '; "
        "curl 7.88 sends one field"]
    det["cookies"] = ck
    at = txs(h2, a.auth)
    det["auth"] = with_stream(ccf.auth(at), at)
    det["redirect_chains"] = []
    for c in a.redirects:
        rt = txs(h2, c)
        det["redirect_chains"].append({"client": c, "hops": with_stream(ccf.redirects(rt), rt)})
    cors_t = txs(h2, a.cors)
    det["cors"] = with_stream([ccf.cors_decision(t, credentialed=ccf.one(t["request_headers"], "cookie") is not None)
                               for t in cors_t], cors_t)
    det["semantics_source"] = ("tools/h2_semantics_facts.py: the streams of details.h2_connections as "
                               "transactions, given to tools/range_facts.py and tools/cookie_cors_facts.py "
                               "(the functions that wrote the HTTP/1.1 samples' details); curl's cookie jar")
    det["semantics_summary"] = (
        f"ETag {det['validators']['etag']}, Last-Modified {det['validators']['last_modified']}; "
        + "; ".join(f"{c['header']} -> {c['status']}" for c in det["conditional"]) + "; ranges: "
        + "; ".join(f"{r['range']} -> {r['status']}" + (f" ({r['content_range']})" if r["content_range"] else "")
                    + (" multipart " + ", ".join(p["content_range"] for p in r["multipart"]["parts"])
                       if "multipart" in r else "") for r in det["ranges"])
        + "; cookies stored by curl: " + ", ".join(c["name"] for c in ck["set_cookies"] if c["stored_by_curl"])
        + "; rejected: " + (", ".join(c["name"] for c in ck["set_cookies"] if not c["stored_by_curl"]) or "none")
        + "; auth: " + " then ".join(str(x["status"]) for x in det["auth"])
        + "; redirects: " + " | ".join(" -> ".join(f"{h['method']} {h['status']}" for h in r["hops"])
                                       for r in det["redirect_chains"])
        + "; CORS: " + "; ".join(f"{c['method']} {c['target']}: {c['browser_decision']}"
                                 + (f" ({c['reasons'][0]})" if c["reasons"] else "") for c in det["cors"]))
    with open(a.out, "w") as f:
        json.dump(det, f, indent=1)


if __name__ == "__main__":
    main()
