//! HAR 1.2 (`--format har`): the file a browser's Network panel, a HAR viewer or a load tool
//! opens. One entry per HTTP transaction with a request (HTTP/1.x, HTTP/2 streams, decrypted
//! HTTPS), in time order; WebSocket upgrades carry their messages in `_webSocketMessages` (the
//! convention Chrome and Firefox use), hopscope's findings on an entry are in `_findings` and
//! its own names in `_hopscope`. The mapping, field by field, is in docs/har.md.
//!
//! Built from the records as the JSON report writes them (the documented names), with bounded
//! memory: every kind is spooled (`spool`), then joined by connection at the end and the
//! entries sorted by their start.

use std::io::{self, Write};

use serde_json::{Map, Value, json};

use super::fastjson;
use super::spool::{Sorted, Spool};
use crate::base::Timestamp;
use crate::base::utc::utc;
use crate::model::{CaptureSummary, Flow, Record, Sink};

/// WebSocket messages kept on one entry; beyond it they are counted in
/// `_hopscope.websocket_messages_omitted`.
const MAX_WS_MESSAGES: usize = 10_000;
/// Findings kept on one entry (and per connection while joining).
const MAX_FINDINGS: usize = 100;
const MAX_CONN_FINDINGS: usize = 10_000;

pub struct HarWriter {
    out: Box<dyn Write>,
    /// By connection id.
    transactions: Spool,
    connections: Spool,
    findings: Spool,
    /// By conversation id (messages: conversation << 32 | index).
    websockets: Spool,
    ws_messages: Spool,
    /// Transactions with no request (a response whose request was not captured): not entries.
    no_request: u64,
}

impl HarWriter {
    pub fn new(out: Box<dyn Write>) -> Self {
        HarWriter {
            out,
            transactions: Spool::default(),
            connections: Spool::default(),
            findings: Spool::default(),
            websockets: Spool::default(),
            ws_messages: Spool::default(),
            no_request: 0,
        }
    }
}

impl Sink for HarWriter {
    fn record(&mut self, record: Record) -> io::Result<Flow> {
        match &record {
            Record::Transaction(t) if t.request.is_none() => self.no_request += 1,
            Record::Transaction(t) => self
                .transactions
                .push_with(t.connection, |b| json(b, &**t))?,
            Record::Connection(c) => self.connections.push_with(c.id, |b| json(b, c))?,
            Record::Finding(f) => {
                if let (Some(_), Some(conn)) = (f.transaction, f.connection) {
                    self.findings.push_with(conn, |b| json(b, f))?;
                }
            }
            Record::WebSocket(w) => self.websockets.push_with(w.id, |b| json(b, &**w))?,
            Record::WsMessage(m) => {
                let key = (m.websocket << 32) | m.index.min(u64::from(u32::MAX));
                self.ws_messages.push_with(key, |b| json(b, &**m))?;
            }
            _ => {}
        }
        Ok(Flow::Continue)
    }

    fn finish(&mut self, summary: &CaptureSummary) -> io::Result<()> {
        let mut ws_by_conn = Spool::default();
        join_websockets(&mut self.websockets, &mut self.ws_messages, &mut ws_by_conn)?;
        let mut entries = Spool::default();
        build_entries(
            &mut self.transactions,
            &mut self.connections,
            &mut self.findings,
            &mut ws_by_conn,
            &mut entries,
        )?;
        let mut w = io::BufWriter::with_capacity(1 << 16, &mut self.out);
        let mut comment = format!(
            "hopscope {} from {}",
            env!("CARGO_PKG_VERSION"),
            if summary.source.is_empty() {
                "a capture"
            } else {
                summary.source.as_str()
            }
        );
        let skipped = self.no_request;
        if skipped > 0 {
            comment.push_str(&format!(
                "; {skipped} responses without a captured request are not entries (see the JSON report)"
            ));
        }
        w.write_all(b"{\"log\":{\"version\":\"1.2\",\"creator\":")?;
        serde_json::to_writer(
            &mut w,
            &json!({"name": "hopscope", "version": env!("CARGO_PKG_VERSION")}),
        )?;
        w.write_all(b",\"comment\":")?;
        serde_json::to_writer(&mut w, &comment)?;
        w.write_all(b",\"pages\":[],\"entries\":[\n")?;
        entries.write_sorted(&mut w, b",\n")?;
        w.write_all(b"\n]}}\n")?;
        w.flush()
    }
}

