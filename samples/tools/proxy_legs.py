#!/usr/bin/env python3
"""Ground-truth pairing of a proxy's front and back transactions (details.proxy_legs).

  proxy_legs.py --proxy NAME --front TX.json... --back TX.json... --match (order | header:NAME)
                [--note-for VALUE=TEXT]... [--out JSON [--append]] [--skip-connect]

TX.json are tools/httpwire.py transaction lists recorded with --headers: the front ones from
the bytes the client logged (the client -> proxy leg), the back ones from the bytes the next
hop logged (the proxy -> upstream leg; e.g. tools/proxy_backend.py or ws_server.py --log).

--match order: the i-th front transaction became the i-th back transaction (one request per
    leg, e.g. a WebSocket handshake).
--match header:NAME: a header the client put on each request with a unique value (the
    scenario's own tag, forwarded unchanged by the proxy) says which back request a front
    request became; a front request whose tag reached no back request was answered by the
    proxy itself (back null). Every back request must be matched exactly once.

For each front transaction one object (see samples/README.md, details.proxy_legs):
  front {client, server, index}, back {client, server, index} or null, proxy, matched_by,
  front_request_line, back_request_line, front_status, back_status, version_front,
  version_back, response_version_front, response_version_back, request_id (X-Request-Id as
  the upstream received it), headers_removed (request header names the client sent that did
  not reach the upstream, in the client's order), headers_added ([name, value] lines the
  upstream received under a name the client did not send), headers_changed ([{name, front,
  back}]: same name, other value(s)), headers_recased ([sent spelling, received spelling]:
  the same field name with other letter case, e.g. HAProxy's lower-case names),
  response_headers_removed / _added / _changed / _recased (the same for the response: back =
  what the upstream answered, front = what the client got; recased = [upstream's spelling,
  client's spelling]), notes.
Header names are compared case-insensitively; repeated fields are compared as the list of
their values in order.
"""
import argparse
import json
import os


def load(paths):
    out = []
    for p in paths:
        with open(p) as f:
            txs = json.load(f)
        for t in txs:
            if "request_headers" not in t:
                raise SystemExit(f"proxy_legs: {p}: transactions were not recorded with --headers")
        out.extend(txs)
    return out


def values(headers):
    """{lower name: [values in order]}, [first spelling of each name in order]"""
    d, order = {}, []
    for n, v in headers or []:
        k = n.lower()
        if k not in d:
            d[k] = []
            order.append(n)
        d[k].append(v)
    return d, order


def diff(src, dst):
    """What happened to the header fields between src (sent) and dst (arrived)."""
    s, s_order = values(src)
    d, d_order = values(dst)
    removed = [n for n in s_order if n.lower() not in d]
    added = [[n, v] for n, v in dst if n.lower() not in s]
    changed = [{"name": n, "front": s[n.lower()], "back": d[n.lower()]}
               for n in s_order if n.lower() in d and s[n.lower()] != d[n.lower()]]
    spelled = {n.lower(): n for n in d_order}
    recased = [[n, spelled[n.lower()]] for n in s_order
               if n.lower() in spelled and spelled[n.lower()] != n]
    return removed, added, changed, recased


def header(t, name):
    for n, v in t.get("request_headers") or []:
        if n.lower() == name.lower():
            return v
    return None


def line(t):
    return f"{t['method']} {t['target']} {t['version']}"


def auto_notes(f, b):
    notes = []
    if b is None:
        notes.append("answered by the proxy itself: no upstream request")
        return notes
    if f.get("interim") and not b.get("interim"):
        notes.append(f"interim {f['interim']} sent to the client by the proxy itself "
                     "(the upstream sent none)")
    if f["status"] != b["status"]:
        notes.append(f"the upstream answered {b['status']}, the client got {f['status']}")
    if f["version"] != b["version"]:
        notes.append(f"request version {f['version']} in front, {b['version']} upstream")
    if (f.get("request_body_sha256") != b.get("request_body_sha256")
            or f.get("request_body_bytes") != b.get("request_body_bytes")):
        notes.append("the request body the upstream received differs from the client's")
    elif f.get("request_body_bytes"):
        notes.append(f"request body ({f['request_body_bytes']} B) forwarded unchanged"
                     + (f" (client sent it {f['request_transfer_encoding']}, upstream got "
                        f"{b['request_transfer_encoding'] or 'Content-Length'})"
                        if f.get("request_transfer_encoding") != b.get("request_transfer_encoding")
                        else ""))
    if f["status"] == b["status"] and f.get("response_body_sha256") != b.get("response_body_sha256"):
        notes.append("the response body the client got differs from the upstream's")
    return notes


