#!/usr/bin/env python3
"""TLS ClientHello / ServerHello facts for samples/record.sh.

  tls_hello.py curl-trace TRACE            -> JSON: the handshake messages curl logged
      curl --trace logs every TLS handshake message it wrote or read as "Send SSL data" /
      "Recv SSL data" (OpenSSL's message callback: the 5-byte record header and the message
      itself, decrypted for TLS 1.3's encrypted handshake). The ClientHello is parsed from
      those bytes: legacy version, cipher suites, every extension in order, SNI, ALPN list,
      supported_versions, supported_groups, key_share groups, signature algorithms; the
      ServerHello's selected version and cipher; curl's ALPN/TLS info lines.
  tls_hello.py find-in-stream STREAMFILE MESSAGE_HEX -> JSON: where the ClientHello sits in a
      TCP stream (record offset and header), checking that the record layer carries exactly
      that message (for the CONNECT tunnel and the proxy's onward leg).
"""
import argparse
import hashlib
import json
import re
import sys

GREASE = {0x0a0a + 0x1010 * i for i in range(16)}
EXT_NAMES = {0: "server_name", 5: "status_request", 10: "supported_groups", 11: "ec_point_formats",
             13: "signature_algorithms", 16: "application_layer_protocol_negotiation",
             18: "signed_certificate_timestamp", 21: "padding", 22: "encrypt_then_mac",
             23: "extended_master_secret", 35: "session_ticket", 41: "pre_shared_key",
             43: "supported_versions", 45: "psk_key_exchange_modes", 49: "post_handshake_auth",
             51: "key_share", 65281: "renegotiation_info"}
VERSIONS = {0x0304: "TLS 1.3", 0x0303: "TLS 1.2", 0x0302: "TLS 1.1", 0x0301: "TLS 1.0"}
GROUPS = {0x001d: "x25519", 0x0017: "secp256r1", 0x001e: "x448", 0x0018: "secp384r1",
          0x0019: "secp521r1", 0x0100: "ffdhe2048", 0x0101: "ffdhe3072", 0x0102: "ffdhe4096",
          0x0103: "ffdhe6144", 0x0104: "ffdhe8192"}


def u16(b, o):
    return int.from_bytes(b[o:o + 2], "big")


def hx(v):
    return f"0x{v:04x}"


def parse_extensions(b, o, end):
    out = []
    while o < end:
        t, n = u16(b, o), u16(b, o + 2)
        out.append((t, b[o + 4:o + 4 + n]))
        o += 4 + n
    return out


def client_hello(msg):
    assert msg[0] == 1, "not a ClientHello"
    body = msg[4:4 + int.from_bytes(msg[1:4], "big")]
    o = 2 + 32
    sid_len = body[o]
    o += 1 + sid_len
    cs_len = u16(body, o)
    suites = [u16(body, o + 2 + i) for i in range(0, cs_len, 2)]
    o += 2 + cs_len
    o += 1 + body[o]  # compression methods
    ext_len = u16(body, o)
    exts = parse_extensions(body, o + 2, o + 2 + ext_len)
    out = {"handshake_message_bytes": len(msg), "message_sha256": hashlib.sha256(msg).hexdigest(),
           "legacy_version": hx(u16(body, 0)), "session_id_bytes": sid_len,
           "cipher_suites": [hx(s) for s in suites],
           "extensions": [{"type": t, "name": EXT_NAMES.get(t, "grease" if t in GREASE else "unknown"),
                           "bytes": len(d)} for t, d in exts]}
    for t, d in exts:
        if t == 0:
            names, p = [], 2
            while p < len(d):
                n = u16(d, p + 1)
                names.append({"type": d[p], "name": d[p + 3:p + 3 + n].decode()})
                p += 3 + n
            out["sni"] = [x["name"] for x in names if x["type"] == 0]
        elif t == 16:
            protos, p = [], 2
            while p < len(d):
                protos.append(d[p + 1:p + 1 + d[p]].decode())
                p += 1 + d[p]
            out["alpn"] = protos
        elif t == 43:
            vs = [u16(d, 1 + i) for i in range(0, d[0], 2)]
            out["supported_versions"] = [VERSIONS.get(v, hx(v)) for v in vs]
        elif t == 10:
            out["supported_groups"] = [GROUPS.get(u16(d, 2 + i), hx(u16(d, 2 + i)))
                                       for i in range(0, u16(d, 0), 2)]
        elif t == 51:
            ks, p = [], 2
            while p < len(d):
                g, n = u16(d, p), u16(d, p + 2)
                ks.append({"group": GROUPS.get(g, hx(g)), "key_bytes": n})
                p += 4 + n
            out["key_share"] = ks
        elif t == 13:
            out["signature_algorithms"] = [hx(u16(d, 2 + i)) for i in range(0, u16(d, 0), 2)]
    # without supported_versions (RFC 8446 4.2.1) the offer is legacy_version and below
    out["offered_versions"] = out.get("supported_versions") or [
        v for k, v in sorted(VERSIONS.items(), reverse=True) if k <= u16(body, 0)]
    out["offered_versions_from"] = ("supported_versions" if "supported_versions" in out
                                    else "legacy_version (no supported_versions extension)")
    return out


