//! How a WebSocket begins: after HTTP/1.1's `101`, from the handshake both heads carry (checked
//! against RFC 6455 §4 and RFC 7692); after HTTP/2's extended CONNECT answered 2xx (RFC 8441),
//! from the request's and response's fields; or recognised by its frames when the handshake
//! was not captured.

use super::handshake::{self as wsh, Extension};
use super::{WsConn, WsShared};
use crate::analyzers::layer::Upgrade;
use crate::engine::Ctx;
use crate::model::http::Headers;
use crate::model::websocket::WsHandshake;
use crate::model::{RecordSink, codes};

/// What the handshake offered and agreed, as the checks need it.
struct Agreed {
    key: Option<String>,
    accept: Option<String>,
    accept_valid: Option<bool>,
    version: Option<String>,
    offered_ext: Vec<Extension>,
    agreed_ext: Vec<Extension>,
    offered_proto: Vec<String>,
    proto: Vec<String>,
}

impl Agreed {
    /// From the request's and the response's fields (an HTTP/1.1 upgrade, or HTTP/2's
    /// extended CONNECT, whose fields have no key and no accept).
    fn read(req: &Headers, resp: &Headers) -> Self {
        let text = |v: Option<&[u8]>| v.map(|b| String::from_utf8_lossy(b).trim().to_string());
        let key = text(req.get("sec-websocket-key"));
        let accept = text(resp.get("sec-websocket-accept"));
        let accept_valid = match (&key, &accept) {
            (Some(k), Some(a)) => Some(wsh::accept_for(k) == *a),
            _ => None,
        };
        Agreed {
            accept_valid,
            key,
            accept,
            version: text(req.get("sec-websocket-version")),
            offered_ext: wsh::parse_extensions(req.values("sec-websocket-extensions")),
            agreed_ext: wsh::parse_extensions(resp.values("sec-websocket-extensions")),
            offered_proto: wsh::tokens(req.values("sec-websocket-protocol")),
            proto: wsh::tokens(resp.values("sec-websocket-protocol")),
        }
    }

    /// The handshake as the record shows it: of transaction `txn`, to `target`, with the
    /// request's fields `req` (what was read moves into it, after the checks).
    fn into_record(self, txn: Option<u64>, target: Option<String>, req: &Headers) -> WsHandshake {
        let text = |v: Option<&[u8]>| v.map(|b| String::from_utf8_lossy(b).trim().to_string());
        let ext_names = |v: Vec<Extension>| -> Vec<String> {
            v.into_iter()
                .map(|e| {
                    let mut s = e.name;
                    for (k, val) in &e.params {
                        s.push_str("; ");
                        s.push_str(k);
                        if let Some(val) = val {
                            s.push('=');
                            s.push_str(val);
                        }
                    }
                    s
                })
                .collect()
        };
        WsHandshake {
            transaction: txn,
            target,
            host: text(req.get("host").or_else(|| req.get(":authority"))),
            origin: text(req.get("origin")),
            version: self.version,
            key: self.key,
            accept: self.accept,
            accept_valid: self.accept_valid,
            subprotocols_offered: self.offered_proto,
            subprotocol: self.proto.into_iter().next(),
            extensions_offered: ext_names(self.offered_ext),
            extensions: ext_names(self.agreed_ext),
            midstream: false,
            http_version: Some("HTTP/1.1"),
            stream_id: None,
        }
    }
}

impl WsConn {
    /// A WebSocket after HTTP/1.1's `101`: the handshake read from both heads, and every rule
    /// it breaks as a finding.
    pub fn after_upgrade(
        sh: &mut WsShared,
        ctx: &Ctx,
        out: &mut dyn RecordSink,
        up: &mut Upgrade,
    ) -> Self {
        let a = Agreed::read(&up.request, &up.response);
        let deflate = a
            .agreed_ext
            .iter()
            .find(|e| e.name == "permessage-deflate")
            .map(Extension::deflate);
        // The checks read what was agreed (and which HTTP it was), then it moves into the
        // record: nothing of it is copied.
        let hs = WsHandshake {
            http_version: Some("HTTP/1.1"),
            ..WsHandshake::default()
        };
        let mut ws = WsConn::new(sh, ctx, hs, deflate, up.starts);
        ws.check_handshake(&a, up.starts, ctx, out);
        ws.rec.handshake = a.into_record(Some(up.txn), up.target.take(), &up.request);
        ws
    }