/// A record as the JSON report writes it.
fn json<T: serde::Serialize>(b: &mut Vec<u8>, v: &T) -> io::Result<()> {
    fastjson::to_vec(b, v).map_err(io::Error::from)
}

/// A sorted spool read one record ahead, so several can be joined by key.
struct Ahead<'a> {
    sorted: Sorted<'a>,
    cur: Option<(u64, Vec<u8>)>,
}

impl<'a> Ahead<'a> {
    fn new(spool: &'a mut Spool) -> io::Result<Self> {
        let mut a = Ahead {
            sorted: spool.sorted()?,
            cur: None,
        };
        a.advance()?;
        Ok(a)
    }

    fn advance(&mut self) -> io::Result<()> {
        let next = self.sorted.next_record()?.map(|(k, b)| (k, b.to_vec()));
        self.cur = next;
        Ok(())
    }

    fn key(&self) -> Option<u64> {
        self.cur.as_ref().map(|c| c.0)
    }

    /// The records with key `k` (those before it are skipped), parsed; at most `max` kept, the
    /// rest read past.
    fn take(&mut self, k: u64, max: usize) -> io::Result<Vec<Value>> {
        let mut out = Vec::new();
        while let Some(key) = self.key() {
            if key > k {
                break;
            }
            if key == k
                && out.len() < max
                && let Some((_, b)) = &self.cur
                && let Ok(v) = serde_json::from_slice::<Value>(b)
            {
                out.push(v);
            }
            self.advance()?;
        }
        Ok(out)
    }
}

/// Each conversation's messages as HAR's `_webSocketMessages`, keyed by its connection:
/// `{"transaction": upgrade id, "messages": [...], "omitted": n}`.
fn join_websockets(
    websockets: &mut Spool,
    messages: &mut Spool,
    out: &mut Spool,
) -> io::Result<()> {
    let mut convs = Ahead::new(websockets)?;
    let mut msgs = Ahead::new(messages)?;
    while let Some((id, conv)) = convs.cur.take() {
        convs.advance()?;
        let Ok(conv) = serde_json::from_slice::<Value>(&conv) else {
            continue;
        };
        let mut list = Vec::new();
        let mut omitted = 0u64;
        while let Some(key) = msgs.key() {
            if key >> 32 > id {
                break;
            }
            if key >> 32 == id
                && let Some((_, b)) = &msgs.cur
            {
                if list.len() < MAX_WS_MESSAGES {
                    if let Ok(m) = serde_json::from_slice::<Value>(b) {
                        list.push(ws_message(&m));
                    }
                } else {
                    omitted += 1;
                }
            }
            msgs.advance()?;
        }
        let (Some(conn), Some(txn)) = (
            conv.get("connection").and_then(Value::as_u64),
            conv.pointer("/handshake/transaction")
                .and_then(Value::as_u64),
        ) else {
            continue;
        };
        let v = json!({"transaction": txn, "messages": list, "omitted": omitted});
        out.push_with(conn, |b| {
            serde_json::to_writer(b, &v).map_err(io::Error::from)
        })?;
    }
    Ok(())
}

/// A message as browsers write it in a HAR: `type` send (client) or receive, `time` (seconds
/// since the epoch), `opcode`, `data` (the text kept; binary payloads are not in the report).
fn ws_message(m: &Value) -> Value {
    let opcode = match m.get("opcode").and_then(Value::as_str).unwrap_or("") {
        "text" => 1,
        "binary" => 2,
        "close" => 8,
        "ping" => 9,
        "pong" => 10,
        other => other
            .strip_prefix("reserved-")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
    };
    let kind = if m.get("direction").and_then(Value::as_str) == Some("client") {
        "send"
    } else {
        "receive"
    };
    json!({
        "type": kind,
        "time": m.get("ts").and_then(Value::as_f64).unwrap_or(0.0),
        "opcode": opcode,
        "data": m.get("text").and_then(Value::as_str).unwrap_or(""),
    })
}

