#!/usr/bin/env bash
# tshark's view of the third-party TLS captures in this directory: the oracle
# files `*/tls.tshark.tsv` (one row per TCP connection) and
# `*/http.tshark.tsv` (one row per HTTP/1.x message or HTTP/2 frame that
# tshark dissects). Test data for issue 14 (TLS decryption from key logs).
#
#   ./oracle.sh                 regenerate the oracle TSVs from the files here
#   ./oracle.sh --derive DIR    also regenerate wireshark/*.derived.keys from
#                               Wireshark's own test/ directory DIR (it holds
#                               the RSA private keys and the PSK those
#                               captures were made with; they are not copied
#                               here, hopscope only takes key logs)
#
# Needs tshark (Debian: apt-get install tshark; the checked-in oracles were
# made with TShark 4.0.17 from Debian 12) and python3. The TSVs are sorted
# and carry no timestamps or paths, so a rerun with the same tshark gives
# byte-identical files.
set -euo pipefail
cd "$(dirname "$0")"

if [[ "${1:-}" == "--derive" ]]; then
  ws="${2:?usage: oracle.sh --derive WIRESHARK_TEST_DIR}"
  # tshark writes the master secrets it recovered with the RSA key or the
  # PSK; lines are "RSA Session-ID:<id> Master-Key:<ms>" and
  # "CLIENT_RANDOM <cr> <ms>". Only the dissection pass writes them, so no -q.
  derive() { # capture keyfile tshark-options...
    local cap="$1" out="$2"; shift 2
    rm -f "wireshark/$out"
    tshark -r "wireshark/$cap" "$@" --export-tls-session-keys "wireshark/$out" >/dev/null 2>&1
    [[ -s "wireshark/$out" ]] || { echo "no keys derived for $cap" >&2; exit 1; }
  }
  derive tls-renegotiation.pcap tls-renegotiation.derived.keys \
    -o "tls.keys_list:0.0.0.0,4433,http,$ws/keys/rsasnakeoil2.key" -d tcp.port==4433,tls
  derive rsa-p-lt-q.pcap rsa-p-lt-q.derived.keys \
    -o "tls.keys_list:0.0.0.0,443,http,$ws/keys/rsa-p-lt-q.key"
  derive rsasnakeoil2.pcap rsasnakeoil2.derived.keys \
    -o "tls.keys_list:127.0.0.1,443,http,$ws/keys/rsasnakeoil2.key"
  derive tls12-aes128ccm.pcap tls12-aes128ccm.derived.keys -o tls.psk:ca19e028a8a372ad2d325f950fcaceed
  derive tls12-aes256gcm.pcap tls12-aes256gcm.derived.keys -o tls.psk:ca19e028a8a372ad2d325f950fcaceed
fi

python3 - <<'PY'
import os, re, struct, subprocess, sys