    /// A WebSocket on an HTTP/2 stream (RFC 8441 §5): `request` is the extended CONNECT's
    /// fields (`:protocol: websocket`), `response` the 2xx's, `txn` the stream's transaction.
    /// There is no key and no accept; version, subprotocols and extensions are checked as after
    /// a `101`. Offsets count the stream's DATA payload bytes of each direction from 0.
    pub fn after_extended_connect(
        sh: &mut WsShared,
        ctx: &Ctx,
        out: &mut dyn RecordSink,
        request: &Headers,
        response: &Headers,
        txn: Option<u64>,
        stream_id: u32,
    ) -> Self {
        let a = Agreed::read(request, response);
        let deflate = a
            .agreed_ext
            .iter()
            .find(|e| e.name == "permessage-deflate")
            .map(Extension::deflate);
        let path = request
            .get(":path")
            .map(|b| String::from_utf8_lossy(b).into_owned());
        let hs = WsHandshake {
            http_version: Some("HTTP/2"),
            ..WsHandshake::default()
        };
        let mut ws = WsConn::new(sh, ctx, hs, deflate, [0, 0]);
        ws.check_handshake(&a, [0, 0], ctx, out);
        ws.rec.handshake = WsHandshake {
            http_version: Some("HTTP/2"),
            stream_id: Some(stream_id),
            ..a.into_record(txn, path, request)
        };
        ws
    }

    /// A connection that was already a WebSocket when the capture began, recognised by its
    /// frames: nothing of the handshake is known, compression included.
    pub fn recognised(
        sh: &mut WsShared,
        ctx: &Ctx,
        out: &mut dyn RecordSink,
        starts: [u64; 2],
    ) -> Self {
        let hs = WsHandshake {
            midstream: true,
            ..WsHandshake::default()
        };
        let mut ws = WsConn::new(sh, ctx, hs, None, starts);
        ws.finding(
            ctx,
            out,
            0,
            starts[0],
            &codes::WS_MIDSTREAM,
            "a WebSocket recognised by its frames: the handshake was not \
             captured, so subprotocol and compression are unknown \
             (compressed messages are counted, not inflated)"
                .into(),
        );
        ws
    }

    /// RFC 6455 §4.1/§4.2.2 and §9.1 against the handshake: the accept key, the version, and
    /// subprotocols and extensions the server picked without the client offering them.
    fn check_handshake(
        &mut self,
        a: &Agreed,
        offsets: [u64; 2],
        ctx: &Ctx,
        out: &mut dyn RecordSink,
    ) {
        let (accept, key, version) = (&a.accept, &a.key, &a.version);
        let at = offsets[1];
        // RFC 8441 §5: over HTTP/2 there is no key and no accept.
        let h2 = self.rec.handshake.http_version == Some("HTTP/2");
        match a.accept_valid {
            _ if h2 => {}
            Some(false) => self.finding(
                ctx,
                out,
                1,
                at,
                &codes::WS_ACCEPT_MISMATCH,
                format!(
                    "Sec-WebSocket-Accept {} is not SHA-1(key + RFC 6455 GUID) = {} (RFC 6455 \
                     §4.2.2): a client must fail the connection. A proxy that rewrote the key, \
                     or a broken server",
                    accept.as_deref().unwrap_or(""),
                    key.as_deref().map(wsh::accept_for).unwrap_or_default()
                ),
            ),
            None if key.is_none() => self.finding(
                ctx,
                out,
                0,
                offsets[0],
                &codes::WS_MISSING_KEY,
                "the upgrade request has no Sec-WebSocket-Key (RFC 6455 §4.1)".into(),
            ),
            None => self.finding(
                ctx,
                out,
                1,
                at,
                &codes::WS_MISSING_ACCEPT,
                "the 101 has no Sec-WebSocket-Accept (RFC 6455 §4.2.2): a client must fail \
                 the connection"
                    .into(),
            ),
            Some(true) => {}
        }
        if version.as_deref().is_some_and(|v| v != "13") {
            self.finding(
                ctx,
                out,
                0,
                offsets[0],
                &codes::WS_BAD_VERSION,
                format!(
                    "Sec-WebSocket-Version {} (RFC 6455 §4.1: must be 13)",
                    version.as_deref().unwrap_or("")
                ),
            );
        }
        for p in &a.proto {
            if !a.offered_proto.contains(p) {
                self.finding(
                    ctx,
                    out,
                    1,
                    at,
                    &codes::WS_SUBPROTOCOL_NOT_OFFERED,
                    format!(
                        "the server chose subprotocol {p:?}, which the client did not offer \
                         (RFC 6455 §4.2.2: the client must fail the connection)"
                    ),
                );
            }
        }
        for e in &a.agreed_ext {
            if !a.offered_ext.iter().any(|o| o.name == e.name) {
                self.finding(
                    ctx,
                    out,
                    1,
                    at,
                    &codes::WS_EXTENSION_NOT_OFFERED,
                    format!(
                        "the server accepted extension {:?}, which the client did not offer \
                         (RFC 6455 §9.1)",
                        e.name
                    ),
                );
            }
        }
    }
}
