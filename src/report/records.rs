//! The hottest records written by hand: connections, transactions (their requests, responses,
//! bodies, timings) and WebSocket messages, the bytes their derived `Serialize` gives
//! `fastjson` (and serde_json), without serde's per-field dispatch: each key is one constant
//! piece with its comma and colon, numbers and endpoints go straight into the buffer, header
//! lists write themselves. The parts that are rare or nested deeper (TLS, semantics, HTTP/2
//! details, frame lists) still go through `fastjson`.
//!
//! Every struct is taken apart field by field, so a field added to a record fails to compile
//! here until it is written. `tests::same_as_serde_on_every_variant` and the sample comparisons
//! (`tests/it/json_writer.rs`) check the bytes against serde_json's.

use std::net::IpAddr;

use super::fastjson::{self, Error};
use crate::base::Timestamp;
use crate::base::json::{WriteJson, write_str};
use crate::model::http::{
    BodyRecord, Headers, InterimRecord, MessageStart, RequestRecord, ResponseRecord, Timing,
    TransactionRecord,
};
use crate::model::websocket::WsMessageRecord;
use crate::model::{ConnectionRecord, DirStats, Endpoint, Record};

type Res = Result<(), Error>;

/// Appends record `r`'s JSON: with its `type` first when `tagged` (an NDJSON line), without
/// (the JSON document's arrays).
pub fn write_record(out: &mut Vec<u8>, r: &Record, tagged: bool) -> Res {
    match r {
        Record::Connection(c) => {
            connection(out, c, tag(tagged, b"{\"type\":\"connection\","));
            Ok(())
        }
        Record::Transaction(t) => transaction(out, t, tag(tagged, b"{\"type\":\"transaction\",")),
        Record::WsMessage(m) => {
            ws_message(out, m, tag(tagged, b"{\"type\":\"websocket_message\","))
        }
        _ if tagged => fastjson::to_vec(out, r),
        Record::Finding(x) => fastjson::to_vec(out, &**x),
        Record::WebSocket(x) => fastjson::to_vec(out, &**x),
        Record::Tunnel(x) => fastjson::to_vec(out, &**x),
        Record::ProxyHop(x) => fastjson::to_vec(out, &**x),
        Record::Http2(x) => fastjson::to_vec(out, &**x),
    }
}

