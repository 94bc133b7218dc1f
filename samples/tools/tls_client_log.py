#!/usr/bin/env python3
"""What a Python TLS client itself knows about its handshake, for the TLS samples.

  attach(ctx) -> list: every handshake message OpenSSL wrote or read on connections made with
      ctx is appended to the list as ("send"|"recv", bytes) (SSLContext._msg_callback, the
      hook CPython's own test suite uses; the TLS 1.3 encrypted handshake messages arrive
      decrypted, as with curl --trace). Call before the first connection.
  facts(messages, ssl_object) -> dict: the ClientHello (client random, SNI, ALPN, offered
      versions and suites: tools/tls_hello.py), the ServerHello (server random, session id,
      cipher suite, extensions), and what the ssl module reports after the handshake
      (version(), cipher(), selected_alpn_protocol()).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tls_hello import client_hello, server_hello  # noqa: E402

HANDSHAKE = 22


def attach(ctx):
    msgs = []

    def cb(conn, direction, version, content_type, msg_type, data):
        # content_type is the record type for handshake messages; the 5-byte record headers
        # and the inner-content-type bytes come through with other pseudo types
        if content_type == HANDSHAKE and len(data) >= 4:
            msgs.append(("send" if direction == "write" else "recv", bytes(data)))

    ctx._msg_callback = cb
    return msgs


def hello_randoms(msg):
    """(random hex, session id hex) of a ClientHello or ServerHello message."""
    body = msg[4:]
    sid_len = body[34]
    return body[2:34].hex(), body[35:35 + sid_len].hex()


HRR_RANDOM = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"


def facts(msgs, ssl_object):
    chs = [m for d, m in msgs if d == "send" and m[0] == 1]
    shs = [m for d, m in msgs if d == "recv" and m[0] == 2]
    out = {"client_hellos": len(chs)}
    ch = chs[0]
    out["client_random"], out["client_session_id"] = hello_randoms(ch)
    out["client_hello"] = client_hello(ch)
    hrr = [m for m in shs if hello_randoms(m)[0] == HRR_RANDOM]
    out["hello_retry_request"] = bool(hrr)
    real = [m for m in shs if hello_randoms(m)[0] != HRR_RANDOM]
    if real:
        sh = real[-1]
        out["server_random"], out["server_session_id"] = hello_randoms(sh)
        out["server_hello"] = server_hello(sh)
    cipher = ssl_object.cipher()
    out["ssl_module"] = {"version": ssl_object.version(), "cipher": cipher[0] if cipher else None,
                         "alpn": ssl_object.selected_alpn_protocol(),
                         "session_reused": ssl_object.session_reused}
    out["source"] = ("the client's own record of its handshake messages "
                     "(ssl.SSLContext._msg_callback) and the ssl module's view after the handshake")
    return out
