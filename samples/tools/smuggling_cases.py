#!/usr/bin/env python3
"""The malformed / ambiguous requests of the http-smuggling sample, byte for byte.

  smuggling_cases.py write DIR
      DIR/<case>.req (the exact request bytes) and DIR/cases.json (per case: name, client
      port, what the server answers, description, how the bytes can be read, the rule).
  smuggling_cases.py details DIR SERVER_LOG
      checks that the server received exactly what each client sent (client log DIR/<case>.*,
      server log = raw_http_server.py --log) and prints the sample's `details` JSON.

Each case goes on its own connection from its own fixed client port to tools/raw_http_server.py,
which does not parse HTTP: it logs the bytes and answers a fixed status (400, or 200 where a
lenient reading is allowed), then closes.
"""
import json
import sys

HOST = b"Host: 127.0.0.1:8090\r\n"
UA = b"User-Agent: hopscope-raw/1\r\n"

CASES = [
    {"case": "a", "name": "cl-and-te", "port": 40030, "status": 400,
     "bytes": b"POST /cl-te HTTP/1.1\r\n" + HOST + UA + b"Content-Length: 13\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED",
     "description": "both Content-Length: 13 and Transfer-Encoding: chunked; body bytes "
                    "'0\\r\\n\\r\\nSMUGGLED'",
     "readings": {"by_transfer_encoding": "empty chunked body (5 bytes '0\\r\\n\\r\\n'); "
                                          "'SMUGGLED' starts a second, incomplete request",
                  "by_content_length": "a 13-byte body '0\\r\\n\\r\\nSMUGGLED', one request"},
     "rule": "RFC 9112 6.1/6.3: Transfer-Encoding overrides Content-Length; such a message "
             "ought to be handled as an error (may be rejected with 400, or read as chunked "
             "and the connection closed afterwards)"},
    {"case": "b", "name": "two-content-lengths", "port": 40031, "status": 400,
     "bytes": b"POST /dup-cl HTTP/1.1\r\n" + HOST + UA + b"Content-Length: 5\r\n"
              b"Content-Length: 11\r\n\r\nhello world",
     "description": "two different Content-Length headers (5 and 11); 11 body bytes sent",
     "readings": {"first_content_length": "body 'hello'; ' world' starts a second request",
                  "last_content_length": "body 'hello world'"},
     "rule": "RFC 9112 6.3 (5) / RFC 9110 8.6: differing Content-Length values are an "
             "unrecoverable framing error; a server must answer 400 and close"},
    {"case": "c", "name": "obs-fold", "port": 40032, "status": 400,
     "bytes": b"GET /obs-fold HTTP/1.1\r\n" + HOST + UA + b"X-Folded: first part\r\n"
              b"  second part\r\n\r\n",
     "description": "header X-Folded continued on the next line by leading whitespace "
                    "(obsolete line folding)",
     "readings": {"unfolded": "X-Folded: 'first part second part'",
                  "strict": "invalid header line '  second part'"},
     "rule": "RFC 9112 5.2: obs-fold is not allowed outside message/http; a server must "
             "reject it with 400 or replace each obs-fold by one or more SP"},
    {"case": "d", "name": "space-before-colon", "port": 40033, "status": 400,
     "bytes": b"GET /space-colon HTTP/1.1\r\nHost : 127.0.0.1:8090\r\n" + UA + b"\r\n",
     "description": "whitespace between the field name and the colon ('Host : ...'); no "
                    "other Host header",
     "readings": {"lenient": "Host: 127.0.0.1:8090",
                  "strict": "field name 'Host ' is invalid; the request has no Host"},
     "rule": "RFC 9112 5.1: no whitespace is allowed between the field name and colon; a "
             "server must reject such a request with 400"},
    {"case": "e", "name": "bare-lf", "port": 40034, "status": 200,
     "bytes": b"GET /bare-lf HTTP/1.1\nHost: 127.0.0.1:8090\nUser-Agent: hopscope-raw/1\n\n",
     "description": "every line ends with a bare LF instead of CRLF",
     "readings": {"lenient": "a normal GET with 2 headers",
                  "strict": "no CRLF CRLF: the head never ends"},
     "rule": "RFC 9112 2.2: a recipient MAY recognize a single LF as a line terminator "
             "(this server answers 200)"},
    {"case": "f", "name": "te-chunked-not-final", "port": 40035, "status": 400,
     "bytes": b"POST /te-list HTTP/1.1\r\n" + HOST + UA +
              b"Transfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
     "description": "Transfer-Encoding: chunked, identity (chunked is not the final coding); "
                    "body sent chunked",
     "readings": {"chunked": "body 'hello' (15 bytes of chunked framing)",
                  "final_coding": "length cannot be determined"},
     "rule": "RFC 9112 6.3 (4): in a request whose Transfer-Encoding does not end in chunked "
             "the length cannot be determined; the server must answer 400 and close "
             "('identity' is no longer a registered coding, RFC 9112 7)"},
    {"case": "g", "name": "te-space-before-colon", "port": 40036, "status": 400,
     "bytes": b"POST /te-space HTTP/1.1\r\n" + HOST + UA + b"Content-Length: 13\r\n"
              b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\nSMUGGLED",
     "description": "as case a, but the Transfer-Encoding field is written "
                    "'Transfer-Encoding : chunked' (space before the colon)",
     "readings": {"lenient": "chunked wins over Content-Length (as case a by TE)",
                  "ignoring_the_bad_field": "13-byte Content-Length body"},
     "rule": "RFC 9112 5.1 (400 for whitespace before the colon); a front end and a back "
             "end that disagree here is the classic request-smuggling split"},
]


def write(d):
    out = []
    for c in CASES:
        with open(f"{d}/{c['case']}.req", "wb") as f:
            f.write(c["bytes"])
        e = {k: v for k, v in c.items() if k != "bytes"}
        out.append(e)
    with open(f"{d}/cases.json", "w") as f:
        json.dump(out, f, indent=1)


def details(d, server_log):
    seen = {}
    with open(server_log) as f:
        for line in f:
            r = json.loads(line)
            seen[int(r["peer"].rsplit(":", 1)[1])] = r
    out = []
    for c in CASES:
        sent = open(f"{d}/{c['case']}.sent", "rb").read()
        recv = open(f"{d}/{c['case']}.recv", "rb").read()
        r = seen[c["port"]]
        if sent != c["bytes"] or r["received_hex"] != sent.hex():
            raise SystemExit(f"case {c['case']}: the server did not receive what was sent")
        if recv.hex() != r["response_hex"]:
            raise SystemExit(f"case {c['case']}: the client did not receive what was sent")
        out.append({"case": c["case"], "name": c["name"],
                    "client": f"127.0.0.1:{c['port']}", "server": "127.0.0.1:8090",
                    "description": c["description"], "request_bytes": len(sent),
                    "request_hex": sent.hex(), "readings": c["readings"], "rule": c["rule"],
                    "server_received_identical": True,
                    "response_status": r["response_status"], "response_hex": r["response_hex"]})
    summary = "; ".join(f"({c['case']}) {c['name']} -> {c['response_status']}" for c in out)
    print(json.dumps({"smuggling_cases": out,
                      "summary": "one connection per case, exact bytes in details: " + summary},
                     indent=1))


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2])
    else:
        details(sys.argv[2], sys.argv[3])