/// What opens a record: `{` and, tagged, its `"type":…,`.
#[inline(always)]
fn tag(tagged: bool, with: &'static [u8]) -> &'static [u8] {
    if tagged { with } else { b"{" }
}

/// A number, a digit without `itoa` (most counters are 0).
#[inline(always)]
fn uint(out: &mut Vec<u8>, v: u64) {
    if v < 10 {
        out.push(b'0' + v as u8);
    } else {
        out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }
}

/// `key` (a constant piece: `,"name":`) and a number.
#[inline(always)]
fn num(out: &mut Vec<u8>, key: &'static [u8], v: u64) {
    out.extend_from_slice(key);
    uint(out, v);
}

#[inline(always)]
fn opt_num(out: &mut Vec<u8>, key: &'static [u8], v: Option<u64>) {
    out.extend_from_slice(key);
    match v {
        Some(v) => uint(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

/// An optional number written only when present (`skip_serializing_if = "Option::is_none"`).
#[inline(always)]
fn some_num(out: &mut Vec<u8>, key: &'static [u8], v: Option<u64>) {
    if let Some(v) = v {
        num(out, key, v);
    }
}

fn float(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        out.extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

#[inline(always)]
fn opt_float(out: &mut Vec<u8>, key: &'static [u8], v: Option<f64>) {
    out.extend_from_slice(key);
    match v {
        Some(v) => float(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

#[inline(always)]
fn ts(out: &mut Vec<u8>, key: &'static [u8], t: Timestamp) {
    out.extend_from_slice(key);
    float(out, t.as_secs_f64());
}

#[inline(always)]
fn opt_ts(out: &mut Vec<u8>, key: &'static [u8], t: Option<Timestamp>) {
    opt_float(out, key, t.map(Timestamp::as_secs_f64));
}

#[inline(always)]
fn boolean(out: &mut Vec<u8>, key: &'static [u8], v: bool) {
    out.extend_from_slice(key);
    out.extend_from_slice(if v { b"true" } else { b"false" });
}

#[inline(always)]
fn string(out: &mut Vec<u8>, key: &'static [u8], s: &str) {
    out.extend_from_slice(key);
    write_str(out, s);
}

#[inline(always)]
fn some_string(out: &mut Vec<u8>, key: &'static [u8], s: Option<&str>) {
    if let Some(s) = s {
        string(out, key, s);
    }
}

/// A name that never needs escaping (an enum's), quoted.
#[inline(always)]
fn name(out: &mut Vec<u8>, key: &'static [u8], n: &'static str) {
    debug_assert!(!crate::base::json::needs_escape(n.as_bytes()));
    out.extend_from_slice(key);
    out.push(b'"');
    out.extend_from_slice(n.as_bytes());
    out.push(b'"');
}

/// `key` and an endpoint's string (`"a.b.c.d:port"`, `"[v6]:port"`): an IPv4 one assembled in
/// a stack buffer, appended in one fixed-size copy and cut to length.
#[inline(always)]
fn endpoint(out: &mut Vec<u8>, key: &'static [u8], e: &Endpoint) {
    out.extend_from_slice(key);
    let IpAddr::V4(ip) = e.ip else {
        write_str(out, &e.to_string());
        return;
    };
    // `"`, at most 21 bytes of text, `"`, and slack for the octets' fixed copies.
    let mut buf = [0u8; 32];
    buf[0] = b'"';
    let mut n = crate::model::v4_text(&mut buf, 1, ip, e.port);
    buf[n] = b'"';
    n += 1;
    let at = out.len();
    out.extend_from_slice(&buf);
    out.truncate(at + n);
}

/// A header list, written by itself (its structured form through `fastjson` when a field is
/// not text).
fn headers(out: &mut Vec<u8>, key: &'static [u8], h: &Headers) -> Res {
    out.extend_from_slice(key);
    let at = out.len();
    if !h.write_json(out) {
        out.truncate(at);
        fastjson::to_vec(out, h)?;
    }
    Ok(())
}

/// A list of strings, written only when not empty.
fn strings<S: AsRef<str>>(out: &mut Vec<u8>, key: &'static [u8], v: &[S]) {
    if v.is_empty() {
        return;
    }
    out.extend_from_slice(key);
    out.push(b'[');
    for (i, s) in v.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, s.as_ref());
    }
    out.push(b']');
}

// ---- connections -------------------------------------------------------------------------

/// A connection record, opened by `open` (`{` and the tag).
pub fn connection(out: &mut Vec<u8>, c: &ConnectionRecord, open: &'static [u8]) {
    let ConnectionRecord {
        id,
        client,
        server,
        community_id,
        client_reason,
        start,
        end,
        first_packet,
        last_packet,
        files,
        also_seen_in,
        handshake,
        handshake_s,
        close,
        client_isn,
        server_isn,
        client_to_server,
        server_to_client,
        tls,
    } = c;
    out.extend_from_slice(open);
    num(out, b"\"id\":", *id);
    endpoint(out, b",\"client\":", client);
    endpoint(out, b",\"server\":", server);
    string(out, b",\"community_id\":", community_id);
    string(out, b",\"client_reason\":", client_reason);
    ts(out, b",\"start\":", *start);
    ts(out, b",\"end\":", *end);
    num(out, b",\"first_packet\":", *first_packet);
    num(out, b",\"last_packet\":", *last_packet);
    if !files.is_empty() {
        out.extend_from_slice(b",\"files\":[");
        for (i, f) in files.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            uint(out, u64::from(*f));
        }
        out.push(b']');
    }
    if !also_seen_in.is_empty() {
        out.extend_from_slice(b",\"also_seen_in\":");
        // Infallible (`fastjson` fails only on map keys that are not strings).
        let _ = fastjson::to_vec(out, also_seen_in);
    }
    boolean(out, b",\"handshake\":", *handshake);
    if let Some(s) = handshake_s {
        out.extend_from_slice(b",\"handshake_s\":");
        float(out, *s);
    }
    name(out, b",\"close\":", close.name());
    opt_num(out, b",\"client_isn\":", client_isn.map(u64::from));
    opt_num(out, b",\"server_isn\":", server_isn.map(u64::from));
    dir_stats(out, b",\"client_to_server\":", client_to_server);
    dir_stats(out, b",\"server_to_client\":", server_to_client);
    if let Some(t) = tls {
        out.extend_from_slice(b",\"tls\":");
        let _ = fastjson::to_vec(out, &**t);
    }
    out.push(b'}');
}

fn dir_stats(out: &mut Vec<u8>, key: &'static [u8], d: &DirStats) {
    let DirStats {
        packets,
        wire_bytes,
        bytes,
        gaps,
        missing_bytes,
        retransmitted,
        out_of_order,
        overlapping,
        overlap_conflicts,
        overlap_unverified_bytes,
        late_bytes,
        sequence_jumps,
    } = d;
    out.extend_from_slice(key);
    num(out, b"{\"packets\":", *packets);
    num(out, b",\"wire_bytes\":", *wire_bytes);
    num(out, b",\"bytes\":", *bytes);
    num(out, b",\"gaps\":", *gaps);
    num(out, b",\"missing_bytes\":", *missing_bytes);
    num(out, b",\"retransmitted\":", *retransmitted);
    num(out, b",\"out_of_order\":", *out_of_order);
    num(out, b",\"overlapping\":", *overlapping);
    num(out, b",\"overlap_conflicts\":", *overlap_conflicts);
    num(
        out,
        b",\"overlap_unverified_bytes\":",
        *overlap_unverified_bytes,
    );
    num(out, b",\"late_bytes\":", *late_bytes);
    num(out, b",\"sequence_jumps\":", *sequence_jumps);
    out.push(b'}');
}

// ---- transactions ------------------------------------------------------------------------

/// A transaction record, opened by `open`.
pub fn transaction(out: &mut Vec<u8>, t: &TransactionRecord, open: &'static [u8]) -> Res {
    out.extend_from_slice(open);
    num(out, b"\"id\":", t.id);
    num(out, b",\"connection\":", t.connection);
    num(out, b",\"index\":", u64::from(t.index));
    some_num(out, b",\"stream_id\":", t.stream_id.map(u64::from));
    if let Some(p) = &t.promised_by {
        out.extend_from_slice(b",\"promised_by\":");
        fastjson::to_vec(out, p)?;
    }
    some_num(out, b",\"h2c_upgrade\":", t.h2c_upgrade);
    out.push(b',');
    middle(out, t)?;
    end(out, t)
}

/// A transaction's fields from `scheme` to `switched_to` (no comma before, none after): what
/// is final when a worker makes the record.
pub fn middle(out: &mut Vec<u8>, t: &TransactionRecord) -> Res {
    // Every field named: a new one must be placed here (or among the ids or the end).
    let TransactionRecord {
        id: _,
        connection: _,
        index: _,
        stream_id: _,
        promised_by: _,
        h2c_upgrade: _,
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
        findings: _,
        semantics: _,
    } = t;
    name(out, b"\"scheme\":", scheme.name());
    endpoint(out, b",\"client\":", client);
    endpoint(out, b",\"server\":", server);
    name(out, b",\"state\":", state.name());
    if let Some(r) = reset {
        out.extend_from_slice(b",\"reset\":");
        fastjson::to_vec(out, r)?;
    }
    out.extend_from_slice(b",\"request\":");
    match request {
        Some(r) => request_record(out, r)?,
        None => out.extend_from_slice(b"null"),
    }
    if !interim.is_empty() {
        out.extend_from_slice(b",\"interim\":[");
        for (i, r) in interim.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            interim_record(out, r)?;
        }
        out.push(b']');
    }
    out.extend_from_slice(b",\"response\":");
    match response {
        Some(r) => response_record(out, r)?,
        None => out.extend_from_slice(b"null"),
    }
    timing_record(out, b",\"timing\":", timing);
    if let Some(s) = switched_to {
        string(out, b",\"switched_to\":{\"protocol\":", &s.protocol);
        out.push(b'}');
    }
    Ok(())
}

/// A transaction's last fields (`findings`, `semantics`, each when present) and its `}`.
pub fn end(out: &mut Vec<u8>, t: &TransactionRecord) -> Res {
    strings(out, b",\"findings\":", &t.findings);
    if let Some(s) = &t.semantics {
        out.extend_from_slice(b",\"semantics\":");
        fastjson::to_vec(out, &**s)?;
    }
    out.push(b'}');
    Ok(())
}

fn request_record(out: &mut Vec<u8>, r: &RequestRecord) -> Res {
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
        headers: h,
        body,
        at,
    } = r;
    string(out, b"{\"method\":", method);
    some_string(out, b",\"method_b64\":", method_b64.as_deref());
    string(out, b",\"target\":", target);
    some_string(out, b",\"target_b64\":", target_b64.as_deref());
    string(out, b",\"target_form\":", target_form);
    boolean(out, b",\"proxy_request\":", *proxy_request);
    string(out, b",\"version\":", version);
    some_string(out, b",\"scheme\":", scheme.as_deref());
    some_string(out, b",\"authority\":", authority.as_deref());
    headers(out, b",\"headers\":", h)?;
    body_record(out, b",\"body\":", body)?;
    message_start(out, at);
    out.push(b'}');
    Ok(())
}

fn response_record(out: &mut Vec<u8>, r: &ResponseRecord) -> Res {
    let ResponseRecord {
        version,
        status,
        status_raw,
        reason,
        reason_b64,
        headers: h,
        body,
        at,
    } = r;
    string(out, b"{\"version\":", version);
    num(out, b",\"status\":", u64::from(*status));
    some_string(out, b",\"status_raw\":", status_raw.as_deref());
    string(out, b",\"reason\":", reason);
    some_string(out, b",\"reason_b64\":", reason_b64.as_deref());
    headers(out, b",\"headers\":", h)?;
    body_record(out, b",\"body\":", body)?;
    message_start(out, at);
    out.push(b'}');
    Ok(())
}

fn interim_record(out: &mut Vec<u8>, r: &InterimRecord) -> Res {
    let InterimRecord {
        status,
        reason,
        headers: h,
        ts: t,
        at,
    } = r;
    num(out, b"{\"status\":", u64::from(*status));
    string(out, b",\"reason\":", reason);
    headers(out, b",\"headers\":", h)?;
    ts(out, b",\"ts\":", *t);
    message_start(out, at);
    out.push(b'}');
    Ok(())
}

/// A message's start, flattened into it (`,"packet":…` to `head_bytes`).
fn message_start(out: &mut Vec<u8>, at: &MessageStart) {
    let MessageStart {
        packet,
        stream_offset,
        head_bytes,
    } = at;
    num(out, b",\"packet\":", *packet);
    num(out, b",\"stream_offset\":", *stream_offset);
    num(out, b",\"head_bytes\":", *head_bytes);
}

fn body_record(out: &mut Vec<u8>, key: &'static [u8], b: &BodyRecord) -> Res {
    let BodyRecord {
        framing,
        state,
        wire_length,
        length,
        decoded_length,
        decoding,
        content_type,
        content_encoding,
        transfer_encoding,
        missing_bytes,
        chunks,
        chunk_extensions,
        trailers,
        preview,
        preview_b64,
        preview_truncated,
        byteranges: _,
        digest: _,
    } = b;
    out.extend_from_slice(key);
    name(out, b"{\"framing\":", framing.name());
    name(out, b",\"state\":", state.name());
    num(out, b",\"wire_length\":", *wire_length);
    num(out, b",\"length\":", *length);
    some_num(out, b",\"decoded_length\":", *decoded_length);
    some_string(out, b",\"decoding\":", *decoding);
    some_string(out, b",\"content_type\":", content_type.as_deref());
    strings(out, b",\"content_encoding\":", content_encoding);
    strings(out, b",\"transfer_encoding\":", transfer_encoding);
    if *missing_bytes != 0 {
        num(out, b",\"missing_bytes\":", *missing_bytes);
    }
    some_num(out, b",\"chunks\":", *chunks);
    strings(out, b",\"chunk_extensions\":", chunk_extensions);
    if !trailers.is_empty() {
        headers(out, b",\"trailers\":", trailers)?;
    }
    some_string(out, b",\"preview\":", preview.as_deref());
    some_string(out, b",\"preview_b64\":", preview_b64.as_deref());
    if *preview_truncated {
        out.extend_from_slice(b",\"preview_truncated\":true");
    }
    out.push(b'}');
    Ok(())
}

fn timing_record(out: &mut Vec<u8>, key: &'static [u8], t: &Timing) {
    let Timing {
        request_start,
        request_end,
        response_start,
        response_end,
        ttfb,
        ttlb,
        total,
    } = t;
    out.extend_from_slice(key);
    opt_ts(out, b"{\"request_start\":", *request_start);
    opt_ts(out, b",\"request_end\":", *request_end);
    opt_ts(out, b",\"response_start\":", *response_start);
    opt_ts(out, b",\"response_end\":", *response_end);
    opt_float(out, b",\"ttfb\":", *ttfb);
    opt_float(out, b",\"ttlb\":", *ttlb);
    opt_float(out, b",\"total\":", *total);
    out.push(b'}');
}

// ---- WebSocket messages ------------------------------------------------------------------

/// A WebSocket message record, opened by `open`.
pub fn ws_message(out: &mut Vec<u8>, m: &WsMessageRecord, open: &'static [u8]) -> Res {
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
        binary: _,
        text_truncated,
        utf8_valid,
        close_code,
        rtt,
        partial,
        ts: t,
        packet,
        stream_offset,
        frame_list,
    } = m;
    out.extend_from_slice(open);
    num(out, b"\"websocket\":", *websocket);
    num(out, b",\"index\":", *index);
    name(out, b",\"direction\":", direction.name());
    string(out, b",\"opcode\":", opcode);
    num(out, b",\"length\":", *length);
    num(out, b",\"wire_length\":", *wire_length);
    some_num(out, b",\"declared_length\":", *declared_length);
    boolean(out, b",\"compressed\":", *compressed);
    num(out, b",\"frames\":", *frames);
    some_string(out, b",\"text\":", text.as_deref());
    if *text_truncated {
        out.extend_from_slice(b",\"text_truncated\":true");
    }
    if let Some(v) = utf8_valid {
        boolean(out, b",\"utf8_valid\":", *v);
    }
    some_num(out, b",\"close_code\":", close_code.map(u64::from));
    if let Some(r) = rtt {
        out.extend_from_slice(b",\"rtt\":");
        float(out, *r);
    }
    if *partial {
        out.extend_from_slice(b",\"partial\":true");
    }
    ts(out, b",\"ts\":", *t);
    num(out, b",\"packet\":", *packet);
    num(out, b",\"stream_offset\":", *stream_offset);
    if let Some(f) = frame_list {
        out.extend_from_slice(b",\"frame_list\":");
        fastjson::to_vec(out, f)?;
    }
    out.push(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::model::CloseKind;
    use crate::model::http::{BodyFraming, BodyState, Scheme, TxnState};
    use crate::model::websocket::Side;

    /// Every variant of the enums written by name is serde's name for it.
    #[test]
    fn names_are_serde_names() {
        let s = |v: &dyn erased::Ser| v.json();
        for c in [
            CloseKind::Fin,
            CloseKind::Rst,
            CloseKind::Timeout,
            CloseKind::Open,
            CloseKind::Evicted,
            CloseKind::Reused,
        ] {
            assert_eq!(s(&c), format!("\"{}\"", c.name()));
        }
        for v in [Scheme::Http, Scheme::Https] {
            assert_eq!(s(&v), format!("\"{}\"", v.name()));
        }
        for v in [
            TxnState::Complete,
            TxnState::NoResponse,
            TxnState::NoRequest,
            TxnState::Reset,
            TxnState::NotProcessed,
        ] {
            assert_eq!(s(&v), format!("\"{}\"", v.name()));
        }
        for v in [
            BodyFraming::None,
            BodyFraming::ContentLength,
            BodyFraming::Chunked,
            BodyFraming::Close,
            BodyFraming::Http2Data,
        ] {
            assert_eq!(s(&v), format!("\"{}\"", v.name()));
        }
        for v in [
            BodyState::Complete,
            BodyState::Partial,
            BodyState::Incomplete,
            BodyState::Error,
        ] {
            assert_eq!(s(&v), format!("\"{}\"", v.name()));
        }
        for v in [Side::Client, Side::Server] {
            assert_eq!(s(&v), format!("\"{}\"", v.name()));
        }
    }

    mod erased {
        pub trait Ser {
            fn json(&self) -> String;
        }
        impl<T: serde::Serialize> Ser for T {
            fn json(&self) -> String {
                serde_json::to_string(self).unwrap()
            }
        }
    }

    fn ep(s: &str) -> Endpoint {
        let a: std::net::SocketAddr = s.parse().unwrap();
        Endpoint {
            ip: a.ip(),
            port: a.port(),
        }
    }

    /// Records with every optional part present and absent, and edge numbers (0, 9, 10,
    /// `u64::MAX`, NaN), against serde_json.
    #[test]
    fn same_as_serde_on_every_variant() {
        use crate::model::http::{HopReason, PromiseRecord, ResetRecord, SwitchRecord};
        let mut h = Headers::default();
        h.push(b"Host", b"example.com", None, false);
        h.push(
            b"X-Q",
            b"a \"q\" \\ \x01 \xc3\xa9 longer than eight",
            None,
            true,
        );
        h.push(b"Connection", b"close", Some(HopReason::Standard), false);
        let mut bad = Headers::default();
        bad.push(b"X-Bin", b"\xff", None, false);
        let mut body = BodyRecord::empty();
        let mut full = BodyRecord::empty();
        full.framing = BodyFraming::Chunked;
        full.state = BodyState::Partial;
        full.wire_length = 10;
        full.length = 9;
        full.decoded_length = Some(u64::MAX);
        full.decoding = Some("complete");
        full.content_type = Some("text/html; charset=\"x\"".into());
        full.content_encoding = vec!["gzip".into(), "br".into()];
        full.transfer_encoding = vec!["chunked".into()];
        full.missing_bytes = 3;
        full.chunks = Some(0);
        full.chunk_extensions = vec!["a=b".into()];
        full.trailers = bad.clone();
        full.preview = Some("hi\n".into());
        full.preview_b64 = Some("aGk=".into());
        full.preview_truncated = true;
        let at = MessageStart {
            packet: 1,
            stream_offset: 10,
            head_bytes: 99,
        };
        let req = |headers: Headers, body: BodyRecord, all: bool| RequestRecord {
            method: "GET".into(),
            method_b64: all.then(|| "R0VU".into()),
            target: "/a?b=\"c\"".into(),
            target_b64: all.then(|| "x".into()),
            target_form: "origin",
            proxy_request: all,
            version: "HTTP/1.1".into(),
            scheme: all.then(|| "https".into()),
            authority: all.then(|| "h:1".into()),
            headers,
            body,
            at,
        };
        let resp = |headers: Headers, body: BodyRecord, all: bool| ResponseRecord {
            version: "HTTP/2".into(),
            status: 200,
            status_raw: all.then(|| "2000".into()),
            reason: "OK".into(),
            reason_b64: all.then(|| "T0s=".into()),
            headers,
            body,
            at,
        };
        body.wire_length = 12_345_678_901;
        let mut t = TransactionRecord::new(7, 3, 0, false, ep("10.0.0.1:5"), ep("[::1]:80"));
        let mut records = vec![Record::Transaction(Box::new(t.clone()))];
        t.request = Some(req(h.clone(), body.clone(), false));
        t.response = Some(resp(h.clone(), body.clone(), false));
        t.timing.request_start = Some(Timestamp(1_700_000_000_123_456_789));
        t.timing.response_end = Some(Timestamp(-5));
        t.timing.derive();
        t.timing.ttfb = Some(f64::NAN);
        records.push(Record::Transaction(Box::new(t.clone())));
        t.scheme = Scheme::Https;
        t.state = TxnState::Reset;
        t.stream_id = Some(1);
        t.promised_by = Some(PromiseRecord {
            stream_id: 3,
            transaction: None,
        });
        t.h2c_upgrade = Some(0);
        t.reset = Some(ResetRecord {
            code: 8,
            name: "CANCEL",
            by: "client",
        });
        t.request = Some(req(bad.clone(), full.clone(), true));
        t.response = Some(resp(h.clone(), full.clone(), true));
        t.interim = vec![InterimRecord {
            status: 100,
            reason: "Continue".into(),
            headers: Headers::default(),
            ts: Timestamp(1),
            at,
        }];
        t.switched_to = Some(SwitchRecord {
            protocol: "web\"socket".into(),
        });
        t.findings = vec!["http.a", "http.b"];
        t.semantics = Some(Box::default());
        records.push(Record::Transaction(Box::new(t)));
        let mut c = ConnectionRecord {
            id: 10,
            client: ep("255.0.10.9:65535"),
            server: ep("0.0.0.0:0"),
            community_id: "1:abc+/=".into(),
            client_reason: "syn".into(),
            start: Timestamp(0),
            end: Timestamp(1_500_000_000),
            first_packet: 1,
            last_packet: u64::MAX,
            files: Vec::new(),
            also_seen_in: Vec::new(),
            handshake: true,
            handshake_s: None,
            close: CloseKind::Fin,
            client_isn: None,
            server_isn: Some(u32::MAX),
            client_to_server: DirStats::default(),
            server_to_client: DirStats {
                packets: 9,
                wire_bytes: 10,
                bytes: 11,
                gaps: 99,
                missing_bytes: 100,
                retransmitted: 1,
                out_of_order: 2,
                overlapping: 3,
                overlap_conflicts: 4,
                overlap_unverified_bytes: 5,
                late_bytes: 6,
                sequence_jumps: 7,
            },
            tls: None,
        };
        records.push(Record::Connection(Box::new(c.clone())));
        c.files = vec![0, 12];
        c.also_seen_in = vec![crate::model::SeenIn::default()];
        c.handshake_s = Some(0.25);
        c.tls = Some(Box::default());
        records.push(Record::Connection(Box::new(c)));
        let mut m = WsMessageRecord {
            websocket: 1,
            index: 2,
            direction: Side::Server,
            opcode: "text".into(),
            length: 3,
            wire_length: 4,
            declared_length: None,
            compressed: false,
            frames: 1,
            text: None,
            binary: Some(vec![1]),
            text_truncated: false,
            utf8_valid: None,
            close_code: None,
            rtt: None,
            partial: false,
            ts: Timestamp(1_700_000_000_000_000_000),
            packet: 5,
            stream_offset: 6,
            frame_list: None,
        };
        records.push(Record::WsMessage(Box::new(m.clone())));
        m.declared_length = Some(5);
        m.compressed = true;
        m.text = Some("{\"a\":\"b\\c\"}\u{1}".into());
        m.text_truncated = true;
        m.utf8_valid = Some(false);
        m.close_code = Some(1000);
        m.rtt = Some(0.001);
        m.partial = true;
        m.frame_list = Some(Vec::new());
        records.push(Record::WsMessage(Box::new(m)));
        for r in &records {
            let mut got = Vec::new();
            write_record(&mut got, r, true).unwrap();
            assert_eq!(
                String::from_utf8(got).unwrap(),
                serde_json::to_string(r).unwrap()
            );
            let mut got = Vec::new();
            write_record(&mut got, r, false).unwrap();
            let want = match r {
                Record::Transaction(t) => serde_json::to_string(t),
                Record::Connection(c) => serde_json::to_string(c),
                Record::WsMessage(m) => serde_json::to_string(m),
                _ => unreachable!(),
            }
            .unwrap();
            assert_eq!(String::from_utf8(got).unwrap(), want);
        }
    }
}
