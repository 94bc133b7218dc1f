//! A compact binary form of the records whose details the UI reads back from its spool
//! ([`super::spool`]): transactions and WebSocket messages.
//!
//! Varints for numbers, length-prefixed bytes for strings; every field of the records is
//! written (destructured, so a field added to a record does not go unnoticed here). A
//! transaction's semantics (caching, cookies, CORS...) are written as the lines the detail
//! pane shows (`report::semantics_text::lines`), not as their structure.
//!
//! Decoding never panics: bytes that do not decode (a truncated or damaged spool) give
//! `None`.

use crate::model::http::{
    InterimRecord, PromiseRecord, RequestRecord, ResetRecord, ResponseRecord, Scheme, SwitchRecord,
    Timing, TransactionRecord, TxnState,
};
use crate::model::pack::{Dec, Enc};
pub use crate::model::pack::{decode_conn, encode_conn, intern};
use crate::model::websocket::{
    Deflate, Side, WebSocketRecord, WsClose, WsDirStats, WsFrameRecord, WsHandshake,
    WsMessageRecord, WsPings,
};
use std::borrow::Cow;

/// A transaction read back: the record (without its semantics) and the semantics' lines.
#[derive(Clone, Debug)]
pub struct TxnFull {
    pub rec: TransactionRecord,
    /// `report::semantics_text::lines` of the record's semantics (empty: none).
    pub semantics: Vec<String>,
}

/// Writes a transaction, its semantics as the detail's lines.
pub fn encode_txn(t: &TransactionRecord, out: &mut Vec<u8>) {
    let mut e = Enc(std::mem::take(out));
    let TransactionRecord {
        id,
        connection,
        index,
        stream_id,
        promised_by,
        h2c_upgrade,
        scheme,
        client,
        server,
        state,
        reset,
        request,
        interim,
        response,
        timing,
        switched_to,
        findings,
        semantics,
    } = t;
    e.u(*id);
    e.u(*connection);
    e.u(u64::from(*index));
    e.opt(stream_id, |e, v| e.u(u64::from(*v)));
    e.opt(promised_by, |e, p| {
        e.u(u64::from(p.stream_id));
        e.opt(&p.transaction, |e, v| e.u(*v));
    });
    e.opt(h2c_upgrade, |e, v| e.u(*v));
    e.b(*scheme == Scheme::Https);
    e.endpoint(client);
    e.endpoint(server);
    e.0.push(match state {
        TxnState::Complete => 0,
        TxnState::NoResponse => 1,
        TxnState::NoRequest => 2,
        TxnState::Reset => 3,
        TxnState::NotProcessed => 4,
    });
    e.opt(reset, |e, r| {
        e.u(u64::from(r.code));
        e.s(r.name);
        e.s(r.by);
    });
    e.opt(request, |e, r| {
        let RequestRecord {
            method,
            method_b64,
            target,
            target_b64,
            target_form,
            proxy_request,
            version,
            scheme,
            authority,
            headers,
            body,
            at,
        } = r;
        e.s(method);
        e.opt(method_b64, |e, v| e.s(v));
        e.s(target);
        e.opt(target_b64, |e, v| e.s(v));
        e.s(target_form);
        e.b(*proxy_request);
        e.s(version);
        e.opt(scheme, |e, v| e.s(v));
        e.opt(authority, |e, v| e.s(v));
        e.headers(headers);
        e.body(body);
        e.at(at);
    });
    e.u(interim.len() as u64);
    for i in interim {
        let InterimRecord {
            status,
            reason,
            headers,
            ts,
            at,
        } = i;
        e.u(u64::from(*status));
        e.s(reason);
        e.headers(headers);
        e.ts(*ts);
        e.at(at);
    }
    e.opt(response, |e, r| {
        let ResponseRecord {
            version,
            status,
            status_raw,
            reason,
            reason_b64,
            headers,
            body,
            at,
        } = r;
        e.s(version);
        e.u(u64::from(*status));
        e.opt(status_raw, |e, v| e.s(v));
        e.s(reason);
        e.opt(reason_b64, |e, v| e.s(v));
        e.headers(headers);
        e.body(body);
        e.at(at);
    });
    let Timing {
        request_start,
        request_end,
        response_start,
        response_end,
        ttfb,
        ttlb,
        total,
    } = timing;
    e.opt_ts(request_start);
    e.opt_ts(request_end);
    e.opt_ts(response_start);
    e.opt_ts(response_end);
    for v in [ttfb, ttlb, total] {
        e.opt(v, |e, v| e.f(*v));
    }
    e.opt(switched_to, |e, s| e.s(&s.protocol));
    e.u(findings.len() as u64);
    for f in findings {
        e.s(f);
    }
    let lines = semantics
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(crate::report::semantics_text::lines)
        .unwrap_or_default();
    e.strs(&lines);
    *out = e.0;
}

