#!/usr/bin/env python3
"""Details for http-cache-range.pcap, from the transactions tools/httpwire.py split out of
curl's trace (with --headers) and the files nginx served.

  range_facts.py TX_JSON SERVER_RECV WWW_DIR RESUMED_FILE  -> JSON on stdout

- validators: the ETag / Last-Modified of the first 200 and the conditional requests'
  validators with the 304s they got;
- ranges: per Range request the Range sent, the status, Content-Range, and for the multipart
  answer the boundary and every part (its headers, offset in the response body, bytes, sha256,
  and whether they equal the file's bytes at that range);
- resume: the two pieces of the resumed download, their Content-Range, the sha256 of the
  file curl assembled and of the served file (they must be equal).
"""
import hashlib
import json
import os
import re
import sys


def sha(b):
    return hashlib.sha256(b).hexdigest()


def hdr(h, name):
    v = [x[1] for x in h if x[0].lower() == name]
    return v[0] if len(v) == 1 else (v or None)


def body(t, recv):
    """The response body bytes (these responses use Content-Length)."""
    assert t["response_framing"] in ("content-length", "none"), t["target"]
    start = t["final_response_offset"] + t["response_head_bytes"]
    return recv[start:start + t["response_body_wire_bytes"]]


def parse_content_range(v):
    m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+|\*)", v)
    if m:
        return {"first": int(m[1]), "last": int(m[2]),
                "complete_length": None if m[3] == "*" else int(m[3])}
    m = re.fullmatch(r"bytes \*/(\d+)", v)
    return {"unsatisfied": True, "complete_length": int(m[1])}


def multipart(b, ctype, data):
    boundary = re.search(r"boundary=(\S+)", ctype)[1]
    delim = b"\r\n--" + boundary.encode()
    assert b.startswith(delim[2:]) or b.startswith(delim), "multipart body start"
    parts, pos = [], b.find(b"--" + boundary.encode())
    while True:
        pos += 2 + len(boundary)
        if b[pos:pos + 2] == b"--":
            break
        head_end = b.index(b"\r\n\r\n", pos)
        headers = [l.split(":", 1) for l in b[pos + 2:head_end].decode().split("\r\n")]
        headers = [[n.strip(), v.strip()] for n, v in headers]
        start = head_end + 4
        nxt = b.index(delim, start)
        payload = b[start:nxt]
        cr = parse_content_range(hdr(headers, "content-range"))
        parts.append({"headers": headers, "content_range": hdr(headers, "content-range"),
                      "body_offset": start, "bytes": len(payload), "sha256": sha(payload),
                      "text": payload.decode("latin-1"),
                      "equals_file_range": payload == data[cr["first"]:cr["last"] + 1]})
        pos = nxt + 2
    return {"boundary": boundary, "parts": parts,
            "closing_delimiter_offset": pos - 2 - len(boundary)}


def main():
    txs = json.load(open(sys.argv[1]))
    recv = open(sys.argv[2], "rb").read()
    www = sys.argv[3]
    resumed = open(sys.argv[4], "rb").read()
    files = {n: open(os.path.join(www, n), "rb").read() for n in os.listdir(www)}
    out = {"files": {n: {"bytes": len(b), "sha256": sha(b)} for n, b in sorted(files.items())}}
    first = txs[0]
    out["validators"] = {"etag": hdr(first["response_headers"], "etag"),
                         "last_modified": hdr(first["response_headers"], "last-modified"),
                         "cache_control": [v for n, v in first["response_headers"]
                                           if n.lower() == "cache-control"],
                         "expires": hdr(first["response_headers"], "expires")}
    out["conditional"] = []
    for t in txs:
        for name in ("if-none-match", "if-modified-since"):
            v = hdr(t["request_headers"], name)
            if v:
                out["conditional"].append({"index": t["index"], "header": name, "value": v,
                                           "status": t["status"]})
    out["ranges"], pieces = [], []
    for t in txs:
        rng = hdr(t["request_headers"], "range")
        if not rng:
            continue
        target = t["target"].lstrip("/")
        data = files[target]
        b = body(t, recv)
        cr = hdr(t["response_headers"], "content-range")
        r = {"index": t["index"], "target": t["target"], "range": rng, "status": t["status"],
             "content_range": cr, "content_type": hdr(t["response_headers"], "content-type"),
             "body_bytes": len(b), "body_sha256": sha(b)}
        if cr:
            r["content_range_parsed"] = parse_content_range(cr)
            p = r["content_range_parsed"]
            if not p.get("unsatisfied"):
                r["equals_file_range"] = b == data[p["first"]:p["last"] + 1]
        if r["content_type"] and r["content_type"].startswith("multipart/byteranges"):
            r["multipart"] = multipart(b, r["content_type"], data)
        out["ranges"].append(r)
        if target == "resume.bin":
            pieces.append({"index": t["index"], "range": rng, "status": t["status"],
                           "content_range": cr, "bytes": len(b), "sha256": sha(b)})
    full = files["resume.bin"]
    out["resume"] = {"file": "resume.bin", "file_bytes": len(full), "file_sha256": sha(full),
                     "pieces": pieces, "client_file_bytes": len(resumed),
                     "client_file_sha256": sha(resumed), "agrees": resumed == full}
    assert out["resume"]["agrees"], "the resumed download differs from the file"
    assert all(r.get("equals_file_range", True) for r in out["ranges"])
    out["summary"] = (f"ETag {out['validators']['etag']}, Last-Modified "
                      f"{out['validators']['last_modified']}; ranges: "
                      + "; ".join(f"{r['range']} -> {r['status']}"
                                  + (f" ({r['content_range']})" if r["content_range"] else "")
                                  + (f" multipart boundary {r['multipart']['boundary']} parts "
                                     + ", ".join(p["content_range"] for p in r["multipart"]["parts"])
                                     if "multipart" in r else "")
                                  for r in out["ranges"])
                      + f"; resumed resume.bin ({len(full)} B) sha256 {sha(full)}")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
