#!/usr/bin/env python3
"""Facts for the TLS samples (details.tls_* of samples/expected.json; see samples/README.md).

  tls_facts.py split-trace TRACE PREFIX
      Split a `curl --trace` of several connections made one after the other (e.g. a TLS
      session resumed on a second connection) into PREFIX.0.trace, PREFIX.1.trace, ... at
      curl's "Connected to ... (#N)" lines; prints how many.

  tls_facts.py capture --pcap P --keylog K --keylog-name NAME --server IP:PORT...
                       [--nginx-log JSONL]... [--conn "CLIENT SERVER KIND PREFIX"]...
                       [--curl-w FILE]... [--tx JSON]... [--ws-front JSON]
                       [--keys-in-capture] [--decode-as PORT]... [--proxy IP:PORT]...
                       --tshark-out TXT --out JSON
      One object per TLS connection of the capture (every TCP connection to a --server or a
      --proxy), from:
        * the server's own log (nginx access log, one JSON object per request: version,
          cipher, session reuse, SNI, ALPN, every request's method, target, status, body bytes);
        * the client's own log (--conn): KIND curl = PREFIX.trace (one connection: the
          handshake messages OpenSSL logged, "SSL connection using ...", the HTTP bytes in the
          clear) and PREFIX.sent/.recv (tools/curl_trace_bytes.py); KIND ws_client /
          https_client = PREFIX.json with "tls" (tools/tls_client_log.py) and
          PREFIX.sent/.recv (ws_client.py, tools/https_client.py); curl's -w '%{json}' lines
          (--curl-w) per transfer;
        * the capture's handshake in the clear (ClientHello / ServerHello / HelloRetryRequest
          parsed from tshark's TCP reassembly with tools/tls_hello.py), used for what neither
          program logs (e.g. a connection a browser opened and never used) and cross-checked
          with the programs' logs where they have it;
        * the key log: which labels it has for the connection's client random.
      Every value two sources give must agree, or the command fails.
      The tshark oracle (tshark with the key log: its HTTP and WebSocket dissection and its
      decrypted TLS stream per connection) is written to --tshark-out and compared: the
      decrypted stream must be the client's logged plaintext byte for byte, and tshark's
      requests and response codes per connection must be the server's log.
      --tx: tools/httpwire.py transactions of the decrypted streams (from the clients' logs),
      written as details.tls_transactions.
      --proxy: an HTTP CONNECT or SOCKS5 proxy whose client connections carry TLS in a tunnel.
      Each tunnel's upstream leg is the proxy's own connection to a --server whose bytes are
      the tail of the client connection's, each way (the proxy relayed the TLS unchanged); the
      bytes before are the proxy handshake (parsed: "tunnel", with the stream offsets where the
      TLS starts). The server's log names the upstream leg: its requests are both legs'. A
      logged client's plaintext is its log after the proxy handshake (curl traces a CONNECT
      exchange, not a SOCKS handshake); it is also the upstream leg's, whose transactions are
      split from it here and added to details.tls_transactions (index from 0). For a logged
      tunnel client PREFIX.capture.sent/.recv get the client connection's captured bytes.

  tls_facts.py ws-legs --client-log PREFIX --server-log PREFIX --front C S --back C S --out JSON
      A wss:// conversation through a TLS-terminating proxy (nginx) to a cleartext backend:
      ws_client.py's log of the TLS leg (the application data in the clear) and ws_server.py's
      log of the proxy's upstream connection. The two legs have their own upgrade handshakes;
      after them, the proxy relays the frames unchanged: the client's bytes after its request
      head are the bytes the backend read after nginx's, and the other way round. Frames are
      split as in tools/ws_facts.py (one transport write = one frame for both writers).
      Writes {"tls_websocket_connections": [TLS leg], "websocket_connections": [upstream leg]}.

  tls_facts.py split-connect TX CONNECT_OUT INSIDE_OUT
      The transactions of one curl connection through an HTTP CONNECT proxy (tools/httpwire.py
      --through-connect on its trace: the CONNECT exchange in the clear, then the HTTP curl
      traced inside the tunnel's TLS) split into the CONNECT (index 0) and the requests inside
      the TLS. These keep their index (it goes on counting on the TCP connection: 1, 2, ...);
      their offsets become offsets into the decrypted stream (the TLS starts right after the
      CONNECT exchange).

  tls_facts.py mismatch-keys KEYLOG OUT
      A key log with the same client randoms and, for each, the secrets of ANOTHER connection
      of the same log (rotated by one): keys present whose records do not authenticate.
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from facts import endpoint, tshark  # noqa: E402
from tls_hello import EXT_NAMES, VERSIONS, client_hello, server_hello  # noqa: E402

HRR_RANDOM = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
TLS13_SUITES = ("TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
                "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256")
NGINX_VERSIONS = {"TLSv1.3": "TLS 1.3", "TLSv1.2": "TLS 1.2", "TLSv1.1": "TLS 1.1", "TLSv1": "TLS 1.0"}


def sha(b):
    return hashlib.sha256(b).hexdigest()


def rd(p):
    with open(p, "rb") as f:
        return f.read()


# --- curl traces -------------------------------------------------------------------------------

def cmd_split_trace(a):
    parts, cur = [], None
    with open(a.trace, encoding="latin-1") as f:
        for line in f:
            if re.match(r"^== Info: Connected to .*\(#\d+\)", line):
                cur = []
                parts.append(cur)
            if cur is not None:
                cur.append(line)
    for i, p in enumerate(parts):
        with open(f"{a.prefix}.{i}.trace", "w", encoding="latin-1") as f:
            f.writelines(p)
    print(len(parts))


def curl_trace_info(path):
    """What curl itself says about the connection's TLS in its trace."""
    from tls_hello import ssl_blocks
    blocks, _ = ssl_blocks(path)
    info = []
    with open(path, encoding="latin-1") as f:
        for line in f:
            if line.startswith("== Info: "):
                info.append(line[9:].rstrip("\n"))
    chs = [b for d, b in blocks if d == "send" and b[0] == 1 and len(b) > 5]
    shs = [b for d, b in blocks if d == "recv" and b[0] == 2 and len(b) > 5]
    out = {"client_hellos": len(chs)}
    out["client_random"] = chs[0][6:38].hex()
    out["client_hello"] = client_hello(chs[0])
    real = [m for m in shs if m[6:38].hex() != HRR_RANDOM]
    out["hello_retry_request"] = len(real) < len(shs)
    if real:
        out["server_random"] = real[-1][6:38].hex()
        out["server_hello"] = server_hello(real[-1])
    using = [re.match(r"SSL connection using (\S+) / (\S+)", i) for i in info]
    using = [m for m in using if m]
    out["curl_says"] = {"ssl_connection_using": [f"{m.group(1)} / {m.group(2)}" for m in using],
                        "version": using[-1].group(1) if using else None,
                        "cipher": using[-1].group(2) if using else None,
                        "alpn": next((re.match(r"ALPN: server accepted (\S+)", i).group(1)
                                      for i in info if i.startswith("ALPN: server accepted")), None),
                        "session_reused": any("SSL re-using session ID" in i for i in info),
                        "lines": [i for i in info if re.match(
                            r"(SSL connection using|ALPN|SSL re-using|TLS 1\.3 cipher|Cipher selection"
                            r"|Connected to|Re-using existing|Closing connection)", i)]}
    out["source"] = ("curl --trace: the handshake messages OpenSSL logged ('Send/Recv SSL data') "
                     "and curl's own info lines")
    return out