/// Writes a WebSocket message.
pub fn encode_msg(m: &WsMessageRecord, out: &mut Vec<u8>) {
    let mut e = Enc(std::mem::take(out));
    let WsMessageRecord {
        websocket,
        index,
        direction,
        opcode,
        length,
        wire_length,
        declared_length,
        compressed,
        frames,
        text,
        binary,
        text_truncated,
        utf8_valid,
        close_code,
        rtt,
        partial,
        ts,
        packet,
        stream_offset,
        frame_list,
    } = m;
    e.u(*websocket);
    e.u(*index);
    e.b(*direction == Side::Server);
    e.s(opcode);
    e.u(*length);
    e.u(*wire_length);
    e.opt(declared_length, |e, v| e.u(*v));
    e.b(*compressed);
    e.u(*frames);
    e.opt(text, |e, v| e.s(v));
    e.opt(binary, |e, v| e.bytes(v));
    e.b(*text_truncated);
    e.opt(utf8_valid, |e, v| e.b(*v));
    e.opt(close_code, |e, v| e.u(u64::from(*v)));
    e.opt(rtt, |e, v| e.f(*v));
    e.b(*partial);
    e.ts(*ts);
    e.u(*packet);
    e.u(*stream_offset);
    e.opt(frame_list, |e, v| {
        e.u(v.len() as u64);
        for f in v {
            let WsFrameRecord {
                fin,
                rsv,
                opcode,
                masked,
                length,
                declared_length,
                packet,
                stream_offset,
            } = f;
            e.0.push(u8::from(*fin) | (u8::from(*masked) << 1));
            e.0.push(*rsv);
            e.0.push(*opcode);
            e.u(*length);
            e.opt(declared_length, |e, v| e.u(*v));
            e.u(*packet);
            e.u(*stream_offset);
        }
    });
    *out = e.0;
}

fn enc_ws_dir(e: &mut Enc, d: &WsDirStats) {
    let WsDirStats {
        frames,
        messages,
        control_frames,
        payload_bytes,
        declared_bytes,
        message_bytes,
        compressed_messages,
        capped_messages,
    } = d;
    for v in [
        frames,
        messages,
        control_frames,
        payload_bytes,
        declared_bytes,
        message_bytes,
        compressed_messages,
        capped_messages,
    ] {
        e.u(*v);
    }
}

fn enc_side(e: &mut Enc, s: &Option<Side>) {
    e.opt(s, |e, v| e.b(*v == Side::Server));
}

