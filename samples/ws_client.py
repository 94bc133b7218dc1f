#!/usr/bin/env python3
"""WebSocket client for samples/record.sh (Python `websockets` library, asyncio API).

Connects from a fixed local port, sends a fixed script of messages, waits for each echo, sends
a ping and waits for the pong, then closes with code 1000. Every byte the client wrote to and
read from its TCP socket is logged (by wrapping the asyncio transport), so the expected
per-direction stream bytes come from the program, not from reading the capture.

Usage: ws_client.py URI --local HOST:PORT --log PREFIX [--compression none|deflate]
                    [--messages full|short] [--allow-reject]
Writes PREFIX.sent (client->server bytes), PREFIX.recv (server->client bytes) and
PREFIX.json (messages, lengths, sha256).
--messages short: only the two short texts and the 512-byte binary message (for the proxied
samples, which carry every message twice). --allow-reject: a handshake answered with another
status than 101 is logged (PREFIX.json "rejected": status, headers) instead of failing.
"""
import argparse
import asyncio
import hashlib
import json

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

SENT = bytearray()
RECV = bytearray()


class LoggingConnection(ClientConnection):
    def connection_made(self, transport):
        write = transport.write

        def logged_write(data):
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


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("uri")
    ap.add_argument("--local", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--compression", default="none", choices=["none", "deflate"])
    ap.add_argument("--messages", default="full", choices=["full", "short"])
    ap.add_argument("--allow-reject", action="store_true")
    a = ap.parse_args()
    messages = MESSAGES if a.messages == "full" else MESSAGES[:3]
    host, port = a.local.rsplit(":", 1)
    compression = None if a.compression == "none" else "deflate"
    log = {"messages": []}
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
    log.update(client_bytes=len(SENT), server_bytes=len(RECV),
               client_sha256=hashlib.sha256(SENT).hexdigest(),
               server_sha256=hashlib.sha256(RECV).hexdigest())
    with open(a.log + ".json", "w") as f:
        json.dump(log, f, indent=1)


async def session(a, host, port, compression, messages, log):
    async with connect(a.uri, compression=compression, proxy=None, ping_interval=None,
                       local_addr=(host, int(port)), create_connection=LoggingConnection,
                       max_size=2**20) as ws:
        for m in messages:
            await ws.send(m)
            echo = await ws.recv()
            assert echo == m, "echo mismatch"
            b = m.encode() if isinstance(m, str) else m
            log["messages"].append({"type": "text" if isinstance(m, str) else "binary",
                                    "length": len(b), "sha256": hashlib.sha256(b).hexdigest()})
        pong = await ws.ping(b"hopscope-ping")
        await pong
        log["ping_payload"] = "hopscope-ping"
        await ws.close(code=1000, reason="bye")
        log["close"] = {"code": 1000, "reason": "bye"}


if __name__ == "__main__":
    asyncio.run(main())
