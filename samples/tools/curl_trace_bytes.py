#!/usr/bin/env python3
"""Extract the exact bytes curl sent and received from a `curl --trace FILE` log.

curl --trace logs every chunk it wrote to / read from the socket as a hex dump
("=> Send header", "=> Send data", "<= Recv header", "<= Recv data"). Concatenating them
gives the client->server and server->client TCP stream bytes as curl saw them (plain HTTP
only; with one connection per trace). Not logged by curl: a SOCKS handshake (see facts.py
socks-prefix).

Usage: curl_trace_bytes.py TRACE OUT_PREFIX   -> OUT_PREFIX.sent, OUT_PREFIX.recv, prints JSON
"""
import hashlib
import json
import re
import sys

HDR = re.compile(r"^(=>|<=) (Send|Recv) (header|data), (\d+) bytes")


def parse(path):
    sent, recv = bytearray(), bytearray()
    cur, want, got = None, 0, bytearray()
    conns = set()
    with open(path, encoding="latin-1") as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r"^== Info: Connected to .*\(#(\d+)\)", line)
            if m:
                conns.add(m.group(1))
                if len(conns) > 1:
                    raise SystemExit(f"{path}: more than one connection in the trace")
            m = HDR.match(line)
            if m:
                if cur is not None and len(got) != want:
                    raise SystemExit(f"short block in {path}")
                cur = sent if m.group(2) == "Send" else recv
                want, got = int(m.group(4)), bytearray()
                continue
            if cur is not None and re.match(r"^[0-9a-f]{4}: ", line):
                for tok in line[6:6 + 48].split():
                    got.append(int(tok, 16))
                if len(got) == want:
                    cur.extend(got)
                    cur = None
                continue
            if cur is not None and not line.startswith("0"):
                raise SystemExit(f"unexpected trace line in {path}: {line!r}")
    return bytes(sent), bytes(recv)


def main():
    sent, recv = parse(sys.argv[1])
    with open(sys.argv[2] + ".sent", "wb") as f:
        f.write(sent)
    with open(sys.argv[2] + ".recv", "wb") as f:
        f.write(recv)
    print(json.dumps({"client_bytes": len(sent), "server_bytes": len(recv),
                      "client_sha256": hashlib.sha256(sent).hexdigest(),
                      "server_sha256": hashlib.sha256(recv).hexdigest()}))


if __name__ == "__main__":
    main()
