#!/usr/bin/env python3
"""Collect facts about the sample captures into samples/expected.json and samples/README.md.

  facts.py add --facts DIR --file NAME --software TEXT --shows TEXT
               [--stream "CLIENT SERVER PREFIX SOURCE"]... [--alt-stream "PREFIX SOURCE"]
               [--incomplete TEXT] [--note TEXT]... [--note-file JSON]...
      Records what record.sh knows about one capture. PREFIX.sent / PREFIX.recv hold the exact
      client->server / server->client bytes as logged by the programs (curl --trace,
      ws_client.py, tcp_peer.py) or computed by the tool that made a derived capture; SOURCE
      says which.

  facts.py finish --facts DIR --dir SAMPLES
      Merges the recorded facts into SAMPLES/expected.json (entries for captures not recorded
      in this run are kept), adds what tshark/capinfos-independent parsing and tshark say about
      every capture (packets, link types, TCP connections, tshark's own reassembly of each
      stream as a second opinion), and rewrites SAMPLES/README.md from it.
"""
import argparse
import glob
import hashlib
import json
import os
import re
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcaplib import LINKTYPE_NAMES  # noqa: E402


def stream_facts(prefix):
    with open(prefix + ".sent", "rb") as f:
        c = f.read()
    with open(prefix + ".recv", "rb") as f:
        s = f.read()
    return {"client_bytes": len(c), "server_bytes": len(s),
            "client_sha256": hashlib.sha256(c).hexdigest(),
            "server_sha256": hashlib.sha256(s).hexdigest()}


def cmd_add(a):
    entry = {"file": a.file, "software": a.software, "shows": a.shows, "streams": []}
    for spec in a.stream or []:
        client, server, prefix, source = spec.split()
        st = {"client": client, "server": server}
        st.update(stream_facts(prefix))
        st["source"] = source
        if a.incomplete:
            st["complete_in_capture"] = False
            st["incomplete_because"] = a.incomplete
        entry["streams"].append(st)
    for spec in a.alt_stream or []:
        prefix, source = spec.split()
        alt = stream_facts(prefix)
        alt["source"] = source
        entry["streams"][-1]["alternative"] = alt
    notes = list(a.note or [])
    details = {}
    for nf in a.note_file or []:
        with open(nf) as f:
            details.update(json.load(f))
    if notes:
        entry["notes"] = notes
    if a.follow_server:
        entry["follow_servers"] = a.follow_server
    txs = []
    for tf in a.transactions or []:
        with open(tf) as f:
            txs.extend(json.load(f))
    if txs:
        entry["transactions"] = txs
    if details:
        entry["details"] = details
    with open(os.path.join(a.facts, a.file + ".json"), "w") as f:
        json.dump(entry, f, indent=1)


def parse_socks5(hc, hs):
    """The SOCKS5 handshake (RFC 1928, with RFC 1929 username/password) of a client and a
    server byte prefix."""
    assert hc[0] == 5 and hs[0] == 5, "not SOCKS5"
    nm = hc[1]
    out = {"methods_offered": list(hc[2:2 + nm]), "method_chosen": hs[1]}
    i, j = 2 + nm, 2
    if hs[1] == 2:
        ulen = hc[i + 1]
        plen = hc[i + 2 + ulen]
        end = i + 3 + ulen + plen
        out["auth"] = {"username": hc[i + 2:i + 2 + ulen].decode("latin-1"),
                       "password": hc[i + 3 + ulen:end].decode("latin-1"),
                       "client_hex": hc[i:end].hex(), "server_hex": hs[j:j + 2].hex(),
                       "status": hs[j + 1]}
        i, j = end, j + 2
    req, rep = hc[i:], hs[j:]
    assert req[0] == 5 and req[1] == 1, "not a SOCKS5 CONNECT"
    assert rep[0] == 5 and rep[1] == 0, "SOCKS5 request not granted"
    atyp = req[3]
    if atyp == 1:
        host, p = ".".join(str(x) for x in req[4:8]), 8
    elif atyp == 3:
        host, p = req[5:5 + req[4]].decode("latin-1"), 5 + req[4]
    else:
        host, p = "[" + req[4:20].hex() + "]", 20
    out.update(atyp={1: "ipv4", 3: "domain", 4: "ipv6"}.get(atyp, str(atyp)), dest_host=host,
               dest_port=int.from_bytes(req[p:p + 2], "big"), request_hex=req.hex(),
               reply_hex=rep.hex())
    return out


def cmd_socks_prefix(a):
    """Stream bytes of a SOCKS5 client connection: tshark's follow of the capture, checked
    against curl's trace (which logs everything after the SOCKS5 handshake) and with the
    handshake parsed."""
    out, _ = tshark(a.pcap, "-T", "fields", "-e", "tcp.stream", "-e", "ip.src", "-e", "ipv6.src",
                    "-e", "tcp.srcport")
    idx = next(r.split("\t")[0] for r in out.splitlines()
               if endpoint(*r.split("\t")[1:4]) == a.client)
    c, s = follow_bytes(a.pcap, idx, a.client)
    tc = open(a.trace_prefix + ".sent", "rb").read()
    ts = open(a.trace_prefix + ".recv", "rb").read()
    if not (c.endswith(tc) and s.endswith(ts)):
        raise SystemExit("socks-prefix: curl's traced bytes are not the tail of the captured stream")
    hc, hs = c[:len(c) - len(tc)], s[:len(s) - len(ts)]
    parsed = parse_socks5(hc, hs)
    open(a.out + ".sent", "wb").write(c)
    open(a.out + ".recv", "wb").write(s)
    det = {"socks5_client_handshake_hex": hc.hex(), "socks5_server_handshake_hex": hs.hex(),
           "summary": f"SOCKS5 handshake: client {hc.hex()} ({len(hc)} B), server "
                      f"{hs.hex()} ({len(hs)} B); the rest of the stream is the HTTP "
                      f"curl logged in --trace"}
    if a.full:
        # later samples: the parsed handshake too (socks5.pcap was recorded without it)
        det = {"client": a.client, "socks5_client_handshake_hex": hc.hex(),
               "socks5_server_handshake_hex": hs.hex(), "socks5": parsed,
               "http_stream_offset_client": len(hc), "http_stream_offset_server": len(hs)}
    with open(a.out + ".details.json", "w") as f:
        json.dump(det, f, indent=1)


# --- reading the files ourselves ---------------------------------------------------------------

