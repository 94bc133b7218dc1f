#!/usr/bin/env python3
"""WebSocket echo server for samples/record.sh (Python `websockets` library, asyncio API).

Echoes every text or binary message back unchanged; answers pings (the library does that).
Usage: ws_server.py HOST PORT [--compression none|deflate] [--ready FILE] [--log PREFIX]
Runs until SIGTERM/SIGINT.

--log PREFIX: every byte of the N-th accepted connection (N = 1, 2, ...) is appended as it
happens to PREFIX.N.sent (what the PEER sent, i.e. client->server, as facts.py expects) and
PREFIX.N.recv (what this server sent); PREFIX.N.peer holds the peer's HOST:PORT. Used when
the peer is a proxy whose upstream port is ephemeral. PREFIX.N.writes gets one line
"OFFSET LENGTH" per write the library made to the transport (offsets in PREFIX.N.recv: the
frames as this server wrote them), PREFIX.N.messages one JSON object per data message
received and echoed ({"event": "received"|"sent", "type", "bytes", "sha256"}).
"""
import argparse
import asyncio
import hashlib
import json
import signal

from websockets.asyncio.server import ServerConnection, serve

LOG = None
COUNT = [0]


def append(path, data):
    with open(path, "ab") as f:
        f.write(data)


class LoggingConnection(ServerConnection):
    def connection_made(self, transport):
        COUNT[0] += 1
        prefix = f"{LOG}.{COUNT[0]}"
        host, port = transport.get_extra_info("peername")[:2]
        with open(prefix + ".peer", "w") as f:
            f.write(f"{host}:{port}\n")
        for ext in (".sent", ".recv", ".writes", ".messages"):
            open(prefix + ext, "wb").close()
        self._log_prefix = prefix
        self._written = 0
        write = transport.write

        def logged_write(data):
            append(prefix + ".writes", f"{self._written} {len(data)}\n".encode())
            self._written += len(data)
            append(prefix + ".recv", data)
            write(data)

        transport.write = logged_write
        super().connection_made(transport)

    def data_received(self, data):
        append(self._log_prefix + ".sent", data)
        super().data_received(data)


def log_message(ws, event, message):
    prefix = getattr(ws, "_log_prefix", None)
    if prefix is None:
        return
    b = message.encode() if isinstance(message, str) else message
    rec = {"event": event, "type": "text" if isinstance(message, str) else "binary",
           "bytes": len(b), "sha256": hashlib.sha256(b).hexdigest()}
    append(prefix + ".messages", (json.dumps(rec) + "\n").encode())


async def echo(ws):
    async for message in ws:
        log_message(ws, "received", message)
        await ws.send(message)
        log_message(ws, "sent", message)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--compression", default="none", choices=["none", "deflate"])
    ap.add_argument("--ready")
    ap.add_argument("--log")
    a = ap.parse_args()
    global LOG
    LOG = a.log
    extra = {"create_connection": LoggingConnection} if a.log else {}
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    compression = None if a.compression == "none" else "deflate"
    async with serve(echo, a.host, a.port, compression=compression, ping_interval=None, **extra):
        if a.ready:
            with open(a.ready, "w") as f:
                f.write("ready\n")
        await stop


if __name__ == "__main__":
    asyncio.run(main())