# source dir, capture, key log ("" = none; a pcapng's Decryption Secrets
# Blocks are always read too), extra tshark options
CASES = [
    ("wireshark", "tls12-chacha20poly1305.pcap", "tls12-chacha20poly1305.keys", []),
    ("wireshark", "tls13-20-chacha20poly1305.pcap", "tls13-20-chacha20poly1305.keys", []),
    ("wireshark", "tls13-rfc8446.pcap", "tls13-rfc8446.keys", []),
    ("wireshark", "tls13-rfc8446.pcap", "tls13-rfc8446-noearly.keys", []),
    ("wireshark", "dhe1.pcapng", "dhe1_keylog.dat", []),
    ("wireshark", "tls12-dsb.pcapng", "", []),
    ("wireshark", "http2-data-reassembly.pcap", "http2-data-reassembly.keys", ["-d", "tcp.port==8443,tls"]),
    ("wireshark", "http2-brotli.pcapng", "", []),
    ("wireshark", "http2_follow_multistream.pcapng", "", []),
    ("wireshark", "tls-renegotiation.pcap", "tls-renegotiation.derived.keys", ["-d", "tcp.port==4433,tls"]),
    ("wireshark", "rsa-p-lt-q.pcap", "rsa-p-lt-q.derived.keys", []),
    ("wireshark", "rsasnakeoil2.pcap", "rsasnakeoil2.derived.keys", []),
    ("wireshark", "tls12-aes128ccm.pcap", "tls12-aes128ccm.derived.keys", []),
    ("wireshark", "tls12-aes256gcm.pcap", "tls12-aes256gcm.derived.keys", []),
]
# snet: one TLS connection a capture. The key log of each capture is the one
# snet's own tests.conf pairs it with; the few captures tests.conf does not
# name are paired here (tls_ECDHE-RSA-AES128-SHA.pcap has no key log at all).
SNET_EXTRA = {
    "mTLS1_DSA.pcap": "mTLS1_DSA.txt",
    "tls1_2_dhe_rsa.pcap": "tls1_2_dhe_rsa.keylog",
    "tls1.3_ccm.pcap": "log.txt",
    "tls1.3_ccm8.pcap": "log.txt",
    "tls1.3_chacha.pcap": "log.txt",
    "tls1.3_curl_google.pcap": "log.txt",
    "tls1.3_session_resumption.pcap": "log.txt",
    "tls_ECDHE-RSA-AES128-SHA.pcap": "",
}
if os.path.exists("snet/tests.conf"):
    pairs, cur = {}, {}
    for line in open("snet/tests.conf"):
        m = re.match(r"\s*(pcap|keylog)\s*=\s*(\S+)", line)
        if m:
            cur[m.group(1)] = os.path.basename(m.group(2))
            if "pcap" in cur and "keylog" in cur:
                pairs.setdefault(cur["pcap"], cur["keylog"]); cur = {}
    pairs.update(SNET_EXTRA)
    for f in sorted(pairs):
        # snet's server listens on 8443, which tshark does not take for TLS
        CASES.append(("snet", f, pairs[f], ["-d", "tcp.port==8443,tls"]))

def tshark(args):
    r = subprocess.run(["tshark"] + args, capture_output=True, text=True, errors="replace")
    if r.returncode != 0:
        sys.exit(f"tshark {' '.join(args)}: {r.stderr}")
    return r.stdout

SUITE_NAMES = {}
for line in tshark(["-G", "values"]).splitlines():
    p = line.split("\t")
    if len(p) == 4 and p[0] == "V" and p[1] == "tls.handshake.ciphersuite":
        SUITE_NAMES[int(p[2])] = p[3]

def version_name(v):
    v = int(v, 16)
    return {0x0300: "SSL 3.0", 0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2",
            0x0304: "TLS 1.3"}.get(v, f"TLS 1.3 draft {v & 0xff}" if v >> 8 == 0x7f else hex(v))

def suite_class(name):
    n = name.upper()
    for bad in ("EXPORT", "RC4", "RC2", "3DES", "DES", "IDEA", "SEED", "CAMELLIA", "ARIA",
                "GOST", "SM4", "KUZNYECHIK", "MAGMA"):
        if bad in n:
            return "legacy:" + bad
    if "WITH_NULL" in n or n.endswith("_NULL_SHA") or "NULL_SHA" in n or "NULL_MD5" in n:
        return "null-cipher"
    if "CHACHA20_POLY1305" in n:
        return "aead:chacha20-poly1305"
    if "_GCM" in n:
        return "aead:aes-gcm"
    if "_CCM_8" in n:
        return "aead:aes-ccm-8"
    if "_CCM" in n:
        return "aead:aes-ccm"
    m = re.search(r"AES_(128|256)_CBC_(SHA384|SHA256|SHA)$", n)
    if m:
        return "cbc:aes-hmac-" + m.group(2).lower()
    return "other"

def expectation(version, klass, keysrc):
    """What issue 14 asks of hopscope for this connection (a rule, not tshark)."""
    if keysrc == "none":
        return "tls.no-keys"
    if klass.startswith("legacy:") or klass in ("null-cipher", "other"):
        return "tls.cipher-unsupported"
    if version in ("SSL 3.0",) or version.startswith("TLS 1.3 draft"):
        return "tls.* (version not in issue 14)"
    if version in ("TLS 1.0", "TLS 1.1"):
        return "decrypt if TLS 1.0/1.1 done, else tls.* (version)"
    if klass.startswith("aead:aes-ccm"):
        return "decrypt if AES-CCM done, else tls.cipher-unsupported"
    return "decrypt"

