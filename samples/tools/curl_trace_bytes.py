#!/usr/bin/env python3
"""Extract the exact bytes curl sent and received from a `curl --trace FILE` log.

curl --trace logs every chunk it wrote to / read from the socket as a hex dump
("=> Send header", "=> Send data", "<= Recv header", "<= Recv data"). Concatenating them
gives the client->server and server->client TCP stream bytes as curl saw them (plain HTTP
only; with one connection per trace). Not logged by curl: a SOCKS handshake (see facts.py
socks-prefix).

Usage: curl_trace_bytes.py TRACE OUT_PREFIX   -> OUT_PREFIX.sent, OUT_PREFIX.recv, prints JSON
(events() gives the order of the send/receive blocks, for tools/httpwire.py).

curl 7.88 does not trace the empty line that ends an interim (1xx) response head; blocks()
puts it back (see there) and main() prints how many it added ("crlf_added_after_1xx").
"""
import hashlib
import json
import re
import sys

HDR = re.compile(r"^(=>|<=) (Send|Recv) (header|data), (\d+) bytes")


def read_blocks(path):
    """[("send"|"recv", "header"|"data", bytes)] in the order curl traced them."""
    blocks = []
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
                cur = ("send" if m.group(2) == "Send" else "recv", m.group(3))
                want, got = int(m.group(4)), bytearray()
                continue
            if cur is not None and re.match(r"^[0-9a-f]{4}: ", line):
                for tok in line[6:6 + 48].split():
                    got.append(int(tok, 16))
                if len(got) == want:
                    blocks.append((cur[0], cur[1], bytes(got)))
                    cur = None
                continue
            if cur is not None and not line.startswith("0"):
                raise SystemExit(f"unexpected trace line in {path}: {line!r}")
    return blocks


INTERIM = re.compile(rb"^HTTP/1\.[01] 1(0[02-9]|[1-9][0-9]) ")


def blocks(path):
    """The traced blocks, plus the CRLF that ends each interim (1xx, not 101) response head:
    curl 7.88 traces the 1xx status line and its header lines but not that empty line (it
    handles it without calling the trace callback). It is put back right after the 1xx
    head's last traced line. -> (blocks, number of CRLFs put back)"""
    out, added, open_1xx = [], 0, False
    for b in read_blocks(path):
        if open_1xx:
            if b == ("recv", "header", b"\r\n"):
                open_1xx = False
                out.append(b)
                continue
            if b[0] == "send" or b[1] == "data" or b[2].startswith(b"HTTP/"):
                out.append(("recv", "header", b"\r\n"))
                added += 1
                open_1xx = False
        if b[0] == "recv" and b[1] == "header" and INTERIM.match(b[2]):
            open_1xx = True
        out.append(b)
    if open_1xx:
        out.append(("recv", "header", b"\r\n"))
        added += 1
    return out, added


def parse(path):
    """-> (client->server bytes, server->client bytes)"""
    bl, _ = blocks(path)
    sent = b"".join(b[2] for b in bl if b[0] == "send")
    recv = b"".join(b[2] for b in bl if b[0] == "recv")
    return sent, recv


def events(path):
    """[["send"|"recv", n], ...]: the blocks in the order curl logged them (for httpwire.py)."""
    return [[b[0], len(b[2])] for b in blocks(path)[0]]


def main():
    sent, recv = parse(sys.argv[1])
    with open(sys.argv[2] + ".sent", "wb") as f:
        f.write(sent)
    with open(sys.argv[2] + ".recv", "wb") as f:
        f.write(recv)
    facts = {"client_bytes": len(sent), "server_bytes": len(recv),
             "client_sha256": hashlib.sha256(sent).hexdigest(),
             "server_sha256": hashlib.sha256(recv).hexdigest()}
    added = blocks(sys.argv[1])[1]
    if added:
        facts["crlf_added_after_1xx"] = added
    print(json.dumps(facts))


if __name__ == "__main__":
    main()