def server_hello(msg):
    body = msg[4:4 + int.from_bytes(msg[1:4], "big")]
    o = 2 + 32
    o += 1 + body[o]
    suite = u16(body, o)
    o += 3
    exts = parse_extensions(body, o + 2, o + 2 + u16(body, o))
    out = {"legacy_version": hx(u16(body, 0)), "cipher_suite": hx(suite),
           "extensions": [EXT_NAMES.get(t, str(t)) for t, _ in exts]}
    for t, d in exts:
        if t == 43:
            out["selected_version"] = VERSIONS.get(u16(d, 0), hx(u16(d, 0)))
        elif t == 16:
            out["alpn"] = d[3:3 + d[2]].decode()   # visible only before TLS 1.3
    out.setdefault("selected_version", VERSIONS.get(u16(body, 0)))
    return out


SSL = re.compile(r"^(=>|<=) (Send|Recv) SSL data, (\d+) bytes")


def ssl_blocks(path):
    blocks, cur, want, got = [], None, 0, bytearray()
    info = []
    with open(path, encoding="latin-1") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("== Info: "):
                t = line[9:]
                if re.match(r"(ALPN|SSL connection using|Server certificate|  subject|TLSv1\.[0-3] \(OUT\), TLS handshake, Client hello|TLSv1\.[0-3] \(IN\), TLS handshake, Server hello)", t):
                    info.append(t)
            m = SSL.match(line)
            if m:
                cur, want, got = ("send" if m.group(2) == "Send" else "recv"), int(m.group(3)), bytearray()
                continue
            if cur and re.match(r"^[0-9a-f]{4}: ", line):
                got += bytes(int(x, 16) for x in line[6:6 + 48].split())
                if len(got) == want:
                    blocks.append((cur, bytes(got)))
                    cur = None
    return blocks, info


def cmd_trace(a):
    blocks, info = ssl_blocks(a.trace)
    ch = next(b for d, b in blocks if d == "send" and b[0] == 1 and len(b) > 5)
    sh = next((b for d, b in blocks if d == "recv" and b[0] == 2 and len(b) > 5), None)
    out = {"client_hello_hex": ch.hex(), "client_hello": client_hello(ch),
           "server_hello": server_hello(sh) if sh else None,
           "curl_info": info,
           "source": "curl --trace 'Send SSL data' / 'Recv SSL data' (the TLS library's own "
                     "record of the handshake messages)"}
    m = [re.match(r"ALPN: server accepted (\S+)", i) for i in info]
    out["alpn_selected"] = next((x.group(1) for x in m if x), None)
    print(json.dumps(out, indent=1))


def cmd_find(a):
    data = open(a.stream, "rb").read()
    msg = bytes.fromhex(a.message_hex)
    # walk TLS records from the first 0x16 record; collect handshake bytes
    start = data.find(b"\x16\x03")
    assert start >= 0, "no TLS handshake record"
    p, hs, recs = start, bytearray(), []
    while len(hs) < len(msg) and p + 5 <= len(data) and data[p] == 0x16:
        n = u16(data, p + 3)
        recs.append({"offset": p, "header_hex": data[p:p + 5].hex(), "length": n})
        hs += data[p + 5:p + 5 + n]
        p += 5 + n
    print(json.dumps({"first_record_offset": start, "records": recs,
                      "client_hello_equals_client_log": bytes(hs[:len(msg)]) == msg,
                      "bytes_before_tls": start}, indent=1))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("curl-trace")
    t.add_argument("trace")
    f = sub.add_parser("find-in-stream")
    f.add_argument("stream")
    f.add_argument("message_hex")
    a = ap.parse_args()
    cmd_trace(a) if a.cmd == "curl-trace" else cmd_find(a)


if __name__ == "__main__":
    sys.exit(main())