def dsb_secrets(path):
    """Key log text from a pcapng's Decryption Secrets Blocks (type 0x0A)."""
    out = []
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:4] != b"\x0a\x0d\x0d\x0a":
        return out
    bo = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    off = 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack(bo + "II", data[off:off + 8])
        if btype == 0x0A0D0D0A:
            bo = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            btype, blen = struct.unpack(bo + "II", data[off:off + 8])
        if blen < 12:
            break
        if btype == 0x0000000A:
            stype, slen = struct.unpack(bo + "II", data[off + 8:off + 16])
            if stype == 0x544C534B:  # TLSK
                out.append(data[off + 16:off + 16 + slen].decode("ascii", "replace"))
        off += blen
    return out

def parse_keylog(texts):
    """label -> set of lowercase hex identifiers (client random, RSA epms
    prefix, or session id)."""
    keys = {}
    for text in texts:
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = re.match(r"RSA Session-ID:([0-9a-fA-F]+) Master-Key:", line)
            if m:
                keys.setdefault("RSA Session-ID", set()).add(m.group(1).lower())
                continue
            p = line.split()
            if len(p) >= 3:
                keys.setdefault(p[0], set()).add(p[1].lower())
    return keys

def fields(cap, opts, flt, names):
    args = ["-r", cap] + opts + ["-T", "fields", "-E", "separator=\t", "-E", "aggregator=,",
                                 "-E", "occurrence=a"]
    if flt:
        args += ["-Y", flt]
    for n in names:
        args += ["-e", n]
    rows = []
    for line in tshark(args).splitlines():
        p = line.split("\t")
        p += [""] * (len(names) - len(p))
        rows.append(dict(zip(names, p)))
    return rows

def first(v):
    return v.split(",")[0] if v else ""

def follow(cap, opts, streams):
    """Decrypted bytes per stream from tshark's follow,tls: {stream: [(node, bytes)]}"""
    out = {}
    if not streams:
        return out
    args = ["-r", cap] + opts + ["-q"]
    for s in streams:
        args += ["-z", f"follow,tls,raw,{s}"]
    text = tshark(args)
    cur = None
    for line in text.splitlines():
        m = re.match(r"Filter: tcp\.stream eq (\d+)", line)
        if m:
            cur = int(m.group(1)); out[cur] = {"node0": None, "chunks": []}; continue
        if cur is None:
            continue
        m = re.match(r"Node 0: (.*)", line)
        if m:
            out[cur]["node0"] = m.group(1); continue
        if line.startswith("Node 1:") or line.startswith("=") or not line.strip():
            continue
        node = 1 if line.startswith("\t") else 0
        h = line.strip()
        if re.fullmatch(r"[0-9a-f]+", h):
            out[cur]["chunks"].append((node, bytes.fromhex(h)))
    return out

def first_line(b):
    if not b:
        return ""
    line = b.split(b"\n", 1)[0].rstrip(b"\r")
    if line.startswith(b"PRI * HTTP/2.0"):
        return "PRI * HTTP/2.0 (HTTP/2 preface)"
    s = line[:60].decode("latin-1")
    s = "".join(c if 32 <= ord(c) < 127 else "." for c in s)
    return s + ("..." if len(line) > 60 else "")

def close_delimited_body(b):
    """Body bytes of a server stream that is exactly one HTTP/1.x response
    with neither Content-Length nor Transfer-Encoding (read until close)."""
    if not b.startswith(b"HTTP/1."):
        return ""
    end = b.find(b"\r\n\r\n")
    if end < 0:
        return ""
    head = b[:end].lower()
    if b"\ncontent-length:" in head or b"\ntransfer-encoding:" in head:
        return ""
    return str(len(b) - end - 4)

TLS_COLS = ["capture", "keylog", "tcp_stream", "client", "server", "handshakes", "version",
            "cipher_id", "cipher_name", "suite_class", "client_random", "sni", "alpn_selected",
            "session_resumed", "key_source", "tshark_decrypted", "c2s_decrypted_bytes",
            "s2c_decrypted_bytes", "c2s_first_line", "s2c_first_line", "s2c_close_delimited_body",
            "tshark_http_requests", "tshark_http_responses", "tshark_http2_streams", "hopscope_expect"]
