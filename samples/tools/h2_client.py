#!/usr/bin/env python3
"""HTTP/2 client with a small receive window, for samples/record.sh (Python `h2`, sans-IO, over
a plain socket: cleartext prior knowledge).

  h2_client.py HOST:PORT --local IP:PORT --log PREFIX --get PATH... [--authority A]
               [--window N] [--stall-ms MS]
      Sends the connection preface with SETTINGS_INITIAL_WINDOW_SIZE N (default 1024) and
      SETTINGS_ENABLE_PUSH 0, then one GET per --get, all at once (streams 1, 3, ...). The
      connection window is left at the RFC's 65,535 (no WINDOW_UPDATE at the start). Flow
      control is done by hand and only when a window is used up: when a stream's window reaches
      0 the client waits MS milliseconds (default 10), then sends WINDOW_UPDATE(stream, N); when
      the connection window reaches 0 it waits, then sends WINDOW_UPDATE(0, 65535). So the
      server stalls on every window, and the capture has the WINDOW_UPDATEs that unblock it.
      When every stream has ended the client sends GOAWAY(NO_ERROR) and closes.
      Logs: PREFIX.sent / PREFIX.recv (the exact bytes written to / read from the socket),
      PREFIX.events.json (in order: the h2 library's events for what it received, with stream
      ids, data and flow-controlled lengths, and the client's own actions: requests sent,
      stalls with the window that hit 0, WINDOW_UPDATEs sent, GOAWAY), PREFIX.json (summary).
"""
import argparse
import hashlib
import json
import socket
import time

import h2.config
import h2.connection
import h2.events
import h2.settings
from h2.settings import SettingCodes


def sha(b):
    return hashlib.sha256(b).hexdigest()


def text(v):
    return v.decode("latin-1") if isinstance(v, bytes) else v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server")
    ap.add_argument("--local", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--get", action="append", required=True)
    ap.add_argument("--authority")
    ap.add_argument("--window", type=int, default=1024)
    ap.add_argument("--stall-ms", type=int, default=10)
    a = ap.parse_args()
    host, port = a.server.rsplit(":", 1)
    lhost, lport = a.local.rsplit(":", 1)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((lhost, int(lport)))
    sock.connect((host, int(port)))
    sock.settimeout(10)
    sent, recv, events = bytearray(), bytearray(), []
    t0 = time.monotonic()

    def ev(d):
        d["t"] = round(time.monotonic() - t0, 6)
        events.append(d)

    cfg = h2.config.H2Configuration(client_side=True, header_encoding=None)
    conn = h2.connection.H2Connection(config=cfg)
    conn.local_settings = h2.settings.Settings(client=True, initial_values={
        SettingCodes.INITIAL_WINDOW_SIZE: a.window, SettingCodes.ENABLE_PUSH: 0})
    conn.initiate_connection()

    def flush():
        b = conn.data_to_send()
        if b:
            sock.sendall(b)
            sent.extend(b)

    flush()
    authority = a.authority or a.server
    streams = {}
    for path in a.get:
        sid = conn.get_next_available_stream_id()
        hdrs = [(":method", "GET"), (":path", path), (":scheme", "http"), (":authority", authority),
                ("user-agent", "hopscope-h2-client/1 (python h2)")]
        conn.send_headers(sid, hdrs, end_stream=True)
        streams[sid] = {"stream_id": sid, "path": path, "window": a.window, "body": bytearray(),
                        "status": None, "ended": False}
        ev({"action": "RequestSent", "stream_id": sid, "headers": [list(h) for h in hdrs]})
    flush()
    conn_window = 65535
    stalls = {"stream": 0, "connection": 0}
    while not all(s["ended"] for s in streams.values()):
        d = sock.recv(65536)
        if not d:
            raise SystemExit("h2_client: the server closed the connection")
        recv.extend(d)
        for e in conn.receive_data(d):
            name = type(e).__name__
            x = {"event": name}
            if isinstance(e, h2.events.DataReceived):
                s = streams[e.stream_id]
                s["body"] += e.data
                s["window"] -= e.flow_controlled_length
                conn_window -= e.flow_controlled_length
                x.update(stream_id=e.stream_id, data_bytes=len(e.data),
                         flow_controlled_length=e.flow_controlled_length,
                         stream_window_after=s["window"], connection_window_after=conn_window)
            elif isinstance(e, (h2.events.ResponseReceived, h2.events.TrailersReceived,
                                h2.events.InformationalResponseReceived)):
                x.update(stream_id=e.stream_id, headers=[[text(k), text(v)] for k, v in e.headers])
                if isinstance(e, h2.events.ResponseReceived):
                    streams[e.stream_id]["status"] = int(dict(x["headers"])[":status"])
            elif isinstance(e, h2.events.StreamEnded):
                streams[e.stream_id]["ended"] = True
                x["stream_id"] = e.stream_id
            elif isinstance(e, h2.events.StreamReset):
                streams[e.stream_id]["ended"] = True
                x.update(stream_id=e.stream_id, error_code=int(e.error_code))
            elif isinstance(e, h2.events.WindowUpdated):
                x.update(stream_id=e.stream_id, delta=e.delta)
            elif isinstance(e, h2.events.RemoteSettingsChanged):
                x["changed"] = [{"id": int(k), "value": v.new_value} for k, v in e.changed_settings.items()]
            elif isinstance(e, h2.events.ConnectionTerminated):
                x.update(error_code=int(e.error_code), last_stream_id=e.last_stream_id)
            elif hasattr(e, "stream_id"):
                x["stream_id"] = e.stream_id
            ev(x)
        flush()
        # flow control by hand: a window is given back only once it is used up
        for s in streams.values():
            if s["window"] == 0 and not s["ended"]:
                stalls["stream"] += 1
                ev({"action": "Stall", "window": "stream", "stream_id": s["stream_id"], "ms": a.stall_ms})
                time.sleep(a.stall_ms / 1000)
                conn.increment_flow_control_window(a.window, stream_id=s["stream_id"])
                s["window"] += a.window
                ev({"action": "WindowUpdateSent", "stream_id": s["stream_id"], "increment": a.window})
                flush()
        if conn_window == 0 and not all(s["ended"] for s in streams.values()):
            stalls["connection"] += 1
            ev({"action": "Stall", "window": "connection", "stream_id": 0, "ms": a.stall_ms})
            time.sleep(a.stall_ms / 1000)
            conn.increment_flow_control_window(65535)
            conn_window += 65535
            ev({"action": "WindowUpdateSent", "stream_id": 0, "increment": 65535})
            flush()
    conn.close_connection()
    ev({"action": "GoawaySent", "error_code": 0})
    flush()
    sock.shutdown(socket.SHUT_WR)
    while True:
        try:
            d = sock.recv(65536)
        except socket.timeout:
            break
        if not d:
            break
        recv.extend(d)
    sock.close()
    with open(a.log + ".sent", "wb") as f:
        f.write(sent)
    with open(a.log + ".recv", "wb") as f:
        f.write(recv)
    with open(a.log + ".events.json", "w") as f:
        json.dump(events, f, indent=1)
    with open(a.log + ".json", "w") as f:
        json.dump({"streams": [{"stream_id": s["stream_id"], "path": s["path"], "status": s["status"],
                                "body_bytes": len(s["body"]), "body_sha256": sha(bytes(s["body"]))}
                               for s in streams.values()],
                   "initial_window_size": a.window, "stall_ms": a.stall_ms, "stalls": stalls,
                   "window_updates_sent": sum(1 for x in events if x.get("action") == "WindowUpdateSent")},
                  f, indent=1)


if __name__ == "__main__":
    main()