# --- the capture's handshake in the clear --------------------------------------------------------

def follow(pcap, proto, idx, client_port, extra=()):
    out, _ = tshark(pcap, *extra, "-qz", f"follow,{proto},raw,{idx}")
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
    if not node0.endswith(":" + client_port):
        c, s = s, c
    return bytes(c), bytes(s)


def handshake_messages(stream, stop_at_ccs):
    """Handshake messages in the clear at the start of one direction's TLS stream, and the
    record counts by content type. stop_at_ccs() says whether a ChangeCipherSpec ends the
    plaintext handshake (TLS 1.2) or is the TLS 1.3 compatibility dummy."""
    p, hs, msgs, records, stopped = 0, bytearray(), [], {}, False
    while p + 5 <= len(stream):
        ct, n = stream[p], int.from_bytes(stream[p + 3:p + 5], "big")
        records[ct] = records.get(ct, 0) + 1
        body = stream[p + 5:p + 5 + n]
        p += 5 + n
        if stopped:
            continue
        if ct == 20 and stop_at_ccs():
            stopped = True
        elif ct == 22:
            hs += body
            while len(hs) >= 4 and len(hs) >= 4 + int.from_bytes(hs[1:4], "big"):
                ln = 4 + int.from_bytes(hs[1:4], "big")
                msgs.append(bytes(hs[:ln]))
                del hs[:ln]
        elif ct == 23:
            stopped = True
    return msgs, records, p == len(stream)