/// Joins everything by connection and spools each entry by its start.
fn build_entries(
    transactions: &mut Spool,
    connections: &mut Spool,
    findings: &mut Spool,
    ws_by_conn: &mut Spool,
    entries: &mut Spool,
) -> io::Result<()> {
    let mut conns = Ahead::new(connections)?;
    let mut finds = Ahead::new(findings)?;
    let mut wss = Ahead::new(ws_by_conn)?;
    let mut txns = transactions.sorted()?;
    let mut group: Option<(u64, Group)> = None;
    while let Some((conn, b)) = txns.next_record()? {
        let Ok(t) = serde_json::from_slice::<Value>(b) else {
            continue;
        };
        if group.as_ref().is_none_or(|g| g.0 != conn) {
            group = Some((
                conn,
                Group {
                    connection: conns.take(conn, 1)?.pop(),
                    findings: finds.take(conn, MAX_CONN_FINDINGS)?,
                    websockets: wss.take(conn, usize::MAX)?,
                    first: true,
                },
            ));
        }
        let Some((_, g)) = group.as_mut() else {
            continue;
        };
        let Some((start, entry)) = entry(&t, g) else {
            continue;
        };
        g.first = false;
        // Signed nanoseconds keep their order as unsigned keys once shifted by 2^63.
        let key = (start.0 as u64) ^ (1 << 63);
        entries.push_with(key, |b| {
            serde_json::to_writer(b, &entry).map_err(io::Error::from)
        })?;
    }
    Ok(())
}

/// What one connection contributes to its entries.
struct Group {
    connection: Option<Value>,
    findings: Vec<Value>,
    websockets: Vec<Value>,
    /// The next entry is the connection's first (its TCP handshake is its `connect`).
    first: bool,
}

fn secs(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64)
}

/// Milliseconds from `a` to `b` (seconds), or -1 when either is unknown.
fn ms(a: Option<f64>, b: Option<f64>) -> f64 {
    match (a, b) {
        (Some(a), Some(b)) if b >= a => ((b - a) * 1e6).round() / 1e3,
        _ => -1.0,
    }
}

/// ISO 8601 with milliseconds, UTC: `2026-12-01T14:53:21.863Z`.
fn iso8601(ts: Timestamp) -> String {
    // utc() writes `YYYY-MM-DD HH:MM:SS.ffffff`.
    let s = utc(ts);
    let mut out: String = s.chars().take(23).collect();
    if out.len() > 10 {
        out.replace_range(10..11, "T");
    }
    out.push('Z');
    out
}

fn ts_of(secs: f64) -> Timestamp {
    Timestamp((secs * 1e9).round() as i64)
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The headers of a message as HAR's `{name, value}` pairs, in wire order.
fn headers(msg: &Value) -> Vec<Value> {
    msg.get("headers")
        .and_then(Value::as_array)
        .map(|hs| {
            hs.iter()
                .map(|h| json!({"name": str_of(h, "name"), "value": str_of(h, "value")}))
                .collect()
        })
        .unwrap_or_default()
}

/// The values of the fields named `name` (any case).
fn header_values<'a>(msg: &'a Value, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    msg.get("headers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(move |h| str_of(h, "name").eq_ignore_ascii_case(name))
        .map(|h| str_of(h, "value"))
}

/// A URI as HAR's `format: uri` wants it: bytes outside RFC 3986's characters (spaces,
/// controls, non-ASCII) percent-encoded, `[`, `]` and `#` too after the authority (they are
/// allowed only around an IPv6 host), and a `%` that starts no escape; everything else as sent.
fn uri_safe(s: &str) -> String {
    let b = s.as_bytes();
    // The authority ends at the first `/` after `scheme://`.
    let after_scheme = s.find("://").map_or(0, |i| i + 3);
    let path_at = s
        .get(after_scheme..)
        .and_then(|r| r.find('/'))
        .map_or(s.len(), |i| after_scheme + i);
    let hex = |i: usize| b.get(i).is_some_and(u8::is_ascii_hexdigit);
    let mut out = String::with_capacity(s.len());
    for (i, &c) in b.iter().enumerate() {
        let in_path = i >= path_at;
        let keep = c.is_ascii_alphanumeric()
            || b"-._~:/?@!$&'()*+,;=".contains(&c)
            || (c == b'%' && hex(i + 1) && hex(i + 2))
            || (!in_path && (c == b'[' || c == b']'));
        if keep {
            out.push(char::from(c));
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// The request's absolute URL: an absolute-form target as sent; otherwise scheme, the host
/// (HTTP/2's `:authority`, else `Host`, else the server's address) and the target.
fn url(t: &Value, req: &Value) -> String {
    let target = str_of(req, "target");
    let scheme = req
        .get("scheme")
        .and_then(Value::as_str)
        .unwrap_or_else(|| str_of(t, "scheme"));
    let scheme = if scheme.is_empty() { "http" } else { scheme };
    let host = req
        .get("authority")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| header_values(req, "host").next().map(str::to_string))
        .unwrap_or_else(|| str_of(t, "server").to_string());
    let u = match str_of(req, "target_form") {
        "absolute" => target.to_string(),
        "authority" => format!("{scheme}://{target}"),
        "asterisk" => format!("{scheme}://{host}"),
        _ if target.starts_with('/') => format!("{scheme}://{host}{target}"),
        _ => format!("{scheme}://{host}/{target}"),
    };
    uri_safe(&u)
}

/// `name=value` pairs of a query or form body, as sent (form bodies: `+` is a space and
/// `%XX` decoded, as a browser shows their params).
fn pairs(s: &str, decode: bool) -> Vec<Value> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            if decode {
                json!({"name": form_decode(n), "value": form_decode(v)})
            } else {
                json!({"name": n, "value": v})
            }
        })
        .collect()
}