/// Writes a WebSocket conversation.
pub fn encode_ws(w: &WebSocketRecord, out: &mut Vec<u8>) {
    let mut e = Enc(std::mem::take(out));
    let WebSocketRecord {
        id,
        connection,
        client,
        server,
        handshake,
        compression,
        client_to_server,
        server_to_client,
        pings,
        close,
        findings,
    } = w;
    e.u(*id);
    e.u(*connection);
    e.endpoint(client);
    e.endpoint(server);
    let WsHandshake {
        transaction,
        target,
        host,
        origin,
        version,
        key,
        accept,
        accept_valid,
        subprotocols_offered,
        subprotocol,
        extensions_offered,
        extensions,
        midstream,
        http_version,
        stream_id,
    } = handshake;
    e.opt(transaction, |e, v| e.u(*v));
    for v in [target, host, origin, version, key, accept] {
        e.opt(v, |e, v| e.s(v));
    }
    e.opt(accept_valid, |e, v| e.b(*v));
    e.strs(subprotocols_offered);
    e.opt(subprotocol, |e, v| e.s(v));
    e.strs(extensions_offered);
    e.strs(extensions);
    e.b(*midstream);
    e.opt(http_version, |e, v| e.s(v));
    e.opt(stream_id, |e, v| e.u(u64::from(*v)));
    e.opt(compression, |e, d| {
        let Deflate {
            client_no_context_takeover,
            server_no_context_takeover,
            client_max_window_bits,
            server_max_window_bits,
        } = d;
        e.b(*client_no_context_takeover);
        e.b(*server_no_context_takeover);
        e.opt(client_max_window_bits, |e, v| e.u(u64::from(*v)));
        e.opt(server_max_window_bits, |e, v| e.u(u64::from(*v)));
    });
    enc_ws_dir(&mut e, client_to_server);
    enc_ws_dir(&mut e, server_to_client);
    let WsPings {
        pings,
        answered,
        rtt_min,
        rtt_max,
        rtt_avg,
        unsolicited_pongs,
    } = pings;
    e.u(*pings);
    e.u(*answered);
    for v in [rtt_min, rtt_max, rtt_avg] {
        e.opt(v, |e, v| e.f(*v));
    }
    e.u(*unsolicited_pongs);
    let WsClose {
        initiator,
        code,
        reason,
        client_code,
        client_reason,
        server_code,
        server_reason,
        clean,
        frames_after_close,
    } = close;
    enc_side(&mut e, initiator);
    for (c, r) in [
        (code, reason),
        (client_code, client_reason),
        (server_code, server_reason),
    ] {
        e.opt(c, |e, v| e.u(u64::from(*v)));
        e.opt(r, |e, v| e.s(v));
    }
    e.b(*clean);
    e.u(*frames_after_close);
    e.u(findings.len() as u64);
    for f in findings {
        e.s(f);
    }
    *out = e.0;
}

fn dec_ws_dir(d: &mut Dec<'_>) -> Option<WsDirStats> {
    Some(WsDirStats {
        frames: d.u()?,
        messages: d.u()?,
        control_frames: d.u()?,
        payload_bytes: d.u()?,
        declared_bytes: d.u()?,
        message_bytes: d.u()?,
        compressed_messages: d.u()?,
        capped_messages: d.u()?,
    })
}

fn dec_side(d: &mut Dec<'_>) -> Option<Option<Side>> {
    d.opt(|d| Some(if d.b()? { Side::Server } else { Side::Client }))
}

/// Reads a WebSocket conversation back; `None` when the bytes are not one.
pub fn decode_ws(b: &[u8]) -> Option<WebSocketRecord> {
    let mut d = Dec::new(b);
    let id = d.u()?;
    let connection = d.u()?;
    let client = d.endpoint()?;
    let server = d.endpoint()?;
    let handshake = WsHandshake {
        transaction: d.opt(|d| d.u())?,
        target: d.opt(|d| d.s())?,
        host: d.opt(|d| d.s())?,
        origin: d.opt(|d| d.s())?,
        version: d.opt(|d| d.s())?,
        key: d.opt(|d| d.s())?,
        accept: d.opt(|d| d.s())?,
        accept_valid: d.opt(|d| d.b())?,
        subprotocols_offered: d.strs()?,
        subprotocol: d.opt(|d| d.s())?,
        extensions_offered: d.strs()?,
        extensions: d.strs()?,
        midstream: d.b()?,
        http_version: d.opt(|d| d.s().map(|s| intern(&s)))?,
        stream_id: d.opt(|d| d.u32())?,
    };
    let compression = d.opt(|d| {
        Some(Deflate {
            client_no_context_takeover: d.b()?,
            server_no_context_takeover: d.b()?,
            client_max_window_bits: d.opt(|d| u8::try_from(d.u()?).ok())?,
            server_max_window_bits: d.opt(|d| u8::try_from(d.u()?).ok())?,
        })
    })?;
    let client_to_server = dec_ws_dir(&mut d)?;
    let server_to_client = dec_ws_dir(&mut d)?;
    let pings = WsPings {
        pings: d.u()?,
        answered: d.u()?,
        rtt_min: d.opt(|d| d.f())?,
        rtt_max: d.opt(|d| d.f())?,
        rtt_avg: d.opt(|d| d.f())?,
        unsolicited_pongs: d.u()?,
    };
    let close = WsClose {
        initiator: dec_side(&mut d)?,
        code: d.opt(|d| d.u16())?,
        reason: d.opt(|d| d.s())?,
        client_code: d.opt(|d| d.u16())?,
        client_reason: d.opt(|d| d.s())?,
        server_code: d.opt(|d| d.u16())?,
        server_reason: d.opt(|d| d.s())?,
        clean: d.b()?,
        frames_after_close: d.u()?,
    };
    let n = d.count()?;
    let mut findings = Vec::with_capacity(n);
    for _ in 0..n {
        findings.push(intern(&d.s()?));
    }
    if !d.b.is_empty() {
        return None;
    }
    Some(WebSocketRecord {
        id,
        connection,
        client,
        server,
        handshake,
        compression,
        client_to_server,
        server_to_client,
        pings,
        close,
        findings,
    })
}

