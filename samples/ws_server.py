#!/usr/bin/env python3
"""WebSocket echo server for samples/record.sh (Python `websockets` library, asyncio API).

Echoes every text or binary message back unchanged; answers pings (the library does that).
Usage: ws_server.py HOST PORT [--compression none|deflate] [--ready FILE]
Runs until SIGTERM/SIGINT.
"""
import argparse
import asyncio
import signal

from websockets.asyncio.server import serve


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--compression", default="none", choices=["none", "deflate"])
    ap.add_argument("--ready")
    a = ap.parse_args()
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    compression = None if a.compression == "none" else "deflate"
    async with serve(echo, a.host, a.port, compression=compression, ping_interval=None):
        if a.ready:
            with open(a.ready, "w") as f:
                f.write("ready\n")
        await stop


if __name__ == "__main__":
    asyncio.run(main())