def interfaces(path):
    """[(link type name, tsresol digits)] from the file headers (classic pcap or pcapng)."""
    with open(path, "rb") as f:
        buf = f.read()
    magic = buf[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = "<" if magic[0] in (0xD4, 0x4D) else ">"
        nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
        (lt,) = struct.unpack_from(e + "I", buf, 20)
        return [(LINKTYPE_NAMES.get(lt, str(lt)), 9 if nano else 6)]
    if magic == b"\x0a\x0d\x0d\x0a":
        out, off, e = [], 0, "<"
        while off + 12 <= len(buf):
            if off == 0 or struct.unpack_from(e + "I", buf, off)[0] == 0x0A0D0D0A:
                e = "<" if buf[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            btype, blen = struct.unpack_from(e + "II", buf, off)
            if btype == 1:
                (lt,) = struct.unpack_from(e + "H", buf, off + 8)
                res, o = 6, off + 16
                while o + 4 <= off + blen - 4:
                    code, ln = struct.unpack_from(e + "HH", buf, o)
                    if code == 0:
                        break
                    if code == 9:
                        v = buf[o + 4]
                        res = v if not v & 0x80 else -(v & 0x7F)
                    o += 4 + ((ln + 3) & ~3)
                out.append((LINKTYPE_NAMES.get(lt, str(lt)), res))
            if blen < 12:
                break
            off += blen
        return out
    return []


def tshark(path, *args):
    p = subprocess.run(["tshark", "-r", path, *args], capture_output=True, text=True)
    err = "\n".join(l for l in p.stderr.splitlines()
                    if l.strip() and "could be dangerous" not in l)
    return p.stdout, err.strip()


def endpoint(addr4, addr6, port):
    return f"[{addr6}]:{port}" if addr6 else f"{addr4}:{port}"


def follow(path, idx, client):
    got = follow_bytes(path, idx, client)
    if got is None:
        return None
    c, s = got
    return {"client_bytes": len(c), "server_bytes": len(s),
            "client_sha256": hashlib.sha256(c).hexdigest(),
            "server_sha256": hashlib.sha256(s).hexdigest()}


def follow_bytes(path, idx, client):
    out, _ = tshark(path, "-qz", f"follow,tcp,raw,{idx}")
    node0 = None
    c, s = bytearray(), bytearray()
    for line in out.splitlines():
        m = re.match(r"^Node 0: (.*)$", line)
        if m:
            node0 = m.group(1)
            continue
        if re.match(r"^\t?[0-9a-f]+$", line):
            (s if line.startswith("\t") else c).extend(bytes.fromhex(line.strip()))
    if node0 is None:
        return None
    client_port = client.rsplit(":", 1)[1]
    if not node0.endswith(":" + client_port):
        c, s = s, c
    return bytes(c), bytes(s)


def measure(path, entry):
    out, err = tshark(path, "-T", "fields", "-e", "frame.number", "-e", "tcp.stream",
                      "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport",
                      "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport", "-e", "tcp.flags")
    rows = [r.split("\t") for r in out.splitlines()]
    entry["packets"] = len(rows)
    conns = sorted({r[1] for r in rows if len(r) > 1 and r[1]}, key=int)
    entry["tcp_connections"] = len(conns)
    entry["tshark_read_error"] = (err.splitlines()[-1].replace(path, os.path.basename(path))
                                  if err else None)
    ifs = interfaces(path)
    entry["link_types"] = [lt for lt, _ in ifs]
    entry["timestamp_resolution_digits"] = [r for _, r in ifs]
    entry["bytes"] = os.path.getsize(path)
    # connections to a --follow-server endpoint that the programs did not log: tshark's bytes
    known = {st["client"] for st in entry.get("streams", []) if st.get("source") != "tshark-follow"}
    entry["streams"] = [st for st in entry.get("streams", []) if st.get("source") != "tshark-follow"]
    for server in entry.get("follow_servers", []):
        for r in rows:
            if len(r) >= 9 and r[1] and r[8] and int(r[8], 16) & 0x12 == 0x02:  # SYN
                src = endpoint(r[2].split(",")[0], r[3].split(",")[0], r[4].split(",")[0])
                dst = endpoint(r[5].split(",")[0], r[6].split(",")[0], r[7].split(",")[0])
                if dst == server and src not in known:
                    known.add(src)
                    fo = follow(path, r[1], src)
                    st = {"client": src, "server": dst}
                    st.update(fo or {})
                    st["source"] = "tshark-follow"
                    st["note"] = "not logged by the programs; client port is ephemeral"
                    entry["streams"].append(st)
    # map each expected stream to tshark's tcp.stream index by the client endpoint
    for st in entry.get("streams", []):
        idx = None
        for r in rows:
            if len(r) >= 5 and r[1]:
                src = endpoint(r[2].split(",")[0], r[3].split(",")[0], r[4].split(",")[0])
                if src == st["client"]:
                    idx = r[1]
                    break
        if idx is None or st["source"] == "tshark-follow":
            st["tshark_follow"] = None if idx is None else {"tcp_stream_index": int(idx)}
            continue
        fo = follow(path, idx, st["client"])
        if fo is not None:
            fo["agrees"] = all(fo[k] == st[k] for k in ("client_bytes", "server_bytes",
                                                          "client_sha256", "server_sha256"))
            fo["tcp_stream_index"] = int(idx)
        st["tshark_follow"] = fo
    if entry.get("transactions"):
        entry["tshark_http"] = tshark_http(path)


def tshark_http(path):
    """tshark's own view of the HTTP messages (second opinion; it is known to miss or merge
    some of them: pipelining, 1xx, close-delimited bodies)."""
    out, _ = tshark(path, "-Y", "http", "-T", "fields", "-E", "occurrence=a",
                    "-e", "frame.number", "-e", "http.request.method", "-e", "http.request.uri",
                    "-e", "http.response.code")
    reqs, codes = [], []
    for line in out.splitlines():
        frame, methods, uris, rcodes = (line.split("\t") + ["", "", "", ""])[:4]
        for m, u in zip(methods.split(",") if methods else [], uris.split(",") if uris else []):
            reqs.append({"frame": int(frame), "method": m, "uri": u})
        for c in rcodes.split(",") if rcodes else []:
            codes.append({"frame": int(frame), "status": int(c)})
    return {"requests": len(reqs), "responses": len(codes), "request_list": reqs,
            "response_list": codes,
            "how": "tshark -Y http -T fields -e http.request.method -e http.request.uri "
                   "-e http.response.code (tshark's dissector, not the programs' logs)"}


def tx_summary(t):
    codes = ",".join(str(c) for c in t["interim"] + [t["status"]])
    extra = []
    if t.get("pipelined"):
        extra.append("pipelined")
    if t.get("request_transfer_encoding"):
        extra.append(f"request TE {t['request_transfer_encoding']}")
    if t.get("expect"):
        extra.append(f"Expect {t['expect']}")
    if t["response_framing"] not in ("content-length", "none"):
        extra.append(t["response_framing"])
    if t.get("content_encoding"):
        extra.append(f"CE {t['content_encoding']}")
    return (f"{t['method']} {t['target']} {t['version']} -> {codes}"
            + (f" ({', '.join(extra)})" if extra else ""))


PREAMBLE = """\
# Sample captures

Small packet captures recorded from real software on a Debian 12 machine (Linux, tcpdump 4.99.3 /
libpcap 1.10.3, tshark 4.0.17, nginx 1.22.1, curl 7.88.1 / OpenSSL 3.0 / nghttp2 1.52, Python 3.11,
`websockets` 17, `h2` 4, Chromium 156 headless, tinyproxy 1.11.1, microsocks 1.0.3, HAProxy
2.6.12, Apache httpd 2.4.71), plus a few derived from them by the checked-in tools in `tools/`
(documented per file below).

Re-create everything (as root) with:

```sh
sudo samples/record.sh            # all scenarios; rewrites the captures, expected.json and this file
sudo samples/record.sh http_ipv6  # one scenario (names: see ALL= in record.sh)
```

How they were made:

- Every scenario runs in network namespaces created (and deleted) by `record.sh`. "Loopback" means
  the loopback interface of a private namespace; two-host scenarios use 192.0.2.0/24,
  198.51.100.0/24 and fd00::/64 on links between private namespaces. Client ports are fixed
  (`curl --local-port`, bound sockets), so the 4-tuples below repeat between runs; timestamps,
  `Date:` headers, ISNs and WebSocket masking keys do not.
- The recording kernel has no 802.1Q VLAN devices and no netem qdisc. VLAN/QinQ tagging and
  delay/reorder/duplicate/loss are done by `tools/wire.py`: the client and server are real Linux
  TCP stacks on TAP devices in two namespaces; `wire.py` pushes the tag(s) (and applies the
  impairment) and sends every frame over a real veth pair (the "trunk"), pops the tags at the far
  end and hands the frame to the other TAP. tcpdump captures on the trunk veth.
- Captures on `lo` (and the veth/TAP ones) carry the checksums of an offloaded path: tshark and
  tcpdump may call TCP checksums incorrect; that is how Linux loopback traffic looks. In the
  captures derived by `tools/resegment.py` and `tools/ipfrag.py`, every packet the tool rewrote
  (re-cut data segments, fragments) has correct IPv4 and TCP checksums; packets copied unchanged
  (handshake, pure ACKs, FINs, small segments) keep the original loopback checksums.
- Every tcpdump runs with `--immediate-mode -B 65536 -U`, and record.sh fails if any tcpdump
  reports kernel drops, so the captures hold everything that crossed the interface.

Facts for tests are in [`expected.json`](expected.json), one object per capture:

- `packets`, `tcp_connections`: as tshark 4.0 sees them (`tshark -r F | wc -l`; number of distinct
  non-empty `tcp.stream` values, i.e. `tshark -r F -T fields -e tcp.stream | grep . | sort -u | wc -l`).
- `link_types`, `timestamp_resolution_digits`: read from the file headers (one per interface).
- `streams[]`: one per TCP connection whose bytes are known: `client`, `server`, and the exact
  bytes each side sent (`client_bytes`/`client_sha256` = client->server payload,
  `server_bytes`/`server_sha256` = server->client), counted once, as the programs logged them
  (`source`: `curl--trace` = curl's `--trace` hex dump; `ws_client.py-transport-log`;
  `tcp_peer.py-generated-payload`; `resegment.py-first-copy-wins` = the original bytes, which are
  the first copy of every overlap in file order). `tshark_follow` is tshark's own reassembly
  (`-z follow,tcp,raw`) as a second opinion, with `agrees`.
- `details`: tool-specific facts (fragment offsets, conflicting bytes, corrupt offsets, ...).
- `transactions[]` (HTTP captures): every request/response exchange in order, split by
  `tools/httpwire.py` from the bytes the CLIENT logged (never from tshark): `client`, `server`,
  `index` (order on that connection), `pipelined` (sent before the previous response had fully
  arrived), `method`, `target` (exactly as sent), `version`, `request_offset` /
  `response_offset` / `final_response_offset` (byte offsets in the client->server and
  server->client streams; `response_offset` is the first interim response if any),
  `request_head_bytes`, `expect`, `request_transfer_encoding`, `request_body_wire_bytes` /
  `request_body_bytes` (de-chunked) / `request_body_sha256`, `interim` (1xx statuses in order)
  and `interim_headers`, `status`, `reason`, `response_version`, `response_head_bytes`,
  `response_framing` (`content-length`, `chunked`, `close` = delimited by the connection close,
  `none` = HEAD/1xx/204/304), `content_length`, `transfer_encoding`, `content_encoding`,
  `response_body_wire_bytes` (as on the wire, chunk framing and trailers included),
  `response_body_payload_bytes` (de-chunked, still content-coded),
  `response_body_decoded_bytes` and `response_body_sha256` (after undoing the content-codings),
  `chunk_sizes` / `chunk_extensions` / `trailers` for chunked bodies, `decoding_notes`,
  `upgrade` (101), `source`; `client_decoded_body_agrees` when the client's own decoded output
  (curl `-o`) was compared with it. `tshark_http` is tshark's dissector view of the same
  capture (requests and response codes by frame), as a second opinion only.
- Stream `source`s added for the HTTP samples: `curl--trace+1xx-crlf` (curl 7.88's trace omits
  the empty line ending each 1xx head; `tools/curl_trace_bytes.py` puts it back),
  `http_raw_client.py-log`, `ws_server.py-transport-log` (the backend's own log of a proxied
  connection), `socks4_server.py-log`, `ws_client.py-tunnel-log` (ws_client.py's log of a
  connection it tunnelled itself with `--socks5` / `--connect-proxy`: the SOCKS5 or CONNECT
  handshake it wrote and read on the socket, then every byte through the library's transport).
- Transactions split with `httpwire.py --through-connect` (a CONNECT tunnel carrying plaintext
  HTTP): the CONNECT has `tunnel_follows: true`, and the requests inside the tunnel follow it
  on the same connection, `index` counting on (the CONNECT is 0, the first request inside 1).
- `details` keys of the HTTP/proxy samples: `smuggling_cases[]` (http-smuggling: per case
  `case`, `name`, `client`, `server`, `description`, `request_bytes`, `request_hex` (the exact
  bytes sent), `readings` (how the bytes can be read), `rule`, `server_received_identical`,
  `response_status`, `response_hex`); `credentials[]` (`client`, `server`, `field`, `scheme`,
  `user`, `password`, `base64`, `header_line`, `client_stream_offset_of_base64`) and
  `proxy_challenge` (http-proxy-auth); `upstream_connection`, `upstream_request_line`,
  `upstream_saw_headers`, `backend_answer`, `backend_answer_headers`, `client_saw_status`,
  `client_saw_status_line`, `client_saw_headers`, `client_rejected` / `client_messages`
  (websocket-nginx-*); `socks4_connections[]` and `socks5_connections[]` (the parsed handshakes,
  credentials, and `http_stream_offset_client`/`_server` where the tunnelled HTTP starts);
  `server_received_upload`, `curl_raw_output_bytes`.
- Transactions recorded with `httpwire.py --headers` also carry `request_headers` and
  `response_headers` (every field line of the request and of the final response, in order, as
  `[name, value]`).
- `details` of http-cache-range: `files` (bytes, sha256 of each served file), `validators`
  (`etag`, `last_modified`, `cache_control[]`, `expires` of the first 200), `conditional[]`
  (`index`, `header`, `value`, `status`), `ranges[]` (per Range request: `index`, `target`,
  `range` as sent, `status`, `content_range` and `content_range_parsed` (`first`, `last`,
  `complete_length`, or `unsatisfied`), `content_type`, `body_bytes`, `body_sha256`,
  `equals_file_range`, and for multipart/byteranges `multipart` = `boundary`, `parts[]`
  (`headers`, `content_range`, `body_offset` in the response body, `bytes`, `sha256`, `text`,
  `equals_file_range`) and `closing_delimiter_offset`), `resume` (`file_bytes`, `file_sha256`,
  `pieces[]` with each piece's `range`, `content_range`, `bytes`, `sha256`; the sha256 of the
  file curl assembled and `agrees`).
- `details.websocket_connections[]` (websocket-features, websocket-deflate-contexts,
  websocket-bad, and both legs of websocket-socks5 / websocket-connect-tinyproxy): per
  connection `client`, `server`, `path`, `handshake` (`request_line`,
  `request_bytes`, `response_line`, `response_bytes`, `request_headers`, `response_headers`,
  `extensions_offered` / `extensions_agreed` = the Sec-WebSocket-Extensions strings),
  `frames_client_to_server[]` (from the client's log) and `frames_server_to_client[]` (from the
  server's log): every frame that side wrote, in order: `direction`, `index`, `stream_offset`
  (of the frame's first byte in that direction's stream), `fin`, `rsv1`, `rsv2`, `rsv3`,
  `opcode`, `opcode_name`, `masked`, `mask_key` (hex or null), `header_bytes`, `length_field`
  (`7-bit`, `16-bit`, `64-bit`), `payload_length` (as on the wire, i.e. compressed),
  `payload_sha256` (unmasked wire payload), `payload_text` or `payload_hex` when at most 64
  bytes, `message` (index of the data message the frame belongs to, null for control frames),
  `close_code` / `close_reason` for close frames, `note`;
  `messages_client_to_server[]` / `messages_server_to_client[]`: `index`, `type`, `frames`
  (frame indices), `fragments`, `control_frames_inside` (control frames sent between its
  fragments), `compressed` (RSV1 on its first frame), `wire_payload_bytes` /
  `wire_payload_sha256` (the frames' unmasked payloads concatenated, still compressed),
  `payload_bytes` / `sha256` (the message as the application sent it, i.e. decompressed),
  `payload_text`; `close` (`client` / `server`: `code`, `reason` of the close frame each sent);
  `peer_received_every_message` (each message one side sent is what the other side's library
  delivered); `tshark_websocket` (tshark's frames per direction: `frame`, `opcode`, `fin`,
  `masked`, and `agrees` with the logs) as a second opinion only. In websocket-bad the frames
  also carry `frame_hex` (the exact bytes) and `minimal_length_encoding`, there are no
  `messages_*` (null), and each connection has `case`: `case` (name), `index`, `by` (the side
  that breaks the rule), `rule` (RFC 6455 section and wording), `violating_frames_hex`,
  `violating_frames[]` (`direction`, `index`, `stream_offset`, `frame_hex`), `reaction` (the
  close frame the other side answered with: `direction`, `close_code`, `close_reason`,
  `frame_hex`; or a sentence when the client just closed TCP after a bad handshake),
  `client_checks` (`accept_valid`, `subprotocol_offered`), and `websockets_verdict` (what the
  `websockets` library's Sans-IO parser says when fed the violating bytes as the receiver:
  `error`, `would_send_close`, `events` delivered, `state`; a second opinion, not a rule).
  In the tunnelled samples (websocket-socks5, websocket-connect-tinyproxy, written by
  `tools/ws_facts.py tunnel-legs`) there is one connection per leg, `leg` (`client -> proxy
  (inside the tunnel)` or `proxy -> server`), `handshake.request_offset` /
  `response_offset` (where the upgrade starts in each direction: after the proxy handshake on
  the client leg, 0 upstream); the frames are split from the logged bytes and each one is
  exactly one transport write of the program that sent it (ws_client.py's writes for
  client->server, ws_server.py's for server->client); the proxies relay bytes, so both legs
  carry the same frames (`identical_on_both_legs`), offset by the proxy handshake on the client
  leg; `payload_text` for text frames and messages, `payload_hex` for binary ones; no
  `tshark_websocket`.
- `details.tunnels[]` (websocket-socks5, websocket-connect-tinyproxy): per tunnel `client`,
  `proxy`, `kind` (`socks5`, `connect`), `target` (host:port asked for), `established`,
  `upstream` (`client`, `server` of the proxy's own connection to the target),
  `tunnel_stream_offset_client` / `_server` (where the tunnelled bytes start in each
  direction), `bytes_to_target` / `bytes_from_target` (the tunnelled bytes each way),
  `carries`, `tunnel_bytes_identical_on_both_legs`; for SOCKS5 `auth`, `socks5` (the parsed
  handshake as in `socks5_connections`), `socks5_client_handshake_hex` /
  `socks5_server_handshake_hex`; for CONNECT `connect_request_line`,
  `connect_request_headers`, `connect_response_version`, `connect_response_status`,
  `connect_response_reason`, `connect_response_headers`, `proxy_agent`.
- `details.h2c` (h2c-upgrade): `upgrade_request_line`, `upgrade_request_headers`,
  `http2_settings_header` (the base64url HTTP2-Settings value) and `http2_settings_decoded`
  (`[{id, name, value}]`), `upgrade_response` (the 101 head), `client_preface_offset`,
  `client_frames_offset`, `server_frames_offset` (where HTTP/2 starts in each direction),
  `frames_client_to_server[]` / `frames_server_to_client[]` (`index`, `stream_offset`, `type`,
  `type_code`, `flags`, `stream_id`, `length`, plus `settings`, `window_increment`,
  `headers` (HPACK-decoded), `data_bytes` / `data_sha256`, `error_code`, `last_stream_id`,
  `opaque_data` by type), `frame_counts` (`client_to_server` / `server_to_client`: type ->
  count), `streams[]` (`stream_id`, `opened_by`, `method`, `path`, `authority`, `scheme`,
  `status`, `response_body_bytes`, `response_body_sha256`, `client_output_agrees`),
  `h2_events` (the server library's events in order), `client_verbose` (curl -v lines about
  the switch and the stream IDs).
- `details.connect_tls_connections[]` (connect-tls): `client`, `proxy`, `origin`,
  `curl_option`, `connect_request_line`, `connect_request_headers`, `connect_response_status`,
  `connect_response_reason`, `connect_response_headers`, `tls_stream_offset_client` /
  `tls_stream_offset_server` (where TLS starts in the tunnel), `client_hello_hex` (the
  handshake message as curl's TLS library logged it), `client_hello` (`handshake_message_bytes`,
  `message_sha256`, `legacy_version`, `session_id_bytes`, `cipher_suites[]`, `extensions[]`
  (`type`, `name`, `bytes`, in order), `sni[]`, `alpn[]`, `supported_versions[]` (when the
  extension is there), `offered_versions[]` and `offered_versions_from`, `supported_groups[]`,
  `key_share[]` (`group`, `key_bytes`), `signature_algorithms[]`), `server_hello`
  (`legacy_version`, `cipher_suite`, `extensions[]`, `selected_version`, `alpn` when in the
  clear), `alpn_selected` (curl's "ALPN: server accepted"), `curl_info` (curl's TLS info lines),
  `legs` (`client_to_proxy` and `proxy_to_server`: `connection`, `first_record_offset`,
  `records[]` carrying the ClientHello (`offset`, `header_hex`, `length`),
  `client_hello_equals_client_log`; `tunnel_bytes_identical_on_both_legs`).
- `details` of http-cookies-auth-redirect: `cookies` (`set_cookies[]`: `line`, `name`,
  `value`, `attributes` (`[name, value or true]` in order), `set_by` (`index`, `target`),
  `stored_by_curl`, `jar_entry` (curl's jar line: `domain`, `include_subdomains`, `path`,
  `secure`, `expires`, `session`, `name`, `value`, `httponly`), `sent_on` / `not_sent_on`
  (request indices on that connection); `requests[]` (`index`, `target`, `cookie_header`,
  `names` as curl sent them); `jar`; `notes`), `auth[]` (`index`, `target`, `status`,
  `www_authenticate`, `authorization`, `decoded`), `redirect_chains[]` (`client`, `hops[]`:
  `index`, `method`, `target`, `request_body_bytes`, `status`, `location`), `cors[]` (`index`,
  `kind` (`preflight` / `actual request`), `method`, `target`, `origin`, `status`,
  `credentialed` (the request carried cookies), `access_control_*` request and response
  fields, `browser_decision` (`allowed` / `blocked`), `reasons[]`, `rule`): the decision is
  the Fetch standard's CORS rule applied to the recorded headers, not a browser's output.
- `details` of browser-cors: `browser` (version), `page`, `api_origin`,
  `cors_browser_cases[]` (`name`, `fetch` (the script's call), `preflight_sent` /
  `actual_request_sent` (from the server's request log), `page_result` (the line the page
  wrote, read with --dump-dom), `browser_decision` (`allowed` / `blocked`, what Chromium did),
  `console_reason` (Chromium's CORS console message), `rule`), `page_results`, `console`
  (Chromium's console lines), `browser_connections[]` (`origin`, `client`, `requests`, `note`
  for a connection opened but never used). Stream source `cors_lab_server.py-log`: the
  server's own log of each connection (the browser's ports are ephemeral).
- `details` of websocket-browser (written by `tools/ws_browser_facts.py`): `browser`
  (version), `page`, `page_log[]` (the page's own events, read with --dump-dom and equal to
  the copy it POSTed to /log: `page`, `open` (`url`, `extensions` = WebSocket.extensions),
  `sent` / `received` (`index`, `type`, `bytes` (UTF-8 bytes for text), `chars`, `sha256`
  (crypto.subtle), `head_hex`, `head_text`, `text` when at most 64 bytes), `close` (`code`,
  `reason`, `wasClean` of the close event), `refused-error`, `refused-close`, `done`);
  `websocket_connections[]` (one, the fields above; frames_client_to_server are split from the
  bytes the server read, since Chromium cannot log them; each message also has `browser`
  (its page_log line), `payload_head_hex` / `payload_head_text`, `chars`;
  `extensions_browser_reports`, `close_initiator`, `browser_close_event`);
  `refused_upgrades[]` (`client`, `server`, `path`, `request_line`, `request_headers`,
  `origin`, `extensions_offered`, `response_line`, `response_status`, `response_headers`,
  `response_body`, `server_rule`, `browser_error_event`, `browser_close_event`). Stream
  source `ws_browser_lab.py-log`: the servers' own logs.
- `details.proxy_legs[]` (the captures with both legs of a proxy: websocket-nginx-http11-no-upgrade
  and the later proxy samples): the ground truth of which front transaction (client -> proxy)
  became which back transaction (proxy -> upstream), one object per front transaction, written
  by `tools/proxy_legs.py` from the transactions of the two legs (each split from the bytes a
  program logged): `front` (`client`, `server`, `index` = the transaction's `index` on that
  connection, as in `transactions[]`), `back` (the same for the upstream request, or null when
  the proxy answered by itself), `proxy` (`nginx`, `haproxy`, `apache`, `tinyproxy`; null for
  a SOCKS proxy, which has no banner that names it), a CONNECT is no leg (it opens the tunnel;
  the requests inside it are the legs),
  `matched_by` (`order`, or `X-Hopscope-Tag: VALUE` = a unique tag the client put on the
  request and the upstream received), `front_request_line` / `back_request_line`,
  `front_status` / `back_status` (null when the upstream never answered), `version_front` /
  `version_back` (request versions) and `response_version_front` / `response_version_back`,
  `request_id` (the `X-Request-Id` the upstream received, e.g. nginx's `$request_id`),
  `headers_removed` (names of request fields the client sent that did not reach the upstream,
  in the client's order), `headers_added` (`[name, value]` fields the upstream received under
  a name the client did not send), `headers_changed` (`{name, front, back}`: both sides have
  the field, with other values; values are lists, one per field line), `headers_recased`
  (`[sent spelling, received spelling]` of a field name whose letter case the proxy changed,
  e.g. HAProxy's lower-case names), and the same for the response, `response_headers_removed` /
  `response_headers_added` / `response_headers_changed` / `response_headers_recased` (`back` =
  what the upstream answered, `front` = what the client got; recased = `[upstream's spelling,
  client's spelling]`); field names are compared case-insensitively; all of them null when
  `back` is null; `notes[]` (sentences:
  answered by the proxy itself, interim responses only the client got, status or version or
  body changes, and the scenario's own remarks). Stream source `proxy_backend.py-log`: the
  upstream's own log of a proxied connection (`tools/proxy_backend.py`); transactions with
  source `tshark-follow` (the tinyproxy -> nginx leg of http-proxy-chain, logged by neither
  program) are split from tshark's follow of that connection.
- More `details` of the proxy samples: `back_connections[]` (http-nginx-keepalive-mix: per
  upstream connection `client` (nginx's port), `server`, `tags` (the client requests it carried,
  in order), `front_clients`), `upstream_connections_reused_across_clients` (upstream connections
  that carried requests of both clients), `nginx_access_log[]` (nginx's own log per client
  request: `client`, `nginx_connection`, `connection_requests`, `request_id`, `status`,
  `request`, `upstream_addr`, `upstream_status`) and `nginx_access_log_agrees` (the pairing
  from the programs' logs matches it: same `$request_id` upstream, no upstream for the requests
  nginx answered); `proxy_chains[]` (http-proxy-chain: per request `tag`, `hops` (the three
  connections' `{client, server, index}` in order), `request_lines`, `statuses`);
  `hop_by_hop[]` (http-proxy-leak: per client request `front`, `back`, `proxy`, `tag`,
  `config`, `probes[]` (`name`, `sent`, `received` = the value the backend got or null,
  `reached_backend` (for `Connection`: only if the client's value arrived unchanged),
  `why_hop_by_hop`), `leaked` (names that reached the backend)).

TLS samples (`tls*`; issue 14), recorded with the clients' own key logs:

- Key logs beside the captures, exactly as the client wrote them (NSS key log format):
  `tls13-curl-nginx.keys`, `tls12-curl-nginx.keys` (curl's `SSLKEYLOGFILE`),
  `tls-wss-python.keys` (Python `ssl.SSLContext.keylog_filename`, written by both Python
  clients), `tls-chromium.keys` (Chromium's `--ssl-key-log-file`),
  `tls13-openssl-keyupdate-ccm.keys` (`openssl s_client -keylogfile`: a `#` comment line first,
  and after each KeyUpdate `CLIENT_TRAFFIC_SECRET_N` / `SERVER_TRAFFIC_SECRET_N` lines, which a
  reader may ignore). `tls13-dsb.pcapng` has no `.keys` file: its keys (`tls13-curl-nginx.keys`)
  are in the file's Decryption Secrets Block (`editcap --inject-secrets tls,...`), and it has the
  same packets as `tls13-curl-nginx.pcap`.
- Missing or wrong keys (no capture of their own): any TLS capture read without its key log
  (e.g. `tls13-curl-nginx.pcap` alone: no key for any client random); a capture with ANOTHER
  capture's key log (e.g. `tls13-curl-nginx.pcap` with `tls12-curl-nginx.keys`, or
  `tls12-curl-nginx.pcap` with `tls13-curl-nginx.keys`: the key log matches no connection);
  `tls13-curl-nginx.wrong.keys` (made by `tools/tls_facts.py mismatch-keys`) has the client
  randoms of `tls13-curl-nginx.pcap`, each with the secrets of another of its connections: keys
  are found and the records do not authenticate (record.sh checks that tshark decrypts nothing
  with it). Do not pair `tls13-dsb.pcapng` with these: its own keys are inside.
- `streams[]` of the TLS connections are the TLS bytes (`source` `tshark-follow`: no program
  logs ciphertext); the cleartext upstream leg of tls-wss-python has the backend's log as usual.
  `transactions[]` / `details.websocket_connections` hold only what is in the clear (the
  upstream leg, the CONNECT exchanges before a tunnel's TLS); what is inside TLS is under
  `details.tls_*`, in the same formats.
- `details.tls_keylog`: `file`, `in_capture` (the Decryption Secrets Block), `lines`, `labels`
  (label -> count), `client_randoms`, `matches_connections`.
- `details.tls_connections[]` (written by `tools/tls_facts.py`), one per TCP connection to the
  TLS server (or to the proxy whose tunnels carry the TLS) in capture order: `client`, `server`,
  `tcp_stream` (tshark's index),
  `client_random` (of the first ClientHello, as in the key log), `keylog_labels` (the key log's
  labels for it), `version` (`TLS 1.3`, `TLS 1.2`), `cipher_suite` (IANA name),
  `cipher_suite_id`, `openssl_cipher` (OpenSSL's name, as nginx logs it), `sni`,
  `alpn_offered` (null: no ALPN extension), `alpn_selected` (nginx's `$ssl_alpn_protocol`; in
  TLS 1.3 only visible after decryption), `hello_retry_request`, `resumed` (TLS 1.2: the
  ServerHello echoes the client's session ID; TLS 1.3: pre_shared_key), `encrypt_then_mac` and
  `extended_master_secret` (TLS 1.2: the ServerHello has the extension; null for TLS 1.3),
  `key_updates` (s_client's connections: KeyUpdates `client_sent` / `client_received`, from its
  `-msg` log), `capture_handshake` (from the handshake in the clear in the capture:
  `client_hellos`, `client_session_id`, `server_session_id`, `server_hello_extensions`,
  `records_client_to_server` / `records_server_to_client` = TLS records by outer content type,
  `records_end_exactly_at_stream_end`), `nginx` (nginx's per-connection view from its access
  log: `connection`, `ssl_protocol`, `ssl_cipher`, `ssl_session_reused`, `ssl_server_name`,
  `ssl_alpn_protocol`), `requests[]` (nginx's access log, one per request in order: `method`,
  `target`, `protocol`, `status`, `body_bytes` (`$body_bytes_sent`: after gzip, with chunk
  framing; for a 101 the bytes nginx relayed after the upgrade), `bytes_sent`,
  `request_length`, `connection_requests`, `content_encoding_gzip`, `upstream`),
  `client_log` (what the client itself logged of the handshake: `client_random`,
  `server_random`, `client_hello`, `server_hello` (fields as in connect-tls), `curl_says` /
  `ssl_module` / `s_client_says` (its version, cipher, ALPN, session reuse), `source`; null for
  Chromium), `plaintext` (the decrypted stream as the client logged it: `client_bytes`,
  `client_sha256`, `server_bytes`, `server_sha256`, `source`: `curl--trace`,
  `ws_client.py-transport-log`, `https_client.py-log`, `s_client_driver.py-log`; null for
  Chromium), `client_transfers` (curl's `-w '%{json}'` per transfer: `method`, `url`,
  `http_code`, `size_download`, `size_header`, `num_connects`, `ssl_verify_result`),
  `client_requests` (the Python and s_client drivers' own list), `tshark` (the oracle: `http`
  (its requests and responses by frame), `websocket_frames`, `key_updates`,
  `decrypted_client_bytes` / `decrypted_server_bytes`, `agrees`: `http_requests_equal_server_log`,
  `http_statuses_equal_server_log`, `decrypted_stream_equals_client_log`,
  `websocket_frames_equal_logs`, `key_updates_equal_client_log`). Every value two sources give
  (client log, nginx log, the capture's handshake) was checked equal when recorded.
  TLS inside a tunnel (tls-connect-tinyproxy, tls-socks5-microsocks): the client's connection
  to the proxy has `tunnel` (`proxy`, `kind` `connect` / `socks5`, `target`, the
  `connect_request_line` / `connect_response_line` or the parsed `socks5` handshake (fields as
  in socks5-auth), `tls_stream_offset_client` / `tls_stream_offset_server` (where the TLS
  starts: after the proxy handshake), `upstream` (`client`, `server`, `tcp_stream`: the proxy's
  own connection to nginx, whose bytes are the tunnel's after the proxy handshake, each way:
  `tls_bytes_identical_on_both_legs`), `client_log_has_proxy_handshake` (curl traces a CONNECT
  exchange, not a SOCKS handshake)); its `requests` are nginx's log of the upstream leg, its
  `plaintext` curl's trace after the proxy handshake. The upstream leg is a TLS connection of
  its own with `upstream_leg_of` (the tunnel's client) and the same `plaintext`; the oracle's
  `http` on a CONNECT client connection starts with the CONNECT in the clear.
- `details.tls_transactions[]`: the HTTP exchanges inside TLS, split by `tools/httpwire.py` from
  the plaintext the client logged (fields as `transactions[]`, with headers); none for Chromium
  (its requests are `tls_connections[].requests`). `index` counts the HTTP transactions on the
  TCP connection: inside a CONNECT tunnel it goes on after the CONNECT (index 0, itself in
  `transactions[]`, in the clear), so the first request inside the TLS is 1 (split with
  `httpwire.py --through-connect`, then `tls_facts.py split-connect`; offsets are into the
  decrypted stream); inside SOCKS, and on a proxy's upstream leg (split from the tunnel
  client's plaintext, `source` says so), from 0. `details.tls_websocket_connections[]`
  (tls-wss-python): the wss:// leg, fields as `websocket_connections[]`, `leg` says which;
  `details.tls_proxy_legs[]`: the pairing of the TLS front leg with nginx's upstream leg, fields
  as `proxy_legs[]`.
- `details.tshark_tls`: `output_file` (`tls/NAME.tshark.txt`: tshark 4.0's HTTP, WebSocket and
  KeyUpdate fields and its decrypted stream per connection, with the commands), `commands`,
  `decrypted_everything_the_programs_logged`. tshark is a second opinion only; the facts come
  from the programs. `details.page_results` / `browser` (tls-chromium): the page's own output.

HTTP/2 samples (`h2-*`, `h2c-upgrade-curl`; issue 15), facts written by `tools/h2_facts.py`:

- nginx 1.22 has no `http2 on;` (1.25.1+): HTTP/2 is the `listen` parameter (`ssl http2` = TLS
  with ALPN h2; `http2` without ssl = cleartext prior knowledge only). The TLS ones have the
  client's key log (`NAME.keys`, curl's `SSLKEYLOGFILE`) and also `details.tls_connections`
  (as above; no `plaintext`: curl traces HTTP/2 decoded, not the frames).
- `details.h2_connections[]`, one per HTTP/2 connection: `client`, `server`, `tcp_stream`,
  `tls`, `start` (`alpn`, `prior-knowledge`, `upgrade`), `alpn`, `nginx_connection`, `sources`
  (`nginx-debug-log`: nginx's `error_log ... debug` (every frame it read, the request headers it
  decoded, the response headers and trailers it encoded, every HEADERS / DATA frame it created,
  the control frames it sent) and its JSON access log; `curl--trace+-w+-D+-o`: curl 7.88's
  "h2h3 [name: value]" request lines and "Using Stream ID: N" from `--trace`, and per transfer
  `-w '%{json}'`, `-D`, `-o`; `h2_client.py-log` / `h2c_server.py-log`: a program's log of the
  connection's exact bytes, parsed into frames with hyperframe/hpack; `nghttp -v`: nghttp's log
  of every frame it sent and received), `nginx` (`frames_read`, `control_frames_sent`),
  `client_settings`, `frames_client_to_server[]` / `frames_server_to_client[]` where a program
  logged every frame (`index`, `type`, `type_code`, `flags`, `flags_byte`, `length`,
  `stream_id`, `stream_offset` in a byte log, and by type `settings` (`id`, `name`, `value`),
  `window_increment`, `error_code`, `last_stream_id`, `headers`, `data_bytes` /
  `data_sha256`, `opaque_data`), `frame_counts_client_to_server` /
  `frame_counts_server_to_client`, `window_updates` (WINDOW_UPDATE count and increment total on
  the connection (stream 0) and on streams, per direction, also as tshark counted them),
  `upgrade` (h2c: `request_line`, `request_headers`, `http2_settings` and
  `http2_settings_decoded`, `response_head`, offsets), `h2_events` (the Python program's h2
  events and actions), `curl_lines` (curl's info lines about ALPN, streams and reuse),
  `streams[]` and `tshark` (frame counts and `agrees`: `client_frames_equal_nginx_read`,
  `client_frames_equal_log` / `server_frames_equal_log`, `client_frames_equal_nghttp` /
  `server_frames_equal_nghttp` (type, flags, length and stream id of every frame in order),
  `streams_equal_programs`, `stream_ids_equal`).
- `streams[]`, one per stream that carried a request: `stream_id`, `method`, `path`, `scheme`,
  `authority`, `protocol` (`:protocol`), `host` (a Host field, if sent), `request_headers` (in
  wire order, pseudo-headers first as sent; for stream 1 after an h2c upgrade the HTTP/1.1
  field lines of the upgrade request, with `opened_by` and `request_line`),
  `request_body_bytes`, `interim` / `interim_headers` (1xx on HTTP/2), `status`,
  `response_headers` (with `:status`), `trailers` (a HEADERS frame after the DATA), `content_length`,
  `content_encoding`, `response_body_wire_bytes` (DATA payload, still content-coded),
  `response_data_frames` (each DATA frame's payload length), `response_body_decoded_bytes` /
  `response_body_sha256` (after the content-coding: curl's `-o` or the logged bytes decoded;
  null when no program has the body, e.g. nghttp -n), `end` (`response_end_stream`,
  `request_end_stream`, `rst_stream_by_server` / `rst_stream_by_client` with `error_code` and
  `error`), `window_updates_from_client` / `_from_server` (increments, byte-log samples),
  `request_id` and `nginx_access_log` (nginx's `$request_id`, `$connection_requests`,
  `$body_bytes_sent`, `$upstream_addr`, ...), `client_transfer` (curl: `transfer` number,
  `url`, `http_code`, `size_download`, `size_upload`, `status_line`, `interim` as curl's -D
  shows them: the h2c upgrade's 101 is there for stream 1), `sources`, `tshark` (its DATA
  bytes per direction, RST_STREAM codes, WINDOW_UPDATE counts, and `agrees`:
  `request_headers`, `response_heads` (interim, final and trailer header lists),
  `response_data_bytes`, `response_data_frames`, `request_data_bytes`, `rst_stream`),
  `tshark_agrees`. Every value two programs give was checked equal when recorded.
- `details.h2_tshark`: `output_file` (`h2/NAME.tshark.txt`: tshark 4.0's HTTP/2 fields per
  packet, with the command), `command`, `keylog`, `agrees_with_the_programs`.
- `details.h2_flow_control` (h2-small-window): `initial_window_size`, `connection_window`,
  `stall_ms`, `stalls` (`stream`, `connection`: times the client found a window at 0 and waited
  before its WINDOW_UPDATE), `window_updates_sent`, `per_stream[]` (`stream_id`, `path`,
  `window_updates_from_client`, `increment_total`, `response_data_frames`,
  `largest_data_frame`, `response_body_wire_bytes`), `connection_stalls`, `source`.
- `details.h2_proxy_legs[]` (h2-front-http1-back): per front HTTP/2 stream `front` (`client`,
  `server`, `stream_id`), `back` (`client`, `server`, `index` of the HTTP/1.1 transaction in
  `transactions[]`, or null when nginx answered itself), `proxy`, `request_id`, `matched_by`
  (`X-Request-ID: ...`, nginx's `$request_id` as the backend received it), `front_request`,
  `version_front` / `version_back`, `front_authority` / `back_host`, `back_request_line`,
  `front_status` / `back_status`, `front_request_body_bytes` / `back_request_body_bytes`,
  `front_response_body_bytes` / `back_response_body_bytes`, `headers_removed` (request fields
  the client sent that did not reach the backend), `headers_added` (`[name, value]` the backend
  got that the client did not send), `response_headers_removed` / `response_headers_added`,
  `nginx_upstream_addr`, `nginx_upstream_status`, `notes`. The back legs' transactions are in
  `transactions[]` (HTTP/1.1, from the backend's log).
- `details.h2_websocket` (h2-websocket-rfc8441): `stream_id`, `path`, `authority`, `scheme`,
  `protocol`, `connect_request_headers`, `status`, `response_headers`, `server_settings` (the
  server's SETTINGS, with ENABLE_CONNECT_PROTOCOL = 1), `frames_client_to_server[]` /
  `frames_server_to_client[]` (the WebSocket frames in the stream's DATA, one per DATA frame:
  `index`, `fin`, `opcode`, `opcode_name`, `masked`, `payload_length`, `payload_text` (text up
  to 64 bytes), `close_code` / `close_reason`, `payload_sha256`, `h2_data_frame_index` (in
  that direction's `frames_*` of `h2_connections`), `h2_stream_offset`,
  `data_frame_end_stream`), `close` (`client`, `server`), `source`.
- A curl transfer that followed a redirect (`-L`) or answered a challenge (`--anyauth`) spans
  several streams of its connection, one per final head in its `-D` file, given to the streams
  in order (`client_transfer.transfer_streams` / `transfer_stream_index`; only the last stream
  has curl's `url`, `size_download`, `-o` body; `exitcode` when curl failed, e.g. 47 after
  `--max-redirs`).
- h2-semantics-curl: the HTTP/1.1 semantics samples' keys (`details.validators`,
  `conditional[]`, `ranges[]`, `cookies`, `auth[]`, `redirect_chains[]`, `cors[]`, as for
  http-cache-range and http-cookies-auth-redirect), written by `tools/h2_semantics_facts.py`
  with the same functions (`tools/range_facts.py`, `tools/cookie_cors_facts.py`) from the
  streams of `details.h2_connections` and curl's cookie jar; beside each `index` (the request's
  place on its connection) the `stream_id` and `client` (cookies: `sent_on_streams` /
  `not_sent_on_streams`); range bodies are curl's `-o` files, checked against the DATA frames'
  sha256. RFC 9113 §8.2.3: several `cookie` fields would be one Cookie header joined with
  "; " (curl 7.88 sends one). `semantics_source`, `semantics_summary`.
- `details.chromium_netlog` (h2-chromium, `tools/h2_netlog_facts.py`): Chromium's own NetLog
  (`--log-net-log`): `browser`, `sessions[]` (`client` from the session socket's TCP_CONNECT
  local_address, `protocol`, `streams[]`: `stream_id`, `method`, `path`, `authority`,
  `status`, `request_headers`, `request_end_stream`, `priority` (`weight`, `exclusive`,
  `parent_stream_id`), `response_headers`, `response_data_bytes`, `response_end_stream`,
  `nginx_agrees`), `page_results` (the page's own output), `source`, `summary`. Every stream
  was checked equal to nginx's view (`h2_connections`) when recorded.

| File | Made by | Link type(s) | What it shows | Packets | TCP conns | Stream bytes client->server / server->client (sha256) |
|---|---|---|---|---|---|---|
"""


def readme_row(e):
    lts = ", ".join(f"{lt} ({'ns' if r == 9 else 'us' if r == 6 else r})"
                    for lt, r in zip(e["link_types"], e["timestamp_resolution_digits"]))
    streams = []
    for st in e.get("streams", []):
        t = (f"{st['client']} -> {st['server']}: {st['client_bytes']} B `{st['client_sha256']}` / "
             f"{st['server_bytes']} B `{st['server_sha256']}`")
        if st.get("complete_in_capture") is False:
            t += " (not all in the capture)"
        if st["source"] == "tshark-follow":
            t += " (from tshark's follow)"
        if "alternative" in st:
            alt = st["alternative"]
            t += (f"; if the LAST copy wins: {alt['client_bytes']} B `{alt['client_sha256']}` / "
                  f"{alt['server_bytes']} B `{alt['server_sha256']}`")
        streams.append(t)
    shows = e["shows"]
    det = e.get("details", {})
    if "summary" in det:
        shows += ". " + det["summary"]
    for n in e.get("notes", []):
        shows += ". Note: " + n
    if e.get("transactions"):
        shows += ". Transactions (client's log): " + "; ".join(tx_summary(t) for t in e["transactions"])
    cells = [f"`{e['file']}`", e["software"], lts, shows, str(e["packets"]),
             str(e["tcp_connections"]), "<br>".join(streams) or "-"]
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |\n"


def cmd_finish(a):
    path = os.path.join(a.dir, "expected.json")
    entries = {}
    if os.path.exists(path):
        with open(path) as f:
            for e in json.load(f)["captures"]:
                entries[e["file"]] = e
    for ff in sorted(glob.glob(os.path.join(a.facts, "*.json"))):
        with open(ff) as f:
            e = json.load(f)
        entries[e["file"]] = e
    present = {os.path.basename(p) for p in glob.glob(os.path.join(a.dir, "*.pcap*"))}
    out = []
    for name in sorted(entries):
        if name not in present:
            print(f"facts: {name} has no capture file; dropped", file=sys.stderr)
            continue
        e = entries[name]
        measure(os.path.join(a.dir, name), e)
        out.append(e)
    missing = present - {e["file"] for e in out}
    for m in sorted(missing):
        print(f"facts: {m} has no recorded facts", file=sys.stderr)
    doc = {"about": "Facts about the captures in samples/, written by samples/tools/facts.py "
                    "(run by samples/record.sh). See samples/README.md for field meanings.",
           "captures": out}
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    with open(os.path.join(a.dir, "README.md"), "w") as f:
        f.write(PREAMBLE)
        for e in out:
            f.write(readme_row(e))
        f.write(README_TAIL)
    bad = [(e["file"], st["client"]) for e in out for st in e.get("streams", [])
           if st.get("complete_in_capture", True) and st["source"] != "tshark-follow"
           and not (st.get("tshark_follow") or {}).get("agrees")]
    if bad:
        print(f"facts: tshark's reassembly differs from the programs' bytes for: {bad}",
              file=sys.stderr)


README_TAIL = """
Files in this directory besides the captures:

- `record.sh`: re-creates every capture (one function per scenario), then runs `tools/facts.py`.
- `ws_server.py`, `ws_client.py`: the WebSocket echo server and the scripted client (logs its
  socket bytes).
- `tools/wire.py`: TAP-to-TAP forwarder over a veth trunk with VLAN/QinQ tagging and
  netem-like impairment. `tools/tcp_peer.py`: deterministic bulk TCP client/server.
  `tools/udp_frag.py`: UDP request/reply larger than the MTU.
- `tools/curl_trace_bytes.py`: stream bytes from `curl --trace`. `tools/httpwire.py`: HTTP/1.x
  transactions from a client's logged bytes.
- `tools/http_lab_server.py`: http.server with chunked/trailers, 100-continue, 103, content
  encodings, HTTP/1.0 close-delimited bodies. `tools/http_raw_client.py`: sends exact bytes
  (pipelining, malformed requests) and logs what it got. `tools/raw_http_server.py`: logs raw
  requests, answers a fixed response; `tools/smuggling_cases.py`: the malformed requests.
  `tools/socks4_server.py`: minimal SOCKS4/4a server. `tools/range_facts.py`: validators,
  ranges and the resumed download of http-cache-range.
- `tools/pcap_swap_endian.py`, `tools/resegment.py`, `tools/ipfrag.py`, `tools/corrupt.py`: make
  the derived captures (see their docstrings). `tools/pcaplib.py`: shared pcap helpers.
- `tools/ws_frames.py`: frame-by-frame WebSocket client and server (websockets' Sans-IO
  protocol; fragments, control frames between fragments, deflate with and without context
  takeover, a message sent uncompressed on a compressed connection), each logging the frames
  it wrote. `tools/ws_bad.py`: raw-socket WebSocket client and server that break one rule per
  connection. `tools/ws_facts.py`: merges and cross-checks the two logs of a connection.
- `tools/h2c_server.py`: HTTP/2 server with the h2c Upgrade path (Python `h2`), logging its
  bytes; `frames` parses both directions into HTTP/2 frames.
- `tools/tls_hello.py`: ClientHello/ServerHello facts from curl's trace of its TLS
  handshake messages, and where that ClientHello sits in a captured stream.
- `tools/http_app_server.py`: http.server with cookies, Basic auth, redirect chains and CORS
  answers; `tools/cookie_cors_facts.py`: its cookie, auth, redirect and CORS facts.
- `tools/cors_lab_server.py`: the two origins of browser-cors (page with the fetch() script,
  and the API), logging every connection's bytes.
- `tools/ws_browser_lab.py`: the page and the two WebSocket servers of websocket-browser
  (echo with permessage-deflate then close 4001; one refusing the page's Origin), logging
  every connection's bytes and the library's view; `tools/ws_browser_facts.py`: its facts,
  checked between the page's log, the servers' logs and the inflated wire messages.
- `tools/proxy_backend.py`: the origin behind the proxy samples (http.server), logging every
  connection's bytes and every request's headers; `tools/proxy_legs.py`: pairs a proxy's front
  and back transactions into `details.proxy_legs`.
- `tools/split_legs.py`: `split` cuts a single-file proxy capture into its front and back legs
  (by the proxy's listen address and the upstream servers), optionally moving one file's
  clock; `facts` writes `details.split_legs` of the split-nginx-ws files (the proxy's two legs
  captured on two hosts: pairs front -> back by nginx's `$request_id`, the dropped upgrade and
  its nginx fix, each file's true clock correction `clock_offset_s`; split-nginx-nat: the client
  leg captured on the client behind `tools/nat_box.py`, a userspace 1:1 NAT). `rotated/`: the front file
  of split-nginx-ws cut into a rotated set (`.pcap0` ..) and its back file gzipped; `zstd/`:
  the same set with its first four files zstd'd (as `tcpdump -z zstd` leaves it) and the back
  file zstd'd in ~1.3 KB blocks (`--target-compressed-block-size=1340`);
  `split/`: ten proxy samples cut by `split_legs.py split` (`split/split.json` says which file
  holds which leg, the clock shift applied, the streams and the pairs), and tshark's view of
  the split files (`split/*.tshark.txt`).
- `tools/h2_facts.py`: the HTTP/2 samples' facts (`details.h2_*`) from nginx's debug and access
  logs, curl's trace and per-transfer output, nghttp's and the Python programs' logs, checked
  against each other and against tshark; `proxy-legs` pairs HTTP/2 front streams with the
  HTTP/1.1 requests nginx made for them. `tools/h2_semantics_facts.py`: the semantics details
  of an HTTP/2 sample (its streams as transactions for range_facts.py and cookie_cors_facts.py).
  `tools/h2_netlog_facts.py`: Chromium's NetLog view of its HTTP/2 streams, checked against
  nginx's. `tools/h2_client.py`: HTTP/2 client (Python `h2`) with
  a small window and flow control by hand, logging its bytes and events. `h2/NAME.tshark.txt`:
  tshark's HTTP/2 view of each HTTP/2 sample.
- `tools/tls_facts.py`: the TLS samples' facts (`details.tls_*`) and the tshark oracle; splits a
  curl trace of several connections; the wss:// legs; TLS inside CONNECT and SOCKS5 tunnels
  (`capture --proxy`, `split-connect`); `mismatch-keys`. `tools/https_client.py`:
  http.client over TLS with a key log, logging its plaintext. `tools/tls_client_log.py`: a
  Python client's own record of its handshake (`SSLContext._msg_callback`).
  `tools/s_client_driver.py`: drives `openssl s_client` through requests and KeyUpdates.
- `NAME.keys`: the key logs of the TLS captures; `tls/NAME.tshark.txt`: tshark's view of them
  with the keys (see above).
- `tools/facts.py`: writes `expected.json` and this README.
"""


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    ad = sub.add_parser("add")
    ad.add_argument("--facts", required=True)
    ad.add_argument("--file", required=True)
    ad.add_argument("--software", required=True)
    ad.add_argument("--shows", required=True)
    ad.add_argument("--stream", action="append")
    ad.add_argument("--alt-stream", action="append")
    ad.add_argument("--incomplete")
    ad.add_argument("--note", action="append")
    ad.add_argument("--note-file", action="append")
    ad.add_argument("--transactions", action="append",
                    help="JSON list of transactions (tools/httpwire.py), appended in order")
    ad.add_argument("--follow-server", action="append",
                    help="also list every connection to this ip:port, bytes from tshark's follow")
    sp = sub.add_parser("socks-prefix")
    sp.add_argument("--pcap", required=True)
    sp.add_argument("--client", required=True)
    sp.add_argument("--trace-prefix", required=True)
    sp.add_argument("--out", required=True)
    sp.add_argument("--full", action="store_true",
                    help="also the parsed handshake (method, credentials, address type)")
    fi = sub.add_parser("finish")
    fi.add_argument("--facts", required=True)
    fi.add_argument("--dir", required=True)
    a = ap.parse_args()
    {"add": cmd_add, "finish": cmd_finish, "socks-prefix": cmd_socks_prefix}[a.cmd](a)


if __name__ == "__main__":
    main()
