#!/usr/bin/env python3
"""Details for http-cookies-auth-redirect.pcap from the transactions tools/httpwire.py split out
of curl's traces (--headers) and curl's cookie jar.

  cookie_cors_facts.py --cookies TX JAR --auth TX --redirects TX... --cors TX  -> JSON

- cookies: every Set-Cookie line (parsed: name, value, attributes in order), whether curl
  stored it (its jar after the run: domain, tailmatch, path, secure, expiry, httponly) and on
  which requests it came back (the Cookie header curl sent, from its trace);
- auth: the challenge and the retry (scheme, realm, the Authorization line and its decoding);
- redirects: per chain every hop's method, target, status, Location, request body bytes;
- cors: per request the CORS request and response fields and what a browser would decide,
  as the Fetch standard's CORS check states it (a rule applied to the recorded headers, not
  a browser run).
"""
import argparse
import base64
import json


def hv(h, name):
    return [v for n, v in h if n.lower() == name]


def one(h, name):
    v = hv(h, name)
    return v[0] if v else None


def parse_set_cookie(line):
    parts = [p.strip() for p in line.split(";")]
    name, _, value = parts[0].partition("=")
    attrs = []
    for p in parts[1:]:
        k, eq, v = p.partition("=")
        attrs.append([k, v if eq else True])
    return {"line": line, "name": name, "value": value, "attributes": attrs}


def read_jar(path):
    out = []
    for line in open(path):
        line = line.rstrip("\n")
        httponly = line.startswith("#HttpOnly_")
        if httponly:
            line = line[len("#HttpOnly_"):]
        if not line or line.startswith("#"):
            continue
        dom, tail, path_, secure, exp, name, value = line.split("\t")
        out.append({"domain": dom, "include_subdomains": tail == "TRUE", "path": path_,
                    "secure": secure == "TRUE", "expires": int(exp),
                    "session": exp == "0", "name": name, "value": value, "httponly": httponly})
    return out


def cookies(txs, jar):
    jarred = {c["name"]: c for c in jar}
    sets, sent = [], []
    for t in txs:
        for line in hv(t["response_headers"], "set-cookie"):
            c = parse_set_cookie(line)
            c["set_by"] = {"index": t["index"], "target": t["target"]}
            sets.append(c)
        ck = one(t["request_headers"], "cookie")
        names = [p.split("=", 1)[0].strip() for p in ck.split(";")] if ck else []
        sent.append({"index": t["index"], "target": t["target"], "cookie_header": ck,
                     "names": names})
    for c in sets:
        c["stored_by_curl"] = c["name"] in jarred
        c["jar_entry"] = jarred.get(c["name"])
        c["sent_on"] = [s["index"] for s in sent if c["name"] in s["names"]]
        c["not_sent_on"] = [s["index"] for s in sent if c["name"] not in s["names"]
                            and s["index"] > c["set_by"]["index"]]
    return {"set_cookies": sets, "requests": sent, "jar": jar,
            "jar_source": "curl -c cookie jar (Netscape format) written at the end of the run",
            "notes": ["curl treats http://localhost as a secure context (so Secure cookies are "
                      "stored and sent over plain HTTP to localhost, as browsers do for "
                      "potentially trustworthy origins)",
                      "a Max-Age cookie's jar expiry is the run's time + 3600 s; it differs "
                      "between runs"]}


def auth(txs):
    out = []
    for t in txs:
        a = one(t["request_headers"], "authorization")
        e = {"index": t["index"], "target": t["target"], "status": t["status"],
             "www_authenticate": hv(t["response_headers"], "www-authenticate"),
             "authorization": a}
        if a and a.startswith("Basic "):
            e["decoded"] = base64.b64decode(a[6:]).decode()
        out.append(e)
    return out


def redirects(txs):
    return [{"index": t["index"], "method": t["method"], "target": t["target"],
             "request_body_bytes": t["request_body_bytes"], "status": t["status"],
             "location": one(t["response_headers"], "location")} for t in txs]


SIMPLE_METHODS = {"GET", "HEAD", "POST"}