/// Reads a transaction back; `None` when the bytes are not one.
pub fn decode_txn(b: &[u8]) -> Option<TxnFull> {
    let mut d = Dec::new(b);
    let id = d.u()?;
    let connection = d.u()?;
    let index = d.u32()?;
    let stream_id = d.opt(|d| d.u32())?;
    let promised_by = d.opt(|d| {
        Some(PromiseRecord {
            stream_id: d.u32()?,
            transaction: d.opt(|d| d.u())?,
        })
    })?;
    let h2c_upgrade = d.opt(|d| d.u())?;
    let https = d.b()?;
    let client = d.endpoint()?;
    let server = d.endpoint()?;
    let mut t = TransactionRecord::new(id, connection, index, https, client, server);
    t.stream_id = stream_id;
    t.promised_by = promised_by;
    t.h2c_upgrade = h2c_upgrade;
    t.state = match d.byte()? {
        0 => TxnState::Complete,
        1 => TxnState::NoResponse,
        2 => TxnState::NoRequest,
        3 => TxnState::Reset,
        4 => TxnState::NotProcessed,
        _ => return None,
    };
    t.reset = d.opt(|d| {
        Some(ResetRecord {
            code: d.u32()?,
            name: intern(&d.s()?),
            by: intern(&d.s()?),
        })
    })?;
    t.request = d.opt(|d| {
        Some(RequestRecord {
            method: d.s()?,
            method_b64: d.opt(|d| d.s())?,
            target: d.s()?,
            target_b64: d.opt(|d| d.s())?,
            target_form: intern(&d.s()?),
            proxy_request: d.b()?,
            version: Cow::Owned(d.s()?),
            scheme: d.opt(|d| d.s())?,
            authority: d.opt(|d| d.s())?,
            headers: d.headers()?,
            body: d.body()?,
            at: d.at()?,
        })
    })?;
    let n = d.count()?;
    for _ in 0..n {
        t.interim.push(InterimRecord {
            status: d.u16()?,
            reason: d.s()?,
            headers: d.headers()?,
            ts: d.ts()?,
            at: d.at()?,
        });
    }
    t.response = d.opt(|d| {
        Some(ResponseRecord {
            version: Cow::Owned(d.s()?),
            status: d.u16()?,
            status_raw: d.opt(|d| d.s())?,
            reason: d.s()?,
            reason_b64: d.opt(|d| d.s())?,
            headers: d.headers()?,
            body: d.body()?,
            at: d.at()?,
        })
    })?;
    t.timing = Timing {
        request_start: d.opt_ts()?,
        request_end: d.opt_ts()?,
        response_start: d.opt_ts()?,
        response_end: d.opt_ts()?,
        ttfb: d.opt(|d| d.f())?,
        ttlb: d.opt(|d| d.f())?,
        total: d.opt(|d| d.f())?,
    };
    t.switched_to = d.opt(|d| Some(SwitchRecord { protocol: d.s()? }))?;
    let n = d.count()?;
    for _ in 0..n {
        t.findings.push(intern(&d.s()?));
    }
    let semantics = d.strs()?;
    if !d.b.is_empty() {
        return None;
    }
    Some(TxnFull { rec: t, semantics })
}