fn form_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = |j: usize| b.get(j).and_then(|&h| char::from(h).to_digit(16));
        match c {
            b'+' => out.push(b' '),
            b'%' => match (hex(i + 1), hex(i + 2)) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(c),
            },
            _ => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `Cookie` fields as `{name, value}`.
fn request_cookies(req: &Value) -> Vec<Value> {
    header_values(req, "cookie")
        .flat_map(|v| v.split(';'))
        .filter_map(|c| {
            let c = c.trim();
            let (n, v) = c.split_once('=')?;
            Some(json!({"name": n.trim(), "value": v.trim()}))
        })
        .collect()
}

/// `Set-Cookie` fields as HAR cookies with their attributes (`expires` in ISO 8601).
fn response_cookies(resp: &Value) -> Vec<Value> {
    header_values(resp, "set-cookie")
        .filter_map(|v| {
            let mut parts = v.split(';');
            let (n, val) = parts.next()?.trim().split_once('=')?;
            let mut c = Map::new();
            c.insert("name".into(), n.trim().into());
            c.insert("value".into(), val.trim().into());
            for a in parts {
                let (k, v) = a.trim().split_once('=').unwrap_or((a.trim(), ""));
                match k.to_ascii_lowercase().as_str() {
                    "path" => {
                        c.insert("path".into(), v.into());
                    }
                    "domain" => {
                        c.insert("domain".into(), v.into());
                    }
                    "expires" => {
                        if let Some(s) = crate::semantics::date::parse(v.as_bytes()) {
                            let ts = Timestamp(s.saturating_mul(1_000_000_000));
                            c.insert("expires".into(), iso8601(ts).into());
                        }
                    }
                    "httponly" => {
                        c.insert("httpOnly".into(), true.into());
                    }
                    "secure" => {
                        c.insert("secure".into(), true.into());
                    }
                    "samesite" => {
                        c.insert("sameSite".into(), v.into());
                    }
                    _ => {}
                }
            }
            Some(Value::Object(c))
        })
        .collect()
}

/// The body text a message kept (`--bodies`): text, or base64 with its encoding.
fn body_text(body: &Value) -> (Option<&str>, bool) {
    match (
        body.get("preview").and_then(Value::as_str),
        body.get("preview_b64").and_then(Value::as_str),
    ) {
        (Some(t), _) => (Some(t), false),
        (None, Some(b)) => (Some(b), true),
        _ => (None, false),
    }
}

fn mime_type(msg: &Value, body: &Value) -> String {
    body.get("content_type")
        .and_then(Value::as_str)
        .or_else(|| header_values(msg, "content-type").next())
        .unwrap_or("")
        .to_string()
}

fn i64_of(v: Option<&Value>) -> i64 {
    v.and_then(Value::as_i64).unwrap_or(-1)
}