HTTP_COLS = ["capture", "keylog", "frame", "tcp_stream", "proto", "method", "uri", "version",
             "status", "content_length", "request_in", "h2_stream", "h2_type", "h2_length",
             "h2_end_stream"]

by_source = {}
for src, cap, keylog, extra in CASES:
    path = f"{src}/{cap}"
    opts = list(extra)
    texts = []
    if keylog:
        opts = ["-o", f"tls.keylog_file:{src}/{keylog}"] + opts
        with open(f"{src}/{keylog}", encoding="ascii", errors="replace") as fh:
            texts.append(fh.read())
    dsb = dsb_secrets(path)
    keys_file = parse_keylog(texts)
    keys_dsb = parse_keylog(dsb)
    label = keylog if keylog else ("(pcapng DSB)" if dsb else "(none)")

    conn = {}
    for r in fields(path, opts, "tcp.flags.syn==1 && tcp.flags.ack==0",
                    ["tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport"]):
        s = int(r["tcp.stream"])
        conn.setdefault(s, {})["client"] = f'{first(r["ip.src"] or r["ipv6.src"])}:{r["tcp.srcport"]}'
        conn[s]["server"] = f'{first(r["ip.dst"] or r["ipv6.dst"])}:{r["tcp.dstport"]}'
    for r in fields(path, opts, "tls.handshake.type==1",
                    ["tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport",
                     "tls.handshake.random", "tls.handshake.extensions_server_name"]):
        s = int(r["tcp.stream"]); c = conn.setdefault(s, {})
        c.setdefault("client", f'{first(r["ip.src"] or r["ipv6.src"])}:{r["tcp.srcport"]}')
        c.setdefault("server", f'{first(r["ip.dst"] or r["ipv6.dst"])}:{r["tcp.dstport"]}')
        for rnd in r["tls.handshake.random"].split(","):
            if rnd and rnd not in c.setdefault("randoms", []):
                c["randoms"].append(rnd)
        if r["tls.handshake.extensions_server_name"] and "sni" not in c:
            c["sni"] = first(r["tls.handshake.extensions_server_name"])
    for r in fields(path, opts, "tls.handshake.type==2",
                    ["tcp.stream", "tls.handshake.type", "tls.handshake.version",
                     "tls.handshake.extensions.supported_version", "tls.handshake.ciphersuite",
                     "tls.handshake.session_id", "tls.handshake.extensions_alpn_str"]):
        s = int(r["tcp.stream"]); c = conn.setdefault(s, {})
        n = r["tls.handshake.type"].split(",").count("2")
        c["handshakes"] = c.get("handshakes", 0) + n
        if "version" not in c:
            sv = first(r["tls.handshake.extensions.supported_version"])
            c["version"] = version_name(sv or first(r["tls.handshake.version"]))
            c["cipher"] = int(first(r["tls.handshake.ciphersuite"]), 16)
            c["sid"] = first(r["tls.handshake.session_id"]).lower()
            if r["tls.handshake.extensions_alpn_str"]:
                c["alpn"] = first(r["tls.handshake.extensions_alpn_str"])
    # TLS 1.3 selects ALPN in EncryptedExtensions (visible once decrypted)
    for r in fields(path, opts, "tls.handshake.type==8",
                    ["tcp.stream", "tls.handshake.extensions_alpn_str"]):
        c = conn.setdefault(int(r["tcp.stream"]), {})
        if r["tls.handshake.extensions_alpn_str"] and "alpn" not in c:
            c["alpn"] = first(r["tls.handshake.extensions_alpn_str"])
    # a full handshake has a Certificate or a ClientKeyExchange; without, resumed
    full = set()
    for r in fields(path, opts, "tls.handshake.type==11 || tls.handshake.type==16",
                    ["tcp.stream", "tls.handshake.epms"]):
        s = int(r["tcp.stream"]); full.add(s)
        if r["tls.handshake.epms"]:
            conn.setdefault(s, {}).setdefault("epms", first(r["tls.handshake.epms"]).lower())
    # TLS 1.3 resumption: the ServerHello takes a pre_shared_key
    psk13 = set(int(r["tcp.stream"]) for r in fields(
        path, opts, "tls.handshake.extensions.psk.identity.selected", ["tcp.stream"]))

    http = fields(path, opts, "http || http2",
                  ["frame.number", "tcp.stream", "http.request.method", "http.request.uri",
                   "http.request.version", "http.response.version", "http.response.code",
                   "http.content_length", "http.request_in", "http2.streamid", "http2.type",
                   "http2.headers.method", "http2.headers.path", "http2.headers.status",
                   "http2.length", "http2.flags.end_stream"])
    fol = follow(path, opts, sorted(s for s in conn if conn[s].get("randoms")))

    rows_tls, rows_http = [], []
    for s in sorted(conn):
        c = conn[s]
        if not c.get("randoms"):
            continue  # not TLS
        srcs = []
        for kind, kd in (("file", keys_file), ("dsb", keys_dsb)):
            labels = sorted(l for l, ids in kd.items()
                            if l not in ("RSA", "RSA Session-ID") and any(r.lower() in ids for r in c["randoms"]))
            if c.get("epms") and c["epms"][:16] in kd.get("RSA", set()):
                labels.append("RSA")
            if c.get("sid") and c["sid"] in kd.get("RSA Session-ID", set()):
                labels.append("RSA Session-ID")
            if labels:
                srcs.append(f'{kind}:{"+".join(labels)}')
        keysrc = " ".join(srcs) if srcs else "none"
        f = fol.get(s, {"node0": None, "chunks": []})
        # node 0 of tshark's follow is whichever endpoint it saw first
        client_is_node0 = f["node0"] == c.get("client")
        c2s = b"".join(d for n, d in f["chunks"] if (n == 0) == client_is_node0)
        s2c = b"".join(d for n, d in f["chunks"] if (n == 0) != client_is_node0)
        name = SUITE_NAMES.get(c.get("cipher", -1), hex(c.get("cipher", 0)))
        klass = suite_class(name)
        hs = [h for h in http if h["tcp.stream"] == str(s)]
        h2streams = sorted({int(x) for h in hs for x in h["http2.streamid"].split(",") if x and x != "0"})
        version = c.get("version", "")
        rows_tls.append([cap, label, str(s), c.get("client", ""), c.get("server", ""),
                         str(c.get("handshakes", 0)), version,
                         f'0x{c.get("cipher", 0):04x}', name, klass, ",".join(c["randoms"]),
                         c.get("sni", ""), c.get("alpn", ""),
                         "yes" if (s not in full and version != "TLS 1.3") or s in psk13 else "no",
                         keysrc, "yes" if (c2s or s2c) else "no", str(len(c2s)), str(len(s2c)),
                         first_line(c2s), first_line(s2c), close_delimited_body(s2c),
                         str(sum(1 for h in hs if h["http.request.method"])),
                         str(sum(1 for h in hs if h["http.response.code"])),
                         str(len(h2streams)), expectation(version, klass, keysrc)])
    for h in http:
        is2 = bool(h["http2.type"])
        if not is2 and not h["http.request.method"] and not h["http.response.code"]:
            continue  # a continuation, not a message
        rows_http.append([cap, label, h["frame.number"], h["tcp.stream"], "http2" if is2 else "http",
                          h["http.request.method"] or h["http2.headers.method"],
                          h["http.request.uri"] or h["http2.headers.path"],
                          h["http.request.version"] or h["http.response.version"],
                          h["http.response.code"] or h["http2.headers.status"],
                          h["http.content_length"], h["http.request_in"], h["http2.streamid"],
                          h["http2.type"], h["http2.length"], h["http2.flags.end_stream"]])
    acc = by_source.setdefault(src, ([], []))
    acc[0].extend(rows_tls); acc[1].extend(rows_http)

def clean(v):
    return v.replace("\t", " ").replace("\n", " ")

for src, (rt, rh) in by_source.items():
    for name, cols, rows in (("tls.tshark.tsv", TLS_COLS, rt), ("http.tshark.tsv", HTTP_COLS, rh)):
        with open(f"{src}/{name}", "w") as fh:
            fh.write("\t".join(cols) + "\n")
            for r in rows:
                fh.write("\t".join(clean(x) for x in r) + "\n")
    print(f"{src}: {len(rt)} TLS connections, {len(rh)} HTTP rows")
PY
