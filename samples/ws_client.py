#!/usr/bin/env python3
"""WebSocket client for samples/record.sh (Python `websockets` library, asyncio API).

Connects from a fixed local port, sends a fixed script of messages, waits for each echo, sends
a ping and waits for the pong, then closes with code 1000. Every byte the client wrote to and
read from its TCP socket is logged (by wrapping the asyncio transport), so the expected
per-direction stream bytes come from the program, not from reading the capture.

Usage: ws_client.py URI --local HOST:PORT --log PREFIX [--compression none|deflate]
                    [--messages full|short|tunnel] [--allow-reject]
                    [--socks5 HOST:PORT | --connect-proxy HOST:PORT]
                    [--keylog FILE --cafile PEM [--connect IP]]   (wss:// only)
Writes PREFIX.sent (client->server bytes), PREFIX.recv (server->client bytes) and
PREFIX.json (messages, lengths, sha256; `writes`: [offset, length] of every write the library
made to the transport, offsets in PREFIX.sent, so each frame is known as the client wrote it).
--messages short: only the two short texts and the 512-byte binary message (for the proxied
samples, which carry every message twice). --messages tunnel: two short texts, the 512-byte
binary message, a text message sent in 3 fragments (the library adds an empty final
continuation frame) and a 15-byte binary message. --allow-reject: a handshake answered with
another status than 101 is logged (PREFIX.json "rejected": status, headers) instead of failing.
--socks5 / --connect-proxy: the client opens the TCP connection to that proxy itself, asks it
for a tunnel to the URI's host and port (SOCKS5 without authentication, RFC 1928, target by
IPv4 address; or an HTTP/1.1 CONNECT), then hands the socket to websockets (`sock=`). The
proxy handshake's bytes are in PREFIX.sent / .recv too (the stream as it was on the wire),
described in PREFIX.json "proxy_handshake"; PREFIX.inner.sent / .recv hold the bytes after it
(what went through the tunnel).
wss:// URIs: TLS with an ssl.SSLContext that trusts only --cafile and writes its key log to
--keylog (SSLContext.keylog_filename); --connect IP: connect there instead of resolving the
URI's host (which stays the SNI and the certificate name). The logged bytes are then the
application data in the clear (what went through the TLS transport), and PREFIX.json "tls"
holds the client's own record of the handshake (tools/tls_client_log.py: client random,
ClientHello, ServerHello, the ssl module's version and cipher).
"""
import argparse
import asyncio
import hashlib
import ipaddress
import json
import os
import socket
import ssl
import sys
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tools"))

SENT = bytearray()
RECV = bytearray()
WRITES = []   # [offset in SENT, length] of every transport write


class LoggingConnection(ClientConnection):
    def connection_made(self, transport):
        write = transport.write

        def logged_write(data):
            WRITES.append([len(SENT), len(data)])
            SENT.extend(data)
            write(data)

        transport.write = logged_write
        super().connection_made(transport)

    def data_received(self, data):
        RECV.extend(data)
        super().data_received(data)


MESSAGES = [
    "Hello, hopscope!",
    "unicode text: h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c",
    bytes(range(256)) + bytes(range(255, -1, -1)) * 1,          # 512 bytes: 16-bit length
    "".join(f"line {i:05d} of a long text message\n" for i in range(2000)),  # 68,000 bytes: 64-bit length
    b"\x00\x01\x02binary-short",
]

# --messages tunnel: a list is sent as one fragmented message (one frame per item)
TUNNEL_MESSAGES = MESSAGES[:3] + [["fragmented ", "text ", "message"], MESSAGES[4]]


def recv_exactly(sock, n):
    out = bytearray()
    while len(out) < n:
        b = sock.recv(n - len(out))
        if not b:
            raise SystemExit("proxy closed the connection during the handshake")
        out += b
    RECV.extend(out)
    return bytes(out)


def send_raw(sock, data):
    SENT.extend(data)
    sock.sendall(data)


def socks5_handshake(sock, host, port):
    """RFC 1928 without authentication, CONNECT to an IPv4 address."""
    c0, s0 = len(SENT), len(RECV)
    send_raw(sock, b"\x05\x01\x00")                       # version 5, 1 method: no auth
    greeting = recv_exactly(sock, 2)
    if greeting != b"\x05\x00":
        raise SystemExit(f"SOCKS5: no acceptable method: {greeting.hex()}")
    send_raw(sock, b"\x05\x01\x00\x01" + ipaddress.IPv4Address(host).packed + port.to_bytes(2, "big"))
    rep = recv_exactly(sock, 4)
    if rep[1] != 0:
        raise SystemExit(f"SOCKS5: request failed: {rep.hex()}")
    atyp = rep[3]   # the bound address: IPv4, IPv6 or a length-prefixed name, then the port
    if atyp == 1:
        rest = recv_exactly(sock, 4 + 2)
    elif atyp == 4:
        rest = recv_exactly(sock, 16 + 2)
    else:
        n = recv_exactly(sock, 1)
        rest = n + recv_exactly(sock, n[0] + 2)
    return {"kind": "socks5", "client_bytes": len(SENT) - c0, "server_bytes": len(RECV) - s0,
            "client_hex": SENT[c0:].hex(), "server_hex": RECV[s0:].hex(),
            "reply_hex": (rep + rest).hex(), "target": f"{host}:{port}"}