/// One HAR entry from a transaction (the JSON report's form), with its start.
fn entry(t: &Value, g: &Group) -> Option<(Timestamp, Value)> {
    let req = t.get("request")?;
    let timing = t.get("timing");
    let at = |k: &str| secs(timing.and_then(|x| x.get(k)));
    let started = at("request_start").or(at("response_start"))?;
    let id = t.get("id").and_then(Value::as_u64)?;
    let body = req.get("body").cloned().unwrap_or(Value::Null);
    let target = str_of(req, "target");
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
    let query = query.split('#').next().unwrap_or("");
    let mut request = json!({
        "method": str_of(req, "method"),
        "url": url(t, req),
        "httpVersion": str_of(req, "version"),
        "cookies": request_cookies(req),
        "headers": headers(req),
        "queryString": pairs(query, false),
        "headersSize": i64_of(req.get("head_bytes")),
        "bodySize": i64_of(body.get("wire_length")),
    });
    let body_len = body.get("length").and_then(Value::as_u64).unwrap_or(0);
    if body_len > 0
        && let Some(r) = request.as_object_mut()
    {
        let mime = mime_type(req, &body);
        let mut post = Map::new();
        let (text, b64) = body_text(&body);
        if let Some(text) = text {
            if mime.starts_with("application/x-www-form-urlencoded") && !b64 {
                post.insert("params".into(), pairs(text, true).into());
            }
            post.insert("text".into(), text.into());
            if b64 {
                post.insert("_encoding".into(), "base64".into());
            }
        }
        post.insert("mimeType".into(), mime.into());
        r.insert("postData".into(), Value::Object(post));
    }
    let response = match t.get("response") {
        Some(resp) => {
            let body = resp.get("body").cloned().unwrap_or(Value::Null);
            let wire = body.get("length").and_then(Value::as_i64).unwrap_or(0);
            let size = body
                .get("decoded_length")
                .and_then(Value::as_i64)
                .unwrap_or(wire);
            let mut content = Map::new();
            content.insert("size".into(), size.into());
            if size > wire {
                content.insert("compression".into(), (size - wire).into());
            }
            content.insert("mimeType".into(), mime_type(resp, &body).into());
            let (text, b64) = body_text(&body);
            if let Some(text) = text {
                content.insert("text".into(), text.into());
                if b64 {
                    content.insert("encoding".into(), "base64".into());
                }
            }
            json!({
                "status": resp.get("status").and_then(Value::as_u64).unwrap_or(0),
                "statusText": str_of(resp, "reason"),
                "httpVersion": str_of(resp, "version"),
                "cookies": response_cookies(resp),
                "headers": headers(resp),
                "content": content,
                "redirectURL": header_values(resp, "location").next().unwrap_or(""),
                "headersSize": i64_of(resp.get("head_bytes")),
                "bodySize": i64_of(body.get("wire_length")),
            })
        }
        // No response captured: status 0, as browsers log a request that got none.
        None => json!({
            "status": 0, "statusText": "", "httpVersion": "", "cookies": [], "headers": [],
            "content": {"size": 0, "mimeType": ""}, "redirectURL": "",
            "headersSize": -1, "bodySize": -1,
            "comment": format!("no response captured ({})", str_of(t, "state")),
        }),
    };
    let send = ms(at("request_start"), at("request_end"));
    let wait = ms(at("request_end"), at("response_start"));
    let receive = ms(at("response_start"), at("response_end"));
    let (connect, ssl) = if g.first { connect_ms(g) } else { (-1.0, -1.0) };
    let time: f64 = [connect, send, wait, receive]
        .iter()
        .filter(|v| **v >= 0.0)
        .sum();
    let server = str_of(t, "server");
    let ip = server
        .rsplit_once(':')
        .map_or(server, |(ip, _)| ip)
        .trim_start_matches('[')
        .trim_end_matches(']');
    let mut e = json!({
        "startedDateTime": iso8601(ts_of(started)),
        "time": (time * 1e3).round() / 1e3,
        "request": request,
        "response": response,
        "cache": {},
        "timings": {
            "blocked": -1, "dns": -1, "connect": connect, "ssl": ssl,
            "send": send, "wait": wait, "receive": receive,
        },
        "serverIPAddress": ip,
        "connection": t.get("connection").and_then(Value::as_u64).unwrap_or(0).to_string(),
    });
    let obj = e.as_object_mut()?;
    let mut own = Map::new();
    own.insert("transaction".into(), id.into());
    own.insert("state".into(), str_of(t, "state").into());
    own.insert("client".into(), str_of(t, "client").into());
    if let Some(ws) = g
        .websockets
        .iter()
        .find(|w| w.get("transaction").and_then(Value::as_u64) == Some(id))
    {
        obj.insert(
            "_webSocketMessages".into(),
            ws.get("messages")
                .cloned()
                .unwrap_or(Value::Array(Vec::new())),
        );
        if let Some(n) = ws.get("omitted").and_then(Value::as_u64)
            && n > 0
        {
            own.insert("websocket_messages_omitted".into(), n.into());
        }
    }
    let findings: Vec<Value> = g
        .findings
        .iter()
        .filter(|f| f.get("transaction").and_then(Value::as_u64) == Some(id))
        .take(MAX_FINDINGS)
        .map(|f| {
            let mut f = f.clone();
            if let Some(o) = f.as_object_mut() {
                o.remove("type");
            }
            f
        })
        .collect();
    if !findings.is_empty() {
        obj.insert("_findings".into(), findings.into());
    }
    obj.insert("_hopscope".into(), Value::Object(own));
    Some((ts_of(started), e))
}