/// Reads a WebSocket message back; `None` when the bytes are not one.
pub fn decode_msg(b: &[u8]) -> Option<WsMessageRecord> {
    let mut d = Dec::new(b);
    let m = WsMessageRecord {
        websocket: d.u()?,
        index: d.u()?,
        direction: if d.b()? { Side::Server } else { Side::Client },
        opcode: d.s()?.into(),
        length: d.u()?,
        wire_length: d.u()?,
        declared_length: d.opt(|d| d.u())?,
        compressed: d.b()?,
        frames: d.u()?,
        text: d.opt(|d| d.s())?,
        binary: d.opt(|d| d.bytes().map(<[u8]>::to_vec))?,
        text_truncated: d.b()?,
        utf8_valid: d.opt(|d| d.b())?,
        close_code: d.opt(|d| d.u16())?,
        rtt: d.opt(|d| d.f())?,
        partial: d.b()?,
        ts: d.ts()?,
        packet: d.u()?,
        stream_offset: d.u()?,
        frame_list: d.opt(|d| {
            let n = d.count()?;
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                let flags = d.byte()?;
                v.push(WsFrameRecord {
                    fin: flags & 1 != 0,
                    masked: flags & 2 != 0,
                    rsv: d.byte()?,
                    opcode: d.byte()?,
                    length: d.u()?,
                    declared_length: d.opt(|d| d.u())?,
                    packet: d.u()?,
                    stream_offset: d.u()?,
                });
            }
            Some(v)
        })?,
    };
    if !d.b.is_empty() {
        return None;
    }
    Some(m)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::base::Timestamp;
    use crate::model::codes;
    use crate::model::http::{
        BodyFraming, BodyRecord, BodyState, Headers, HopReason, MessageStart,
    };
    use crate::model::{CloseKind, ConnectionRecord, DirStats, Endpoint, SeenIn};

    fn ep(a: &str, port: u16) -> Endpoint {
        Endpoint {
            ip: a.parse().unwrap(),
            port,
        }
    }

    fn body(preview: &str) -> BodyRecord {
        let mut trailers = Headers::default();
        trailers.push(b"x-trailer", b"\x00\x01\xff", None, false);
        BodyRecord {
            framing: BodyFraming::Chunked,
            state: BodyState::Partial,
            wire_length: 123_456,
            length: u64::MAX,
            decoded_length: Some(7),
            decoding: Some("gzip"),
            content_type: Some("text/html; charset=\u{1b}[31m".into()),
            content_encoding: vec!["gzip".into(), "br".into()],
            transfer_encoding: vec!["chunked".into()],
            missing_bytes: 9,
            chunks: Some(3),
            chunk_extensions: vec!["a=\u{7}".into()],
            trailers,
            preview: Some(preview.into()),
            preview_b64: Some("AAEC".into()),
            preview_truncated: true,
            byteranges: None,
            digest: Some(0xdead_beef),
        }
    }

    /// A transaction with every field set, control bytes everywhere and a 1 MB header.
    fn hostile() -> TransactionRecord {
        let mut t = TransactionRecord::new(
            u64::MAX,
            42,
            u32::MAX,
            true,
            ep("10.0.0.1", 1),
            ep("2001:db8::1", 65535),
        );
        t.stream_id = Some(5);
        t.promised_by = Some(PromiseRecord {
            stream_id: 3,
            transaction: Some(2),
        });
        t.h2c_upgrade = Some(1);
        t.state = TxnState::Reset;
        t.reset = Some(ResetRecord {
            code: 8,
            name: "CANCEL",
            by: "client",
        });
        let mut h = Headers::default();
        h.push_pseudo(b":authority", b"example.com");
        h.push(b"host", b"evil\x1b]0;title\x07.com", None, false);
        h.push(
            b"connection",
            b"upgrade",
            Some(HopReason::NamedInConnection),
            false,
        );
        h.push(b"authorization", b"Bearer xyz", None, true);
        h.push(
            b"x-big",
            &vec![b'A'; 1 << 20],
            Some(HopReason::Standard),
            false,
        );
        h.push(
            b"\xff\xfe",
            b"\x00\r\n\x7f",
            Some(HopReason::ForbiddenInHttp2),
            false,
        );
        t.request = Some(RequestRecord {
            method: "G\u{1b}[2JET".into(),
            method_b64: Some("R0VU".into()),
            target: "/\u{0}\u{7f}?a=\u{202e}".into(),
            target_b64: None,
            target_form: "origin",
            proxy_request: true,
            version: Cow::Borrowed("HTTP/1.1"),
            scheme: Some("https".into()),
            authority: Some("example.com:443".into()),
            headers: h,
            body: body("{\"a\":\u{1}}"),
            at: MessageStart {
                packet: 1,
                stream_offset: 2,
                head_bytes: 3,
            },
        });
        t.interim.push(InterimRecord {
            status: 103,
            reason: "Early\u{8}Hints".into(),
            headers: Headers::default(),
            ts: Timestamp(-5),
            at: MessageStart {
                packet: 4,
                stream_offset: 5,
                head_bytes: 6,
            },
        });
        t.response = Some(ResponseRecord {
            version: Cow::Borrowed("HTTP/1.1"),
            status: 599,
            status_raw: Some("5x9".into()),
            reason: "Oops\u{1b}".into(),
            reason_b64: Some("T29wcw==".into()),
            headers: Headers::default(),
            body: body(""),
            at: MessageStart {
                packet: 7,
                stream_offset: 8,
                head_bytes: 9,
            },
        });
        t.timing = Timing {
            request_start: Some(Timestamp(i64::MIN)),
            request_end: Some(Timestamp(i64::MAX)),
            response_start: None,
            response_end: Some(Timestamp(0)),
            ttfb: Some(f64::NAN),
            ttlb: Some(-0.0),
            total: None,
        };
        t.switched_to = Some(SwitchRecord {
            protocol: "websocket".into(),
        });
        t.findings = vec![codes::ALL[0].name, codes::ALL[1].name];
        t
    }

    fn json(t: &TransactionRecord) -> String {
        serde_json::to_string(t).unwrap()
    }

    #[test]
    fn a_hostile_transaction_reads_back_equal() {
        let t = hostile();
        let mut b = Vec::new();
        encode_txn(&t, &mut b);
        let got = decode_txn(&b).unwrap();
        assert_eq!(json(&got.rec), json(&t));
        assert!(got.semantics.is_empty());
        // The fields the JSON does not show.
        let d = got.rec.request.as_ref().unwrap();
        assert_eq!(d.body.digest, Some(0xdead_beef));
        assert!(d.headers.iter().any(|h| h.masked));
        assert!(
            d.headers
                .iter()
                .any(|h| h.pseudo && h.name == b":authority")
        );
        assert_eq!(got.rec.timing.ttfb.map(f64::is_nan), Some(true));
        assert_eq!(got.rec.timing.request_start, Some(Timestamp(i64::MIN)));
        // A bare transaction too.
        let bare = TransactionRecord::new(0, 0, 0, false, ep("::", 0), ep("0.0.0.0", 0));
        let mut b = Vec::new();
        encode_txn(&bare, &mut b);
        assert_eq!(json(&decode_txn(&b).unwrap().rec), json(&bare));
    }

    #[test]
    fn cut_or_damaged_bytes_do_not_decode_and_do_not_panic() {
        let mut t = hostile();
        if let Some(r) = &mut t.request {
            r.headers = Headers::default();
        }
        let mut b = Vec::new();
        encode_txn(&t, &mut b);
        for n in 0..b.len() {
            assert!(decode_txn(&b[..n]).is_none(), "cut at {n}");
        }
        let mut longer = b.clone();
        longer.push(0);
        assert!(decode_txn(&longer).is_none(), "trailing bytes");
        // Every byte flipped: some still decode (a changed number), none panics.
        for i in 0..b.len() {
            let mut x = b.clone();
            x[i] ^= 0xff;
            let _ = decode_txn(&x);
            let _ = decode_msg(&x);
        }
        assert!(decode_txn(&[0xff; 64]).is_none());
        assert!(decode_msg(&[]).is_none());
    }

    #[test]
    fn a_hostile_message_reads_back_equal() {
        let m = WsMessageRecord {
            websocket: 3,
            index: u64::MAX,
            direction: Side::Server,
            opcode: "reserved-11".into(),
            length: 1 << 40,
            wire_length: 5,
            declared_length: Some(9),
            compressed: true,
            frames: 2,
            text: Some("\u{1b}[2J\u{0}hello\u{202e}".repeat(1000)),
            binary: Some((0..=255).collect()),
            text_truncated: true,
            utf8_valid: Some(false),
            close_code: Some(1002),
            rtt: Some(0.25),
            partial: true,
            ts: Timestamp(-1),
            packet: 17,
            stream_offset: 99,
            frame_list: Some(vec![
                WsFrameRecord {
                    fin: false,
                    rsv: 4,
                    opcode: 1,
                    masked: true,
                    length: 3,
                    declared_length: Some(10),
                    packet: 1,
                    stream_offset: 2,
                },
                WsFrameRecord {
                    fin: true,
                    rsv: 0,
                    opcode: 0,
                    masked: false,
                    length: 0,
                    declared_length: None,
                    packet: 3,
                    stream_offset: 4,
                },
            ]),
        };
        let mut b = Vec::new();
        encode_msg(&m, &mut b);
        let got = decode_msg(&b).unwrap();
        assert_eq!(format!("{got:?}"), format!("{m:?}"));
        for n in 0..b.len().min(200) {
            assert!(decode_msg(&b[..n]).is_none());
        }
    }

    #[test]
    fn a_connection_reads_back_equal() {
        let mut c = ConnectionRecord {
            id: 9,
            client: ep("10.0.0.1", 1),
            server: ep("::1", 2),
            community_id: "1:\u{1b}[2J".into(),
            client_reason: "SYN \u{1b}seen".into(),
            start: Timestamp(-3),
            end: Timestamp(i64::MAX),
            first_packet: 1,
            last_packet: u64::MAX,
            files: vec![0, u32::MAX],
            also_seen_in: vec![SeenIn {
                file: 1,
                packets: 2,
                bytes: 3,
                clock_offset_s: Some(-0.5),
                clock_offset_uncertainty_s: None,
            }],
            handshake: true,
            handshake_s: Some(0.000_25),
            close: CloseKind::Reused,
            client_isn: Some(7),
            server_isn: None,
            client_to_server: DirStats {
                gaps: 4,
                late_bytes: 5,
                ..DirStats::default()
            },
            server_to_client: DirStats::default(),
            tls: None,
        };
        c.server_to_client.sequence_jumps = 6;
        let mut b = Vec::new();
        encode_conn(&c, &mut b);
        let got = decode_conn(&b, None).unwrap();
        assert_eq!(
            serde_json::to_string(&got).unwrap(),
            serde_json::to_string(&c).unwrap()
        );
        for n in 0..b.len() {
            assert!(decode_conn(&b[..n], None).is_none());
        }
    }

    #[test]
    fn a_conversation_reads_back_equal() {
        let mut w = WebSocketRecord {
            id: 1,
            connection: 2,
            client: ep("10.0.0.1", 1),
            server: ep("10.0.0.2", 2),
            handshake: WsHandshake {
                transaction: Some(3),
                target: Some("/\u{1b}[2J".into()),
                host: Some("h".repeat(100_000)),
                subprotocols_offered: vec!["a".into(), "\u{0}".into()],
                extensions: vec!["permessage-deflate".into()],
                midstream: true,
                http_version: Some("HTTP/2"),
                stream_id: Some(7),
                accept_valid: Some(false),
                ..WsHandshake::default()
            },
            compression: Some(Deflate {
                client_no_context_takeover: true,
                server_no_context_takeover: false,
                client_max_window_bits: Some(15),
                server_max_window_bits: None,
            }),
            client_to_server: WsDirStats::default(),
            server_to_client: WsDirStats::default(),
            pings: WsPings {
                rtt_min: Some(0.001),
                ..WsPings::default()
            },
            close: WsClose {
                initiator: Some(Side::Server),
                code: Some(1006),
                server_reason: Some("bye\u{7}".into()),
                clean: true,
                ..WsClose::default()
            },
            findings: vec![codes::ALL[2].name],
        };
        w.server_to_client.capped_messages = 9;
        let mut b = Vec::new();
        encode_ws(&w, &mut b);
        let got = decode_ws(&b).unwrap();
        assert_eq!(format!("{got:?}"), format!("{w:?}"));
        for n in (0..b.len()).step_by(97) {
            assert!(decode_ws(&b[..n]).is_none());
        }
    }
}