def cors_decision(t, credentialed):
    rq, rs = t["request_headers"], t["response_headers"]
    origin = one(rq, "origin")
    acao = one(rs, "access-control-allow-origin")
    acac = one(rs, "access-control-allow-credentials")
    e = {"index": t["index"], "method": t["method"], "target": t["target"], "origin": origin,
         "status": t["status"], "credentialed": credentialed,
         "access_control_allow_origin": acao, "access_control_allow_credentials": acac}
    reasons = []
    if acao is None:
        reasons.append("no Access-Control-Allow-Origin")
    elif acao == "*":
        if credentialed:
            reasons.append("blocked: Access-Control-Allow-Origin '*' with credentials "
                           "(Fetch: a credentialed response needs the exact origin)")
    elif acao != origin:
        reasons.append(f"Access-Control-Allow-Origin {acao!r} is not the request's origin")
    if credentialed and acac != "true":
        reasons.append("credentialed but Access-Control-Allow-Credentials is not 'true'")
    acrm = one(rq, "access-control-request-method")
    if t["method"] == "OPTIONS" and acrm:
        e["kind"] = "preflight"
        methods = [m.strip() for m in (one(rs, "access-control-allow-methods") or "").split(",") if m.strip()]
        hdrs_req = [h.strip().lower() for h in (one(rq, "access-control-request-headers") or "").split(",") if h.strip()]
        hdrs_ok = [h.strip().lower() for h in (one(rs, "access-control-allow-headers") or "").split(",") if h.strip()]
        e.update(access_control_request_method=acrm, access_control_request_headers=hdrs_req,
                 access_control_allow_methods=methods, access_control_allow_headers=hdrs_ok,
                 access_control_max_age=one(rs, "access-control-max-age"))
        if not 200 <= t["status"] < 300:
            reasons.append(f"preflight status {t['status']} is not ok (2xx)")
        if acrm not in methods and not ("*" in methods and not credentialed) and acrm not in SIMPLE_METHODS:
            reasons.append(f"blocked: method {acrm} is not in Access-Control-Allow-Methods {methods}")
        for h in hdrs_req:
            if h not in hdrs_ok and not ("*" in hdrs_ok and not credentialed):
                reasons.append(f"blocked: header {h} is not in Access-Control-Allow-Headers")
    else:
        e["kind"] = "actual request"
    e["browser_decision"] = "blocked" if reasons else "allowed"
    e["reasons"] = reasons
    e["rule"] = ("Fetch standard, CORS check and CORS-preflight fetch: the response must name "
                 "the origin (or '*' when the request is not credentialed); a credentialed "
                 "response must also carry Access-Control-Allow-Credentials: true; a preflight "
                 "must be 2xx and list the requested method (unless it is a CORS-safelisted "
                 "method) and every requested non-safelisted header")
    return e


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cookies", nargs=2, required=True)
    ap.add_argument("--auth", required=True)
    ap.add_argument("--redirects", nargs="+", required=True)
    ap.add_argument("--cors", required=True)
    a = ap.parse_args()
    ld = lambda p: json.load(open(p))
    ck = cookies(ld(a.cookies[0]), read_jar(a.cookies[1]))
    au = auth(ld(a.auth))
    rd = [{"client": ld(p)[0]["client"], "hops": redirects(ld(p))} for p in a.redirects]
    cors = [cors_decision(t, credentialed=one(t["request_headers"], "cookie") is not None)
            for t in ld(a.cors)]
    summary = ("cookies stored by curl: " + ", ".join(c["name"] for c in ck["set_cookies"] if c["stored_by_curl"])
               + "; rejected: " + (", ".join(c["name"] for c in ck["set_cookies"] if not c["stored_by_curl"]) or "none")
               + "; adminonly (Path=/admin) sent on requests " + str(next(c["sent_on"] for c in ck["set_cookies"] if c["name"] == "adminonly"))
               + "; auth: " + " then ".join(f"{x['status']}" for x in au)
               + "; redirects: " + " | ".join(" -> ".join(f"{h['method']} {h['status']}" for h in r["hops"]) for r in rd)
               + "; CORS: " + "; ".join(f"{c['method']} {c['target']}: {c['browser_decision']}"
                                        + (f" ({c['reasons'][0]})" if c["reasons"] else "") for c in cors))
    print(json.dumps({"cookies": ck, "auth": au, "redirect_chains": rd, "cors": cors,
                      "summary": summary}, indent=1))


if __name__ == "__main__":
    main()