def connect_handshake(sock, host, port):
    """HTTP/1.1 CONNECT; reads the answer head byte by byte (nothing of the tunnel)."""
    c0, s0 = len(SENT), len(RECV)
    req = (f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n"
           f"User-Agent: hopscope-ws_client/1\r\n\r\n").encode()
    send_raw(sock, req)
    head = bytearray()
    while not head.endswith(b"\r\n\r\n"):
        head += recv_exactly(sock, 1)
    lines = head[:-4].decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    if not 200 <= status < 300:
        raise SystemExit(f"CONNECT refused: {lines[0]}")
    return {"kind": "connect", "client_bytes": len(SENT) - c0, "server_bytes": len(RECV) - s0,
            "request_line": req.split(b"\r\n")[0].decode(),
            "status_line": lines[0], "status": status,
            "response_headers": [[x.strip() for x in l.split(":", 1)] for l in lines[1:]],
            "target": f"{host}:{port}"}


def tunnel_socket(a, host, lport):
    """A socket bound to the fixed local port, connected to the proxy, tunnel set up."""
    u = urlsplit(a.uri)
    phost, pport = (a.socks5 or a.connect_proxy).rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(lport)))
    sock.settimeout(10)
    sock.connect((phost, int(pport)))
    hs = (socks5_handshake if a.socks5 else connect_handshake)(sock, u.hostname, u.port)
    hs["proxy"] = f"{phost}:{pport}"
    sock.settimeout(None)
    return sock, hs


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("uri")
    ap.add_argument("--local", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--compression", default="none", choices=["none", "deflate"])
    ap.add_argument("--messages", default="full", choices=["full", "short", "tunnel"])
    ap.add_argument("--allow-reject", action="store_true")
    px = ap.add_mutually_exclusive_group()
    px.add_argument("--socks5", metavar="HOST:PORT")
    px.add_argument("--connect-proxy", metavar="HOST:PORT")
    ap.add_argument("--keylog", help="wss://: the TLS key log (SSLContext.keylog_filename)")
    ap.add_argument("--cafile", help="wss://: the server's certificate, the only trust anchor")
    ap.add_argument("--connect", metavar="IP", help="wss://: connect here, not to the URI's host")
    a = ap.parse_args()
    messages = {"full": MESSAGES, "short": MESSAGES[:3], "tunnel": TUNNEL_MESSAGES}[a.messages]
    host, port = a.local.rsplit(":", 1)
    compression = None if a.compression == "none" else "deflate"
    log = {"messages": []}
    a.sock = None
    if a.socks5 or a.connect_proxy:
        a.sock, log["proxy_handshake"] = tunnel_socket(a, host, port)
    try:
        await session(a, host, port, compression, messages, log)
    except InvalidStatus as exc:
        if not a.allow_reject:
            raise
        r = exc.response
        log["rejected"] = {"status": r.status_code, "reason": r.reason_phrase,
                           "headers": [[k, v] for k, v in r.headers.raw_items()],
                           "body_bytes": len(r.body or b"")}
    with open(a.log + ".sent", "wb") as f:
        f.write(SENT)
    with open(a.log + ".recv", "wb") as f:
        f.write(RECV)
    if "proxy_handshake" in log:
        ph = log["proxy_handshake"]
        with open(a.log + ".inner.sent", "wb") as f:
            f.write(SENT[ph["client_bytes"]:])
        with open(a.log + ".inner.recv", "wb") as f:
            f.write(RECV[ph["server_bytes"]:])
    log["writes"] = WRITES
    log.update(client_bytes=len(SENT), server_bytes=len(RECV),
               client_sha256=hashlib.sha256(SENT).hexdigest(),
               server_sha256=hashlib.sha256(RECV).hexdigest())
    with open(a.log + ".json", "w") as f:
        json.dump(log, f, indent=1)


async def session(a, host, port, compression, messages, log):
    where = {"sock": a.sock} if a.sock else {"local_addr": (host, int(port))}
    msgs = None
    if a.uri.startswith("wss:"):
        import tls_client_log
        ctx = ssl.create_default_context(cafile=a.cafile)
        ctx.keylog_filename = a.keylog
        msgs = tls_client_log.attach(ctx)
        where["ssl"] = ctx
        if a.connect:
            where.update(host=a.connect, server_hostname=urlsplit(a.uri).hostname)
    async with connect(a.uri, compression=compression, proxy=None, ping_interval=None,
                       create_connection=LoggingConnection, max_size=2**20, **where) as ws:
        if msgs is not None:
            log["tls"] = tls_client_log.facts(msgs, ws.transport.get_extra_info("ssl_object"))
        for m in messages:
            await ws.send(m)
            echo = await ws.recv()
            whole = "".join(m) if isinstance(m, list) else m
            assert echo == whole, "echo mismatch"
            b = whole.encode() if isinstance(whole, str) else whole
            entry = {"type": "text" if isinstance(whole, str) else "binary",
                     "length": len(b), "sha256": hashlib.sha256(b).hexdigest()}
            if isinstance(m, list):
                entry["fragments_sent"] = [len(x.encode()) for x in m]
            log["messages"].append(entry)
        pong = await ws.ping(b"hopscope-ping")
        await pong
        log["ping_payload"] = "hopscope-ping"
        await ws.close(code=1000, reason="bye")
        log["close"] = {"code": 1000, "reason": "bye"}


if __name__ == "__main__":
    asyncio.run(main())