/// `connect` and `ssl` of the connection's first entry, in milliseconds: `ssl` is its TLS
/// handshake (ClientHello to the client's first protected record, `tls.handshake_s`), and
/// `connect` the TCP handshake (SYN to SYN-ACK as captured, `handshake_s`) plus `ssl`, as
/// HAR 1.2 has `connect` include `ssl`; -1 for what was not captured.
fn connect_ms(g: &Group) -> (f64, f64) {
    let Some(c) = &g.connection else {
        return (-1.0, -1.0);
    };
    let ms = |v: Option<f64>| match v {
        Some(h) if h >= 0.0 => (h * 1e6).round() / 1e3,
        _ => -1.0,
    };
    let ssl = ms(secs(c.get("tls").and_then(|t| t.get("handshake_s"))));
    let tcp = if c.get("handshake").and_then(Value::as_bool) == Some(true) {
        ms(secs(c.get("handshake_s")))
    } else {
        -1.0
    };
    let connect = match (tcp, ssl) {
        (t, _) if t < 0.0 => -1.0,
        (t, s) if s >= 0.0 => ((t + s) * 1e3).round() / 1e3,
        (t, _) => t,
    };
    (connect, ssl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_iso8601_with_milliseconds() {
        assert_eq!(
            iso8601(Timestamp(1_796_136_801_863_767_100)),
            "2026-12-01T14:53:21.863Z"
        );
        assert_eq!(iso8601(Timestamp(0)), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn uris_escape_what_a_uri_cannot_hold() {
        assert_eq!(
            uri_safe("http://h/a b\u{1b}[31m?x=é#y#z%zz%41"),
            "http://h/a%20b%1B%5B31m?x=%C3%A9%23y%23z%25zz%41"
        );
        assert_eq!(
            uri_safe("http://[::1]:8080/a[b]"),
            "http://[::1]:8080/a%5Bb%5D"
        );
    }

    #[test]
    fn form_params_decode_plus_and_percent() {
        assert_eq!(
            pairs("a=1+2&b=%41%zz&c", true),
            vec![
                json!({"name": "a", "value": "1 2"}),
                json!({"name": "b", "value": "A%zz"}),
                json!({"name": "c", "value": ""}),
            ]
        );
    }

    #[test]
    fn set_cookie_attributes() {
        let resp = json!({"headers": [
            {"name": "Set-Cookie", "value": "a=1; Path=/x; Domain=example.com; Expires=Wed, 01 Jan 2031 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax"},
            {"name": "set-cookie", "value": "no-equals-sign"},
        ]});
        assert_eq!(
            response_cookies(&resp),
            vec![json!({
                "name": "a", "value": "1", "path": "/x", "domain": "example.com",
                "expires": "2031-01-01T00:00:00.000Z", "httpOnly": true, "secure": true,
                "sameSite": "Lax",
            })]
        );
    }
}