def leg(f, b, proxy, matched_by, extra_notes):
    e = {"front": {"client": f["client"], "server": f["server"], "index": f["index"]},
         "back": (None if b is None else
                  {"client": b["client"], "server": b["server"], "index": b["index"]}),
         "proxy": proxy, "matched_by": matched_by,
         "front_request_line": line(f), "back_request_line": None if b is None else line(b),
         "front_status": f["status"], "back_status": None if b is None else b["status"],
         "version_front": f["version"], "version_back": None if b is None else b["version"],
         "response_version_front": f.get("response_version"),
         "response_version_back": None if b is None else b.get("response_version"),
         "request_id": None if b is None else header(b, "X-Request-Id")}
    if b is None:
        e.update(headers_removed=None, headers_added=None, headers_changed=None,
                 headers_recased=None, response_headers_removed=None,
                 response_headers_added=None, response_headers_changed=None,
                 response_headers_recased=None)
    else:
        r, a, c, rc = diff(f["request_headers"], b["request_headers"])
        e.update(headers_removed=r, headers_added=a, headers_changed=c, headers_recased=rc)
        if b["status"] is None:
            e.update(response_headers_removed=None, response_headers_added=None,
                     response_headers_changed=None, response_headers_recased=None)
        else:
            r, a, c, rc = diff(b["response_headers"], f["response_headers"])
            # for the response the proxy's input is the upstream's answer: removed = what the
            # upstream said that the client did not get, added = what the proxy put on
            e.update(response_headers_removed=r, response_headers_added=a,
                     response_headers_changed=[{"name": x["name"], "back": x["front"],
                                                "front": x["back"]} for x in c],
                     response_headers_recased=rc)
    e["notes"] = auto_notes(f, b) + extra_notes
    return e


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy", required=True)
    ap.add_argument("--front", action="append", required=True)
    ap.add_argument("--back", action="append", default=[])
    ap.add_argument("--match", required=True)
    ap.add_argument("--note-for", action="append", default=[],
                    help="VALUE=TEXT: a note for the leg whose match value (tag, or front "
                         "index with --match order) is VALUE")
    ap.add_argument("--note", action="append", default=[], help="a note for every leg")
    ap.add_argument("--out")
    ap.add_argument("--skip-connect", action="store_true",
                    help="CONNECT requests among the fronts open a tunnel: not legs")
    ap.add_argument("--append", action="store_true",
                    help="add to the proxy_legs already in --out (a chain of proxies)")
    a = ap.parse_args()
    front, back = load(a.front), load(a.back)
    if a.skip_connect:
        front = [f for f in front if f["method"] != "CONNECT"]
    proxy = None if a.proxy == "none" else a.proxy
    notes_for = {}
    for nf in a.note_for:
        k, v = nf.split("=", 1)
        notes_for.setdefault(k, []).append(v)
    legs = []
    if a.match == "order":
        if len(back) > len(front):
            raise SystemExit("proxy_legs: more back transactions than front ones")
        for i, f in enumerate(front):
            b = back[i] if i < len(back) else None
            legs.append(leg(f, b, proxy, "order", notes_for.get(str(i), []) + a.note))
    elif a.match.startswith("header:"):
        name = a.match.split(":", 1)[1]
        by_tag = {}
        for b in back:
            v = header(b, name)
            if v is None or v in by_tag:
                raise SystemExit(f"proxy_legs: back request {line(b)} on {b['client']} has "
                                 f"{'no' if v is None else 'a repeated'} {name}")
            by_tag[v] = b
        used = set()
        for f in front:
            v = header(f, name)
            if v is None:
                raise SystemExit(f"proxy_legs: front request {line(f)} on {f['client']} has no {name}")
            b = by_tag.get(v)
            if b is not None:
                used.add(v)
            legs.append(leg(f, b, proxy, f"{name}: {v}", notes_for.get(v, []) + a.note))
        if set(by_tag) - used:
            raise SystemExit(f"proxy_legs: back requests no client sent: {sorted(set(by_tag) - used)}")
    else:
        raise SystemExit("proxy_legs: --match order or header:NAME")
    doc = {"proxy_legs": []}
    if a.append and a.out and os.path.exists(a.out):
        with open(a.out) as f:
            doc = json.load(f)
    doc["proxy_legs"].extend(legs)
    text = json.dumps(doc, indent=1)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
