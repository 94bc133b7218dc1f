#!/usr/bin/env python3
"""HTTPS client for the TLS samples: Python's http.client over an ssl.SSLContext that writes
its key log (SSLContext.keylog_filename, the NSS key log format), several requests on one
keep-alive connection, every byte logged as the client wrote and read it in the clear.

  https_client.py HOST:PORT --sni NAME --local IP:PORT --cafile PEM --keylog FILE --log PREFIX
                  --request "METHOD TARGET[ Name: value|Name: value...]"...

Connects from the fixed local address to HOST:PORT with SNI and certificate name NAME (the
server's self-signed certificate is the only trust anchor), sends each request with
http.client (Host: NAME:PORT) and reads the whole response before the next one; then closes.

Writes PREFIX.sent / PREFIX.recv (the application data the client wrote / read through the
TLS socket: the HTTP/1.1 stream in the clear), PREFIX.json: "requests" (method, target, status,
reason, headers, body bytes and sha256 as http.client delivered it, i.e. de-chunked but not
content-decoded), "tls" (tools/tls_client_log.py facts: client random, ClientHello,
ServerHello, ssl module's version and cipher), client / server, byte counts.
"""
import argparse
import hashlib
import http.client
import json
import os
import socket
import ssl
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tls_client_log  # noqa: E402

SENT = bytearray()
RECV = bytearray()


class LoggingSSLSocket(ssl.SSLSocket):
    """The plaintext through the TLS socket: SSLSocket.sendall calls send; http.client reads
    through makefile(), i.e. recv_into."""

    def send(self, data, flags=0):
        n = super().send(data, flags)
        SENT.extend(bytes(memoryview(data)[:n]))
        return n

    def recv_into(self, buffer, nbytes=None, flags=0):
        n = super().recv_into(buffer, nbytes or len(buffer), flags)
        RECV.extend(bytes(memoryview(buffer)[:n]))
        return n

    def recv(self, buflen=1024, flags=0):
        b = super().recv(buflen, flags)
        RECV.extend(b)
        return b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("connect")
    ap.add_argument("--sni", required=True)
    ap.add_argument("--local", required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--keylog", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--request", action="append", required=True)
    a = ap.parse_args()
    host, port = a.connect.rsplit(":", 1)
    lhost, lport = a.local.rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=a.cafile)
    ctx.keylog_filename = a.keylog
    ctx.set_alpn_protocols(["http/1.1"])
    ctx.sslsocket_class = LoggingSSLSocket
    msgs = tls_client_log.attach(ctx)

    conn = http.client.HTTPSConnection(a.sni, int(port), context=ctx)
    raw = socket.create_connection((host, int(port)), timeout=10, source_address=(lhost, int(lport)))
    conn.sock = ctx.wrap_socket(raw, server_hostname=a.sni)
    log = {"client": a.local, "server": a.connect, "sni": a.sni, "requests": []}
    for spec in a.request:
        parts = spec.split(" ", 2)
        method, target = parts[0], parts[1]
        headers = {}
        for h in (parts[2].split("|") if len(parts) > 2 else []):
            k, v = h.split(":", 1)
            headers[k.strip()] = v.strip()
        conn.request(method, target, headers=headers)
        r = conn.getresponse()
        body = r.read()
        log["requests"].append({"method": method, "target": target, "status": r.status,
                                "reason": r.reason, "headers": [[k, v] for k, v in r.getheaders()],
                                "body_bytes": len(body), "body_sha256": hashlib.sha256(body).hexdigest()})
    log["tls"] = tls_client_log.facts(msgs, conn.sock)
    conn.close()
    with open(a.log + ".sent", "wb") as f:
        f.write(SENT)
    with open(a.log + ".recv", "wb") as f:
        f.write(RECV)
    log.update(client_bytes=len(SENT), server_bytes=len(RECV),
               client_sha256=hashlib.sha256(SENT).hexdigest(),
               server_sha256=hashlib.sha256(RECV).hexdigest())
    with open(a.log + ".json", "w") as f:
        json.dump(log, f, indent=1)


if __name__ == "__main__":
    main()