def capture_handshake(c, s):
    ch_msgs, c_records, c_whole = handshake_messages(c, lambda: True)
    version = {}

    def stop():
        return version.get("v") != "TLS 1.3"

    s_msgs = []
    # find the ServerHello first to know the version (the dummy CCS of TLS 1.3)
    p, buf = 0, bytearray()
    while p + 5 <= len(s) and not version:
        ct, n = s[p], int.from_bytes(s[p + 3:p + 5], "big")
        if ct == 22:
            buf += s[p + 5:p + 5 + n]
            while len(buf) >= 4 and len(buf) >= 4 + int.from_bytes(buf[1:4], "big"):
                ln = 4 + int.from_bytes(buf[1:4], "big")
                m = bytes(buf[:ln])
                del buf[:ln]
                if m[0] == 2 and m[6:38].hex() != HRR_RANDOM:
                    version["v"] = server_hello(m)["selected_version"]
        p += 5 + n
    s_msgs, s_records, s_whole = handshake_messages(s, stop)
    chs = [m for m in ch_msgs if m[0] == 1]
    shs = [m for m in s_msgs if m[0] == 2]
    real = [m for m in shs if m[6:38].hex() != HRR_RANDOM]
    out = {"client_hellos": len(chs), "hello_retry_request": len(real) < len(shs)}
    if chs:
        out["client_random"] = chs[0][6:38].hex()
        out["client_hello"] = client_hello(chs[0])
        if len(chs) > 1:
            out["second_client_hello"] = client_hello(chs[1])
    if real:
        sh = real[-1]
        out["server_random"] = sh[6:38].hex()
        out["server_hello"] = server_hello(sh)
        sid_len = sh[38]
        out["server_session_id"] = sh[39:39 + sid_len].hex()
    ch_sid_len = chs[0][38] if chs else 0
    out["client_session_id"] = chs[0][39:39 + ch_sid_len].hex() if chs else None
    names = {20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data"}
    out["records_client_to_server"] = {names.get(k, str(k)): v for k, v in sorted(c_records.items())}
    out["records_server_to_client"] = {names.get(k, str(k)): v for k, v in sorted(s_records.items())}
    out["records_end_exactly_at_stream_end"] = c_whole and s_whole
    return out


# --- key log -------------------------------------------------------------------------------------

def read_keylog(path):
    by_random, lines, labels = {}, 0, {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            lines += 1
            parts = line.split()
            labels[parts[0]] = labels.get(parts[0], 0) + 1
            if len(parts) == 3 and parts[0] != "RSA":
                by_random.setdefault(parts[1].lower(), []).append(parts[0])
    return by_random, lines, labels


def iana_names():
    p = subprocess.run(["openssl", "ciphers", "-V", "-stdname", "-ciphersuites", TLS13_SUITES,
                        "ALL:COMPLEMENTOFALL:@SECLEVEL=0"], capture_output=True, text=True, check=True)
    by_id, by_openssl = {}, {}
    for line in p.stdout.splitlines():
        m = re.match(r"\s*0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)\s+- (\S+)", line)
        if m:
            cid = "0x" + (m.group(1) + m.group(2)).lower()
            by_id[cid] = {"iana": m.group(3), "openssl": m.group(4)}
            by_openssl[m.group(4)] = cid
    return by_id, by_openssl


# --- capture -------------------------------------------------------------------------------------

def tcp_connections(pcap, servers):
    out, _ = tshark(pcap, "-Y", "tcp.flags.syn==1 && tcp.flags.ack==0", "-T", "fields",
                    "-e", "tcp.stream", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport",
                    "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport")
    conns, seen = [], set()
    for r in out.splitlines():
        f = r.split("\t")
        client, server = endpoint(f[1], f[2], f[3]), endpoint(f[4], f[5], f[6])
        if server in servers and f[0] not in seen:
            seen.add(f[0])
            conns.append({"client": client, "server": server, "tcp_stream": int(f[0])})
    return conns


def oracle(a, conns):
    """tshark with the key log: HTTP, WebSocket, and each connection's decrypted stream."""
    kl = ["-o", f"tls.keylog_file:{a.keylog}"] if not a.keys_in_capture else []
    da = []
    for port in a.decode_as or []:
        da += ["-d", f"tls.port=={port},http"]
    http_cmd = [*kl, *da, "-Y", "http", "-T", "fields", "-E", "occurrence=a",
                "-e", "frame.number", "-e", "tcp.stream", "-e", "http.request.method",
                "-e", "http.request.uri", "-e", "http.response.code", "-e", "http.content_length",
                "-e", "http.transfer_encoding", "-e", "http.content_encoding"]
    ws_cmd = [*kl, *da, "-Y", "websocket", "-T", "fields", "-E", "occurrence=a",
              "-e", "frame.number", "-e", "tcp.stream", "-e", "tcp.srcport", "-e", "websocket.opcode",
              "-e", "websocket.fin", "-e", "websocket.mask", "-e", "websocket.payload_length"]
    ku_cmd = [*kl, "-Y", "tls.handshake.type == 24", "-T", "fields", "-E", "occurrence=a",
              "-e", "frame.number", "-e", "tcp.stream", "-e", "tcp.srcport",
              "-e", "tls.handshake.type", "-e", "tls.handshake.key_update.request_update"]
    http_out, _ = tshark(a.pcap, *http_cmd)
    ku_out, _ = tshark(a.pcap, *ku_cmd)
    ws_out, _ = tshark(a.pcap, *ws_cmd)
    shown = lambda cmd: " ".join(["tshark", "-r", os.path.basename(a.pcap)] + [
        x if x != f"tls.keylog_file:{a.keylog}" else f"tls.keylog_file:{a.keylog_name}" for x in cmd])
    per = {c["tcp_stream"]: {"http": [], "websocket_frames": [], "key_updates": []} for c in conns}
    for line in ku_out.splitlines():
        f = (line.split("\t") + [""] * 5)[:5]
        st = int(f[1].split(",")[0])
        if st in per:
            for t in f[3].split(","):
                if t == "24":
                    per[st]["key_updates"].append({"frame": int(f[0]), "from_port": int(f[2])})
    for line in http_out.splitlines():
        f = (line.split("\t") + [""] * 8)[:8]
        st = int(f[1].split(",")[0])
        if st not in per:
            continue
        for m, u in zip(f[2].split(",") if f[2] else [], f[3].split(",") if f[3] else []):
            per[st]["http"].append({"frame": int(f[0]), "request": f"{m} {u}"})
        for code in f[4].split(",") if f[4] else []:
            per[st]["http"].append({"frame": int(f[0]), "response": int(code),
                                    "content_length": int(f[5]) if f[5] and "," not in f[5] else None,
                                    "transfer_encoding": f[6] or None, "content_encoding": f[7] or None})
    for line in ws_out.splitlines():
        f = (line.split("\t") + [""] * 7)[:7]
        st = int(f[1].split(",")[0])
        if st in per:
            for op, fin, mask, ln in zip(f[3].split(","), f[4].split(","), f[5].split(","),
                                         f[6].split(",")):
                per[st]["websocket_frames"].append({"frame": int(f[0]), "opcode": int(op, 0),
                                                    "fin": fin in ("1", "True"),
                                                    "masked": mask in ("1", "True"),
                                                    "payload_length": int(ln)})
    follow_txt = []
    for c in conns:
        got = follow(a.pcap, "tls", c["tcp_stream"], c["client"].rsplit(":", 1)[1], kl)
        cb, sb = got if got else (b"", b"")
        per[c["tcp_stream"]]["decrypted"] = {"client_bytes": len(cb), "client_sha256": sha(cb),
                                             "server_bytes": len(sb), "server_sha256": sha(sb)}
        follow_txt.append(f"{c['tcp_stream']}\t{c['client']}\t{c['server']}\t{len(cb)}\t{sha(cb)}"
                          f"\t{len(sb)}\t{sha(sb)}")
    fcmd = shown([*kl, "-qz", "follow,tls,raw,N"])
    with open(a.tshark_out, "w") as f:
        f.write(f"# {os.path.basename(a.pcap)}: tshark's view with the key log, a second opinion\n")
        f.write(f"# tshark {tshark_version()}\n")
        f.write(f"\n## {shown(http_cmd)}\n")
        f.write(http_out)
        f.write(f"\n## {shown(ws_cmd)}\n")
        f.write(ws_out)
        f.write(f"\n## {shown(ku_cmd)}\n")
        f.write(ku_out)
        f.write(f"\n## {fcmd} for every TLS connection N: "
                "tcp.stream, client, server, decrypted bytes and sha256 each way\n")
        f.write("\n".join(follow_txt) + "\n")
    return per, {"http": shown(http_cmd), "websocket": shown(ws_cmd), "key_update": shown(ku_cmd),
                 "follow": fcmd}


def proxy_handshake(hc, hs):
    """What comes before a tunnel's first byte: one HTTP CONNECT exchange or a SOCKS5 handshake
    (the client's and the proxy's bytes)."""
    if hc.startswith(b"CONNECT "):
        if not (hc.endswith(b"\r\n\r\n") and hc.count(b"\r\n\r\n") == 1
                and hs.endswith(b"\r\n\r\n") and hs.count(b"\r\n\r\n") == 1):
            raise SystemExit("tls_facts: the bytes before the tunnel are not one CONNECT exchange")
        req, resp = (x.split(b"\r\n", 1)[0].decode("latin-1") for x in (hc, hs))
        status = int(resp.split(" ")[1])
        if not 200 <= status < 300:
            raise SystemExit(f"tls_facts: CONNECT answered {resp}")
        return {"kind": "connect", "target": req.split(" ")[1], "connect_request_line": req,
                "connect_response_line": resp}
    from facts import parse_socks5
    s5 = parse_socks5(hc, hs)
    return {"kind": "socks5", "target": f"{s5['dest_host']}:{s5['dest_port']}", "socks5": s5}


def tunnel_legs(conns, raws, proxies):
    """Each connection to a proxy carries a tunnel whose upstream leg is the proxy's own
    connection to a --server: the one whose client->server bytes are the tail of the tunnel
    connection's, and the same the other way (the proxy relayed the TLS bytes unchanged). The
    bytes before are the proxy handshake. -> {client: tunnel facts}, {upstream tcp.stream: client}"""
    tunnels, carried = {}, {}
    for c in conns:
        if c["server"] not in proxies:
            continue
        tc, ts = raws[c["tcp_stream"]]
        ups = [u for u in conns if u["server"] not in proxies and u["tcp_stream"] not in carried
               and raws[u["tcp_stream"]][0] and len(raws[u["tcp_stream"]][0]) < len(tc)
               and tc.endswith(raws[u["tcp_stream"]][0]) and ts.endswith(raws[u["tcp_stream"]][1])]
        if len(ups) != 1:
            raise SystemExit(f"tls_facts: {c['client']}: {len(ups)} upstream connections carry "
                             "its tunnel's bytes (want exactly one)")
        u = ups[0]
        uc, us = raws[u["tcp_stream"]]
        pc, ps = len(tc) - len(uc), len(ts) - len(us)
        t = {"proxy": c["server"]}
        t.update(proxy_handshake(tc[:pc], ts[:ps]))
        t.update(tls_stream_offset_client=pc, tls_stream_offset_server=ps,
                 upstream={"client": u["client"], "server": u["server"],
                           "tcp_stream": u["tcp_stream"]},
                 tls_bytes_identical_on_both_legs=True,
                 source=("tshark's TCP reassembly of both legs: the upstream leg's bytes are the "
                         "tunnel connection's after the proxy handshake, each way"))
        tunnels[c["client"]] = t
        carried[u["tcp_stream"]] = c["client"]
    return tunnels, carried


def tshark_version():
    p = subprocess.run(["tshark", "--version"], capture_output=True, text=True)
    return p.stdout.splitlines()[0].split()[2] if p.stdout else "?"


def cmd_capture(a):
    by_id, by_openssl = iana_names()
    keys, keylog_lines, keylog_labels = read_keylog(a.keylog)
    nginx = []
    for p in a.nginx_log or []:
        with open(p) as f:
            nginx += [json.loads(l) for l in f if l.strip()]
    transfers = []
    for p in a.curl_w or []:
        with open(p) as f:
            transfers += [json.loads(l) for l in f if l.strip().startswith("{")]
    logs = {}
    for spec in a.conn or []:
        client, server, kind, prefix = spec.split()
        logs[client] = (server, kind, prefix)
    proxies = set(a.proxy or [])
    conns = tcp_connections(a.pcap, set(a.server) | proxies)
    if not set(logs) <= {c["client"] for c in conns}:
        raise SystemExit(f"tls_facts: logged connections {sorted(set(logs))} not all in the capture")
    raws = {c["tcp_stream"]: follow(a.pcap, "tcp", c["tcp_stream"], c["client"].rsplit(":", 1)[1])
            for c in conns}
    tunnels, carried = tunnel_legs(conns, raws, proxies)
    per, cmds = oracle(a, conns)
    ws_front = json.load(open(a.ws_front))["tls_websocket_connections"][0] if a.ws_front else None
    out_conns, problems = [], []
    plain = {}   # client -> the decrypted stream as its client logged it, and the source
    upstream_txs = []
    # tunnels first: their upstream legs take the tunnel client's logged plaintext
    for c in sorted(conns, key=lambda c: (c["client"] not in tunnels, c["tcp_stream"])):
        cport = c["client"].rsplit(":", 1)[1]
        raw = raws[c["tcp_stream"]]
        tun = tunnels.get(c["client"])
        if tun:
            raw = (raw[0][tun["tls_stream_offset_client"]:], raw[1][tun["tls_stream_offset_server"]:])
        hs = capture_handshake(*raw)
        e = dict(c)
        if tun:
            e["tunnel"] = tun
        if c["tcp_stream"] in carried:
            e["upstream_leg_of"] = carried[c["tcp_stream"]]
        rnd = hs.get("client_random")
        e["client_random"] = rnd
        e["keylog_labels"] = sorted(keys.get(rnd, []))
        sh = hs.get("server_hello") or {}
        cid = sh.get("cipher_suite")
        e["version"] = sh.get("selected_version")
        e["cipher_suite"] = by_id.get(cid, {}).get("iana")
        e["cipher_suite_id"] = cid
        e["openssl_cipher"] = by_id.get(cid, {}).get("openssl")
        ch = hs.get("client_hello") or {}
        e["sni"] = (ch.get("sni") or [None])[0]
        e["alpn_offered"] = ch.get("alpn")
        e["hello_retry_request"] = hs["hello_retry_request"]
        tls12 = e["version"] == "TLS 1.2"
        exts = sh.get("extensions", [])
        e["resumed"] = (bool(hs.get("client_session_id") and
                             hs.get("client_session_id") == hs.get("server_session_id"))
                        if tls12 else "pre_shared_key" in sh.get("extensions", []))
        e["encrypt_then_mac"] = ("encrypt_then_mac" in exts) if tls12 else None
        e["extended_master_secret"] = ("extended_master_secret" in exts) if tls12 else None
        e["capture_handshake"] = {k: hs[k] for k in (
            "client_hellos", "client_session_id", "server_session_id", "records_client_to_server",
            "records_server_to_client", "records_end_exactly_at_stream_end") if k in hs}
        e["capture_handshake"]["server_hello_extensions"] = exts
        e["capture_handshake"]["source"] = ("the handshake messages in the clear, from tshark's "
                                            "TCP reassembly of the capture (no keys needed)")
        if e["alpn_offered"] is not None and tls12:
            e["alpn_selected"] = sh.get("alpn")
        # the server's log (which names a tunnel's upstream leg)
        seen_as = tun["upstream"]["client"] if tun else c["client"]
        reqs = [r for r in nginx if r["client"] == seen_as]
        if reqs:
            vers = {NGINX_VERSIONS.get(r["ssl_protocol"], r["ssl_protocol"]) for r in reqs}
            ciphers = {r["ssl_cipher"] for r in reqs}
            if vers != {e["version"]} or ciphers != {e["openssl_cipher"]}:
                problems.append(f"{c['client']}: nginx {vers} {ciphers}, handshake "
                                f"{e['version']} {e['openssl_cipher']}")
            reused = {r["ssl_session_reused"] == "r" for r in reqs}
            if tls12 and reused != {e["resumed"]}:
                problems.append(f"{c['client']}: nginx session reused {reused}, handshake {e['resumed']}")
            alpn = {r["ssl_alpn_protocol"] or None for r in reqs}
            if "alpn_selected" in e and alpn != {e["alpn_selected"]}:
                problems.append(f"{c['client']}: nginx ALPN {alpn}, handshake {e['alpn_selected']}")
            e["alpn_selected"] = alpn.pop()
            e["nginx"] = {"connection": reqs[0]["connection"], "ssl_protocol": reqs[0]["ssl_protocol"],
                          "ssl_cipher": reqs[0]["ssl_cipher"],
                          "ssl_session_reused": reqs[0]["ssl_session_reused"] == "r",
                          "ssl_server_name": reqs[0]["ssl_server_name"] or None,
                          "ssl_alpn_protocol": reqs[0]["ssl_alpn_protocol"] or None}
        e.setdefault("alpn_selected", None)
        e["requests"] = [{"method": r["method"], "target": r["target"], "protocol": r["protocol"],
                          "status": r["status"], "body_bytes": r["body_bytes_sent"],
                          "bytes_sent": r["bytes_sent"], "request_length": r["request_length"],
                          "connection_requests": r["connection_requests"],
                          "content_encoding_gzip": r["gzip_ratio"] not in ("", "-", None),
                          "upstream": r.get("upstream_addr") or None}
                         for r in reqs]
        # the client's log
        e["plaintext"] = None
        e["client_log"] = None
        if c["client"] in logs:
            server, kind, prefix = logs[c["client"]]
            if server != c["server"]:
                problems.append(f"{c['client']}: logged server {server}, capture {c['server']}")
            if kind in ("curl", "curl-h2"):
                cl = curl_trace_info(prefix + ".trace")
                src = "curl--trace"
                says = cl["curl_says"]
                cver, ccipher, creused = says["version"], says["cipher"], says["session_reused"]
            else:
                cl = json.load(open(prefix + ".json"))["tls"]
                src = {"ws_client": "ws_client.py-transport-log",
                       "https_client": "https_client.py-log",
                       "s_client": "s_client_driver.py-log"}[kind]
                m = cl["s_client_says"] if kind == "s_client" else cl["ssl_module"]
                cver, ccipher = m["version"], m["cipher"]
                creused = m.get("session_reused", False)
                if "alpn_selected" in e and e["alpn_selected"] != m["alpn"]:
                    problems.append(f"{c['client']}: client ALPN {m['alpn']}, server {e['alpn_selected']}")
                if kind == "s_client":
                    e["key_updates"] = {"client_sent": m["key_updates_sent"],
                                        "client_received": m["key_updates_received"],
                                        "source": "openssl s_client -msg"}
            if cl["client_random"] != rnd:
                problems.append(f"{c['client']}: client logged random {cl['client_random']}, capture {rnd}")
            if cl.get("server_hello", {}).get("cipher_suite") != cid:
                problems.append(f"{c['client']}: client's ServerHello suite differs from the capture's")
            if cl.get("client_hello", {}).get("message_sha256") != ch.get("message_sha256"):
                problems.append(f"{c['client']}: the client's ClientHello is not the captured one")
            if cl["hello_retry_request"] != e["hello_retry_request"]:
                problems.append(f"{c['client']}: HRR differs")
            if (NGINX_VERSIONS.get(cver, cver), ccipher) != (e["version"], e["openssl_cipher"]):
                problems.append(f"{c['client']}: client says {cver} {ccipher}")
            if tls12 and creused != e["resumed"]:
                problems.append(f"{c['client']}: client says session reused {creused}")
            if kind == "curl-h2":
                # curl traces HTTP/2 decoded (its own header lists, the DATA payloads), not the
                # frames: no plaintext stream from it (tools/h2_facts.py has the streams)
                cs = ss = None
            else:
                cs, ss = rd(prefix + ".sent"), rd(prefix + ".recv")
            if tun and cs is not None:
                # the proxy handshake: in the client's log (CONNECT) or not (curl does not trace
                # SOCKS); the plaintext is what follows it
                tc, ts = raws[c["tcp_stream"]]
                hc, hs_ = tc[:tun["tls_stream_offset_client"]], ts[:tun["tls_stream_offset_server"]]
                tun["client_log_has_proxy_handshake"] = cs.startswith(hc) and ss.startswith(hs_)
                if tun["client_log_has_proxy_handshake"]:
                    cs, ss = cs[len(hc):], ss[len(hs_):]
                elif tun["kind"] == "connect":
                    problems.append(f"{c['client']}: the client's log does not start with the "
                                    "captured CONNECT exchange")
                # the client connection as captured (for the sample's streams)
                with open(prefix + ".capture.sent", "wb") as f:
                    f.write(tc)
                with open(prefix + ".capture.recv", "wb") as f:
                    f.write(ts)
            if cs is not None:
                plain[c["client"]] = (cs, ss, src)
                e["plaintext"] = {"client_bytes": len(cs), "client_sha256": sha(cs),
                                  "server_bytes": len(ss), "server_sha256": sha(ss), "source": src}
            keep = {k: cl[k] for k in ("client_random", "server_random", "client_hellos",
                                       "hello_retry_request") if k in cl}
            keep["client_hello"] = cl["client_hello"]
            keep["server_hello"] = cl.get("server_hello")
            if kind in ("curl", "curl-h2"):
                keep["curl_says"] = says
            elif kind == "s_client":
                keep["s_client_says"] = cl["s_client_says"]
            else:
                keep["ssl_module"] = cl["ssl_module"]
            keep["source"] = cl["source"]
            e["client_log"] = keep
            if kind in ("https_client", "s_client"):
                pj = json.load(open(prefix + ".json"))
                if "requests" in pj:
                    e["client_requests"] = [{k: r[k] for k in ("method", "target", "status",
                                                                "body_bytes", "body_sha256")}
                                            for r in pj["requests"]]
        if c["tcp_stream"] in carried and carried[c["tcp_stream"]] in plain:
            # the upstream leg of a logged tunnel: the same TLS bytes, so the same plaintext
            cs, ss, src = plain[carried[c["tcp_stream"]]]
            e["plaintext"] = {"client_bytes": len(cs), "client_sha256": sha(cs),
                              "server_bytes": len(ss), "server_sha256": sha(ss),
                              "source": f"{src} of {carried[c['tcp_stream']]} (the tunnel whose "
                                        "TLS bytes this connection carries)"}
            from httpwire import transactions
            utx, cend, send = transactions(cs, ss, c["client"], c["server"],
                                           e["plaintext"]["source"], headers=True)
            if (cend, send) != (len(cs), len(ss)):
                problems.append(f"{c['client']}: bytes after the last exchange")
            upstream_txs += utx
        e["client_transfers"] = [
            {"method": t["method"], "url": t["url_effective"], "http_code": t["http_code"],
             "size_download": t["size_download"], "size_header": t["size_header"],
             "num_connects": t["num_connects"], "ssl_verify_result": t["ssl_verify_result"],
             "source": "curl -w '%{json}'"}
            for t in transfers if str(t.get("local_port")) == cport] or None
        # the oracle
        o = per[c["tcp_stream"]]
        o_reqs = [h["request"] for h in o["http"] if "request" in h]
        o_codes = [h["response"] for h in o["http"] if "response" in h]
        want_reqs = [f"{r['method']} {r['target']}" for r in reqs]
        want_codes = [r["status"] for r in reqs]
        if tun and tun["kind"] == "connect":
            # tshark's HTTP on the client connection starts with the CONNECT in the clear
            want_reqs.insert(0, tun["connect_request_line"].rsplit(" ", 1)[0])
            want_codes.insert(0, int(tun["connect_response_line"].split(" ")[1]))
        if reqs and all(r["protocol"] == "HTTP/2.0" for r in reqs):
            # HTTP/2 inside: tshark's HTTP/1 fields say nothing of it (tools/h2_facts.py
            # compares tshark's HTTP/2 frames with the programs' logs)
            agree = {}
        else:
            agree = {"http_requests_equal_server_log": o_reqs == want_reqs,
                     "http_statuses_equal_server_log": o_codes == want_codes}
        if ws_front and ws_front["client"] == c["client"]:
            agree["websocket_frames_equal_logs"] = len(o["websocket_frames"]) == (
                len(ws_front["frames_client_to_server"]) + len(ws_front["frames_server_to_client"]))
        if "key_updates" in e:
            ku = o["key_updates"]
            agree["key_updates_equal_client_log"] = (
                sum(1 for k in ku if str(k["from_port"]) == cport) == e["key_updates"]["client_sent"]
                and sum(1 for k in ku if str(k["from_port"]) != cport) == e["key_updates"]["client_received"])
        if e["plaintext"]:
            d = o["decrypted"]
            agree["decrypted_stream_equals_client_log"] = all(
                d[k] == e["plaintext"][k] for k in ("client_bytes", "client_sha256", "server_bytes",
                                                     "server_sha256"))
        e["tshark"] = {"http": o["http"], "websocket_frames": len(o["websocket_frames"]),
                       "key_updates": o["key_updates"],
                       "decrypted_client_bytes": o["decrypted"]["client_bytes"],
                       "decrypted_server_bytes": o["decrypted"]["server_bytes"],
                       "agrees": agree, "websocket_frame_list": o["websocket_frames"]}
        if not all(agree.values()):
            problems.append(f"{c['client']}: tshark disagrees: {agree}")
        if not e["keylog_labels"]:
            problems.append(f"{c['client']}: no key log line for client random {rnd}")
        out_conns.append(e)
    if problems:
        raise SystemExit("tls_facts: " + "\n".join(problems))
    out_conns.sort(key=lambda e: e["tcp_stream"])
    txs = []
    for p in a.tx or []:
        txs += json.load(open(p))
    txs += upstream_txs
    det = {"tls_keylog": {"file": a.keylog_name, "in_capture": a.keys_in_capture,
                          "lines": keylog_lines, "labels": keylog_labels,
                          "client_randoms": len(keys),
                          "matches_connections": sum(1 for c in out_conns if c["keylog_labels"])},
           "tls_connections": out_conns}
    if txs:
        det["tls_transactions"] = txs
    if a.ws_front:
        det.update(json.load(open(a.ws_front)))
    det["tshark_tls"] = {"output_file": "tls/" + os.path.basename(a.tshark_out),
                         "commands": cmds, "tshark": tshark_version(),
                         "decrypted_everything_the_programs_logged":
                             all(all(c["tshark"]["agrees"].values()) for c in out_conns)}
    det["summary"] = summary(out_conns, det)
    with open(a.out, "w") as f:
        json.dump(det, f, indent=1)


def summary(conns, det):
    parts = []
    for c in conns:
        t = f"{c['client']} {c['version']} {c['cipher_suite']}"
        tun = c.get("tunnel")
        if tun:
            t = (f"{c['client']} -> {tun['proxy']} {tun['kind'].upper()} {tun['target']}, TLS from "
                 f"stream offset {tun['tls_stream_offset_client']} / {tun['tls_stream_offset_server']}"
                 f": {c['version']} {c['cipher_suite']}")
        elif c.get("upstream_leg_of"):
            t = (f"{c['client']} (the proxy's leg of {c['upstream_leg_of']}'s tunnel, the same TLS "
                 f"bytes) {c['version']} {c['cipher_suite']}")
        flags = []
        if c["hello_retry_request"]:
            flags.append("HelloRetryRequest")
        ku = c.get("key_updates") or {}
        if ku.get("client_sent") or ku.get("client_received"):
            flags.append(f"KeyUpdate: {c['key_updates']['client_sent']} sent by the client, "
                         f"{c['key_updates']['client_received']} by the server")
        if c["resumed"]:
            flags.append("resumed session")
        if c["encrypt_then_mac"] is not None and c["cipher_suite"] and "_CBC_" in c["cipher_suite"]:
            flags.append("encrypt-then-MAC" if c["encrypt_then_mac"] else "MAC-then-encrypt (no EtM)")
        if c["alpn_selected"]:
            flags.append(f"ALPN {c['alpn_selected']}")
        if flags:
            t += f" ({', '.join(flags)})"
        if c["requests"]:
            t += ": " + ", ".join(f"{r['method']} {r['target']} {r['status']} "
                                  + (f"({r['body_bytes']} B relayed after the upgrade)"
                                     if r["status"] == 101 else f"{r['body_bytes']} B")
                                  + (" gzip" if r["content_encoding_gzip"] else "")
                                  for r in c["requests"])
        else:
            t += ": no request (handshake only)"
        parts.append(t)
    ok = det["tshark_tls"]["decrypted_everything_the_programs_logged"]
    return (f"{len(conns)} TLS connections, key log {det['tls_keylog']['file']}"
            + (" (in the capture's Decryption Secrets Block)" if det["tls_keylog"]["in_capture"] else "")
            + ": " + "; ".join(parts)
            + f". tshark with the key log decrypted {'every' if ok else 'NOT every'} connection "
              "as the programs logged it")


# --- wss through a TLS-terminating proxy ---------------------------------------------------------

def cmd_ws_legs(a):
    from ws_facts import head_at, messages_of, split_frames
    cj = json.load(open(a.client_log + ".json"))
    c_sent, c_recv = rd(a.client_log + ".sent"), rd(a.client_log + ".recv")
    s_sent, s_recv = rd(a.server_log + ".sent"), rd(a.server_log + ".recv")
    f_req, f_req_h, f_req_n = head_at(c_sent, 0)
    f_resp, f_resp_h, f_resp_n = head_at(c_recv, 0)
    b_req, b_req_h, b_req_n = head_at(s_sent, 0)
    b_resp, b_resp_h, b_resp_n = head_at(s_recv, 0)
    for line in (f_resp, b_resp):
        if line.split(" ")[1] != "101":
            raise SystemExit(f"tls_facts: no upgrade: {line}")
    if c_sent[f_req_n:] != s_sent[b_req_n:] or c_recv[f_resp_n:] != s_recv[b_resp_n:]:
        raise SystemExit("tls_facts: the proxy did not relay the frames unchanged")
    c2s = split_frames(s_sent[b_req_n:], 0, "client->server")
    s2c = split_frames(s_recv[b_resp_n:], 0, "server->client")
    cw = [tuple(w) for w in cj["writes"]]
    want_c = [(0, f_req_n)] + [(f_req_n + f["stream_offset"], f["_span"][1]) for f in c2s]
    if cw != want_c:
        raise SystemExit(f"tls_facts: the client's writes {cw} are not one frame each {want_c}")
    sw = [tuple(int(x) for x in l.split()) for l in open(a.server_log + ".writes")]
    want_s = [(0, b_resp_n)] + [(b_resp_n + f["stream_offset"], f["_span"][1]) for f in s2c]
    if sw != want_s:
        raise SystemExit(f"tls_facts: the server's writes {sw} are not one frame each {want_s}")
    smsgs = [json.loads(l) for l in open(a.server_log + ".messages")]
    c_app = [(m["type"], m["sha256"], m["length"]) for m in cj["messages"]]
    s_got = [(m["type"], m["sha256"], m["bytes"]) for m in smsgs if m["event"] == "received"]
    s_app = [(m["type"], m["sha256"], m["bytes"]) for m in smsgs if m["event"] == "sent"]
    if c_app != s_got or s_app != c_app:
        raise SystemExit("tls_facts: the messages differ between the client and the server")
    m_c2s, m_s2c = messages_of(c2s, c_app), messages_of(s2c, s_app)
    for f in c2s + s2c:
        del f["_payload"], f["_span"]

    def hdr(h, name):
        v = [x[1] for x in h if x[0].lower() == name]
        return ", ".join(v) if v else None

    def close(frames):
        return next(({"code": f["close_code"], "reason": f["close_reason"]}
                     for f in frames if f["opcode"] == 8), None)

    def leg(client, server, req, req_h, req_n, resp, resp_h, resp_n, which, src):
        shift = lambda fs, d: [dict(f, stream_offset=f["stream_offset"] + d) for f in fs]
        return {"client": client, "server": server, "path": req.split(" ")[1], "leg": which,
                "handshake": {"request_line": req, "request_bytes": req_n, "request_offset": 0,
                              "response_line": resp, "response_bytes": resp_n, "response_offset": 0,
                              "request_headers": req_h, "response_headers": resp_h,
                              "extensions_offered": hdr(req_h, "sec-websocket-extensions"),
                              "extensions_agreed": hdr(resp_h, "sec-websocket-extensions")},
                "frames_client_to_server": shift(c2s, req_n),
                "frames_server_to_client": shift(s2c, resp_n),
                "messages_client_to_server": m_c2s, "messages_server_to_client": m_s2c,
                "close": {"client": close(c2s), "server": close(s2c)},
                "peer_received_every_message": True, "identical_on_both_legs": True,
                "source": src}

    src = ("frames_client_to_server as ws_client.py wrote them (its transport writes, one frame "
           "each), frames_server_to_client as ws_server.py wrote them; after its own upgrade "
           "handshake on each leg nginx relayed the frames unchanged (the client's log after its "
           "request head equals what the backend read after nginx's, and the other way round)")
    front = leg(a.front[0], a.front[1], f_req, f_req_h, f_req_n, f_resp, f_resp_h, f_resp_n,
                "client -> nginx (TLS 1.3, wss://; the application data in the clear)", src)
    back = leg(a.back[0], a.back[1], b_req, b_req_h, b_req_n, b_resp, b_resp_h, b_resp_n,
               "nginx -> backend (cleartext ws://)", src)
    with open(a.out, "w") as f:
        json.dump({"tls_websocket_connections": [front], "websocket_connections": [back]}, f, indent=1)


def cmd_split_connect(a):
    txs = json.load(open(a.tx))
    if not txs or txs[0]["method"] != "CONNECT" or not txs[0].get("tunnel_follows"):
        raise SystemExit(f"tls_facts: {a.tx} does not start with a CONNECT the proxy accepted")
    connect, inside = txs[0], txs[1:]
    if any(t["method"] == "CONNECT" for t in inside):
        raise SystemExit(f"tls_facts: {a.tx}: a second CONNECT")
    # the tunnel's TLS starts right after the CONNECT exchange: offsets into the decrypted stream
    dc, ds = connect["request_head_bytes"], connect["response_head_bytes"]
    for t in inside:
        t["request_offset"] -= dc
        for k in ("response_offset", "final_response_offset"):
            t[k] -= ds
    with open(a.connect_out, "w") as f:
        json.dump([connect], f, indent=1)
    with open(a.inside_out, "w") as f:
        json.dump(inside, f, indent=1)


def cmd_mismatch(a):
    entries = []
    with open(a.keylog) as f:
        for line in f:
            p = line.split()
            if len(p) == 3:
                entries.append(p)
    randoms = []
    for _, r, _ in entries:
        if r not in randoms:
            randoms.append(r)
    if len(randoms) < 2:
        raise SystemExit("tls_facts: need at least two connections in the key log")
    rot = {r: randoms[(i + 1) % len(randoms)] for i, r in enumerate(randoms)}
    secrets = {(lab, r): s for lab, r, s in entries}
    with open(a.out, "w") as f:
        for lab, r, _ in entries:
            f.write(f"{lab} {r} {secrets[(lab, rot[r])]}\n")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("split-trace")
    s.add_argument("trace")
    s.add_argument("prefix")
    c = sub.add_parser("capture")
    c.add_argument("--pcap", required=True)
    c.add_argument("--keylog", required=True)
    c.add_argument("--keylog-name", required=True)
    c.add_argument("--keys-in-capture", action="store_true")
    c.add_argument("--server", action="append", required=True)
    c.add_argument("--proxy", action="append")
    c.add_argument("--nginx-log", action="append")
    c.add_argument("--conn", action="append")
    c.add_argument("--curl-w", action="append")
    c.add_argument("--tx", action="append")
    c.add_argument("--ws-front")
    c.add_argument("--decode-as", action="append")
    c.add_argument("--tshark-out", required=True)
    c.add_argument("--out", required=True)
    w = sub.add_parser("ws-legs")
    w.add_argument("--client-log", required=True)
    w.add_argument("--server-log", required=True)
    w.add_argument("--front", nargs=2, required=True)
    w.add_argument("--back", nargs=2, required=True)
    w.add_argument("--out", required=True)
    sc = sub.add_parser("split-connect")
    sc.add_argument("tx")
    sc.add_argument("connect_out")
    sc.add_argument("inside_out")
    m = sub.add_parser("mismatch-keys")
    m.add_argument("keylog")
    m.add_argument("out")
    a = ap.parse_args()
    {"split-trace": cmd_split_trace, "capture": cmd_capture, "ws-legs": cmd_ws_legs,
     "mismatch-keys": cmd_mismatch, "split-connect": cmd_split_connect}[a.cmd](a)


if __name__ == "__main__":
    main()
