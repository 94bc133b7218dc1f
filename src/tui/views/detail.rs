//! The detail pane: everything about the selected row, as lines.

use base64::Engine as _;
use ratatui::text::{Line, Span};

use super::lists;
use super::text::{dur, hexdump, hms, size, text_lines};
use crate::base::sanitize::{terminal_safe, terminal_safe_str};
use crate::model::codes::{self, Area};
use crate::model::hops::{ProxyHopRecord, Relay};
use crate::model::http::{BodyRecord, Headers, HopReason, Scheme, TransactionRecord};
use crate::model::tunnel::TlsInfo;
use crate::model::websocket::{Side, WebSocketRecord, WsMessageRecord};
use crate::model::{ConnectionRecord, DirStats, Finding, Severity};
use crate::tui::app::App;
use crate::tui::hops::{HopRow, judgement};
use crate::tui::rows::ListKind;
use crate::tui::theme::Theme;

/// Lines of a hex dump or text shown at most per body or message.
const MAX_BODY_LINES: usize = 2000;

/// The pane's title for the current selection.
pub fn title(app: &App) -> String {
    let Some(l) = app.list() else {
        return "Detail".into();
    };
    match (l.kind, l.selected()) {
        (_, None) => "Detail".into(),
        (ListKind::Txns, Some(id)) => app
            .store
            .txns
            .get(id)
            .map_or("Transaction".into(), |r| format!("Transaction {}", r.id)),
        (ListKind::Convs, Some(id)) => app
            .store
            .convs
            .get(id)
            .map_or("WebSocket".into(), |c| format!("WebSocket ws#{}", c.ws)),
        (ListKind::Msgs(_), Some(id)) => app
            .store
            .msgs
            .get(id)
            .map_or("Message".into(), |m| format!("Message {}", m.index)),
        (ListKind::Conns, Some(id)) => app
            .store
            .conns
            .get(id)
            .map_or("Connection".into(), |c| format!("Connection {}", c.id)),
        (ListKind::Findings, Some(_)) => "Finding (Enter: go to it)".into(),
        (ListKind::Hops, Some(_)) => "Proxy hop (Enter: its client leg)".into(),
    }
}

/// The pane's lines (not yet wrapped).
pub fn lines(app: &App) -> Vec<Line<'static>> {
    let Some(l) = app.list() else {
        return Vec::new();
    };
    let Some(id) = l.selected() else {
        return vec![Line::styled(
            if l.rows.is_empty() {
                ""
            } else {
                "nothing selected"
            },
            app.theme.dim(),
        )];
    };
    let s = &app.store;
    let mut out = Out {
        lines: Vec::new(),
        t: app.theme,
    };
    match l.kind {
        ListKind::Txns => {
            if let Some(r) = s.txns.get(id) {
                // The full record is read back from the spool.
                match s.txn_full(id) {
                    Ok(f) => txn(app, &mut out, &f.rec, &f.semantics),
                    Err(e) => {
                        out.text(format!(
                            "#{} {} {}  →  {}",
                            r.id,
                            terminal_safe_str(r.method().unwrap_or("-")),
                            terminal_safe_str(r.target().unwrap_or("(request not captured)")),
                            r.status.map_or("no response".into(), |s| s.to_string())
                        ));
                        out.styled(terminal_safe_str(&e), out.t.error());
                    }
                }
            }
        }
        ListKind::Convs => {
            if let Some(c) = s.convs.get(id) {
                match &c.rec {
                    // The full record is read back from the spool.
                    Some(r) => match s.ws_full(id) {
                        Ok(full) => conv(app, &mut out, &full),
                        Err(e) => {
                            out.text(format!(
                                "ws#{} on connection {}  {} → {}",
                                r.id, r.connection, r.client, r.server
                            ));
                            out.styled(terminal_safe_str(&e), out.t.error());
                        }
                    },
                    None => {
                        out.text(format!(
                            "ws#{}: {} messages so far; the conversation's record (handshake, \
                             statistics, close) comes when its connection ends. Enter lists \
                             the messages.",
                            c.ws, c.messages_seen
                        ));
                    }
                }
            }
        }
        ListKind::Msgs(_) => {
            if let Some(m) = s.msgs.get(id) {
                match s.msg_full(id) {
                    Ok(full) => msg(&mut out, &full, false),
                    Err(e) => {
                        out.text(format!(
                            "message {} {} {}, {}",
                            m.index,
                            side(m.direction),
                            m.opcode,
                            size(m.length)
                        ));
                        out.styled(terminal_safe_str(&e), out.t.error());
                    }
                }
            }
        }
        ListKind::Conns => {
            if let Some(c) = s.conns.get(id) {
                // The full record is read back from the spool.
                match s.conn_full(id) {
                    Ok(full) => conn(app, &mut out, &full),
                    Err(e) => {
                        out.text(format!("connection {}  {} → {}", c.id, c.client, c.server));
                        out.styled(terminal_safe_str(&e), out.t.error());
                    }
                }
            }
        }
        ListKind::Findings => {
            if let Some(f) = s.findings.get(id) {
                finding(&mut out, f, true);
            }
        }
        ListKind::Hops => {
            if let Some(h) = s.hops.get(id) {
                hop(app, &mut out, h);
            }
        }
    }
    out.lines
}

struct Out {
    lines: Vec<Line<'static>>,
    t: Theme,
}

impl Out {
    fn text(&mut self, s: impl Into<String>) {
        self.lines.push(Line::from(s.into()));
    }
    fn styled(&mut self, s: impl Into<String>, st: ratatui::style::Style) {
        self.lines.push(Line::styled(s.into(), st));
    }
    fn section(&mut self, s: impl Into<String>) {
        let t = self.t;
        self.lines
            .push(Line::styled(format!("── {} ", s.into()), t.header()));
    }
    fn kv(&mut self, k: &str, v: impl Into<String>) {
        let t = self.t;
        self.lines.push(Line::from(vec![
            Span::styled(format!("{k}: "), t.bold()),
            Span::raw(v.into()),
        ]));
    }
}

fn finding(out: &mut Out, f: &Finding, full: bool) {
    let t = out.t;
    let sev = f.severity();
    let mark = match sev {
        Severity::Error => "✖",
        Severity::Warning => "⚠",
        Severity::Info => "i",
    };
    out.lines.push(Line::from(vec![
        Span::styled(format!("{mark} {} ", sev.name()), t.severity(sev)),
        Span::styled(terminal_safe_str(f.code.name), t.bold()),
        Span::raw(format!(": {}", terminal_safe(f.message.as_bytes()))),
    ]));
    if full {
        out.kv("  when", f.code.summary);
    }
    out.kv("  what to do", f.code.advice);
    if full {
        let mut at = Vec::new();
        if let Some(c) = f.connection {
            at.push(format!("connection {c}"));
        }
        if let Some(x) = f.transaction {
            at.push(format!("transaction {x}"));
        }
        if let Some(p) = f.packet {
            at.push(format!("packet {p}"));
        }
        if let Some(d) = f.direction {
            at.push(format!(
                "{} offset {}",
                match d {
                    crate::model::Dir::ClientToServer => "client→server",
                    crate::model::Dir::ServerToClient => "server→client",
                },
                f.stream_offset.unwrap_or(0)
            ));
        }
        if let Some(ts) = f.ts {
            at.push(hms(ts));
        }
        if !at.is_empty() {
            out.kv("  where", at.join(", "));
        }
    }
}

fn headers(out: &mut Out, h: &Headers) {
    let t = out.t;
    let w = h.iter().map(|x| x.name.len()).max().unwrap_or(0).min(24) + 1;
    for x in h.iter() {
        let name = format!("{}:", terminal_safe(x.name));
        let value = terminal_safe(x.value);
        let mut spans = vec![
            Span::raw("  "),
            Span::styled(
                format!("{name:<w$} "),
                if x.hop_by_hop.is_some() {
                    t.hop()
                } else {
                    t.bold()
                },
            ),
            Span::raw(value),
        ];
        if x.masked {
            spans.push(Span::styled("  (masked)", t.dim()));
        }
        if let Some(r) = x.hop_by_hop {
            spans.push(Span::styled(
                match r {
                    HopReason::Standard => "  ⟵ hop-by-hop (standard)",
                    HopReason::NamedInConnection => "  ⟵ hop-by-hop (named in Connection)",
                    HopReason::ForbiddenInHttp2 => "  ⟵ hop-by-hop (forbidden in HTTP/2)",
                },
                t.hop(),
            ));
        }
        out.lines.push(Line::from(spans));
    }
    if h.is_empty() {
        out.styled("  (no header fields)", t.dim());
    }
}

fn body(out: &mut Out, b: &BodyRecord, dropped: bool) {
    let t = out.t;
    let framing = match b.framing {
        crate::model::http::BodyFraming::None => "no body".to_string(),
        crate::model::http::BodyFraming::ContentLength => "content-length".into(),
        crate::model::http::BodyFraming::Chunked => {
            format!("chunked ({} chunks)", b.chunks.unwrap_or(0))
        }
        crate::model::http::BodyFraming::Close => "read until close".into(),
        crate::model::http::BodyFraming::Http2Data => "HTTP/2 DATA frames".into(),
    };
    if b.framing == crate::model::http::BodyFraming::None {
        out.styled("  body: none", t.dim());
        return;
    }
    let mut desc = format!(
        "  body: {framing}, {} ({} on the wire), {}",
        size(b.length),
        size(b.wire_length),
        format!("{:?}", b.state).to_lowercase()
    );
    if let Some(ct) = &b.content_type {
        desc.push_str(&format!(", {}", terminal_safe_str(ct)));
    }
    if !b.content_encoding.is_empty() {
        desc.push_str(&format!(
            ", {} → {} decoded ({})",
            terminal_safe_str(&b.content_encoding.join(",")),
            b.decoded_length.map_or("?".into(), size),
            b.decoding.unwrap_or("")
        ));
    }
    if b.missing_bytes > 0 {
        desc.push_str(&format!(", {} lost in gaps", size(b.missing_bytes)));
    }
    out.styled(desc, t.bold());
    let json = b
        .content_type
        .as_deref()
        .is_some_and(|c| c.to_ascii_lowercase().contains("json"));
    if let Some(p) = &b.preview {
        for l in text_lines(p, json).into_iter().take(MAX_BODY_LINES) {
            out.text(format!("  │ {l}"));
        }
        if b.preview_truncated {
            out.styled("  │ … (preview cut)", t.dim());
        }
    } else if let Some(p) = &b.preview_b64 {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(p)
            .unwrap_or_default();
        for l in hexdump(&bytes, MAX_BODY_LINES) {
            out.text(format!("  │ {l}"));
        }
        if b.preview_truncated {
            out.styled("  │ … (preview cut)", t.dim());
        }
    } else if dropped {
        out.styled(
            "  (preview let go to stay within the memory bound)",
            t.dim(),
        );
    } else if b.length > 0 {
        out.styled("  (no preview kept)", t.dim());
    }
}

/// A transaction's detail; `semantics`: the lines of its semantics (read back with it).
fn txn(app: &App, out: &mut Out, x: &TransactionRecord, semantics: &[String]) {
    let dropped = false;
    let t = out.t;
    let mut head = vec![Span::styled(format!("#{} ", x.id), t.bold())];
    match &x.request {
        Some(r) => head.push(Span::styled(
            format!(
                "{} {} {}",
                terminal_safe_str(&r.method),
                terminal_safe_str(&r.target),
                terminal_safe_str(&r.version)
            ),
            t.bold(),
        )),
        None => head.push(Span::styled("(request not captured)", t.dim())),
    }
    head.push(Span::raw("  →  "));
    match &x.response {
        Some(r) => head.push(Span::styled(
            format!("{} {}", r.status, terminal_safe_str(&r.reason)),
            t.status(Some(r.status)),
        )),
        None => head.push(Span::styled("no response", t.error())),
    }
    out.lines.push(Line::from(head));
    out.text(format!(
        "connection {} (#{} on it{})  {} → {}  {}{}",
        x.connection,
        x.index,
        x.stream_id
            .map(|s| format!(", HTTP/2 stream {s}"))
            .unwrap_or_default(),
        x.client,
        x.server,
        match x.state {
            crate::model::http::TxnState::Complete => "complete",
            crate::model::http::TxnState::NoResponse => "NO RESPONSE",
            crate::model::http::TxnState::NoRequest => "request not captured",
            crate::model::http::TxnState::Reset => "RESET",
            crate::model::http::TxnState::NotProcessed => "NOT PROCESSED (GOAWAY)",
        },
        x.switched_to
            .as_ref()
            .map(|s| format!("  switched to {}", terminal_safe_str(&s.protocol)))
            .unwrap_or_default()
    ));
    if x.scheme == Scheme::Https {
        let what = match app.store.tls_of_conn(x.connection) {
            Some(t) => format!(
                "https, over {}  (3: the connection's TLS)",
                crate::report::text::tls_summary(t)
            ),
            None => "https: inside TLS, decrypted (the connection's TLS detail comes when it \
                     ends)"
                .into(),
        };
        out.styled(what, out.t.bold());
    }
    txn_hops(app, out, x);
    txn_findings(app, out, x);
    txn_timing(out, x);
    txn_h2(app, out, x);
    // What the exchange means (caching, ranges, cookies, CORS, auth, redirects): the lines
    // `--format text` prints, already terminal-safe, cookie values masked as recorded.
    if !semantics.is_empty() {
        out.section("Semantics");
        for l in semantics {
            let l = l.trim_start();
            match l.split_once(": ") {
                Some((k, v)) => out.kv(&format!("  {k}"), v.to_string()),
                None => out.text(format!("  {l}")),
            }
        }
    }
    if let Some(r) = &x.request {
        out.section(format!(
            "Request  (packet {}, offset {}, head {})",
            r.at.packet,
            r.at.stream_offset,
            size(r.at.head_bytes)
        ));
        headers(out, &r.headers);
        body(out, &r.body, dropped);
    }
    for i in &x.interim {
        out.section(format!(
            "Interim {} {}  (packet {}, {})",
            i.status,
            terminal_safe_str(&i.reason),
            i.at.packet,
            hms(i.ts)
        ));
        headers(out, &i.headers);
    }
    if let Some(r) = &x.response {
        out.section(format!(
            "Response {} {}  (packet {}, offset {})",
            r.status,
            terminal_safe_str(&r.reason),
            r.at.packet,
            r.at.stream_offset
        ));
        headers(out, &r.headers);
        body(out, &r.body, dropped);
    }
}

/// An HTTP/2 transaction's stream as the connection's `http2[]` record describes it (once the
/// connection ended): how it was opened, its DATA each way, how it ended; the connection's
/// way in and settings.
fn txn_h2(app: &App, out: &mut Out, x: &TransactionRecord) {
    let Some(id) = x.stream_id else {
        return;
    };
    out.section(format!("HTTP/2 stream {id}  (6: the stream alone)"));
    let Some(h) = app.store.h2_on_conn(x.connection) else {
        out.styled(
            "  the connection's HTTP/2 record comes when it ends",
            out.t.dim(),
        );
        return;
    };
    if let Some(s) = h.streams.iter().find(|s| s.id == id) {
        let ended = |e: bool| if e { "END_STREAM" } else { "open" };
        out.kv("  opened by", s.opened_by.to_string());
        out.kv(
            "  DATA",
            format!(
                "→ {} ({})  ← {} ({})",
                size(s.data_bytes.client_to_server),
                ended(s.ended.client_to_server),
                size(s.data_bytes.server_to_client),
                ended(s.ended.server_to_client)
            ),
        );
        // Flow control each way (RFC 9113 §5.2): who waited for a WINDOW_UPDATE, how long.
        for (arrow, f) in [
            ("→", &s.flow.client_to_server),
            ("←", &s.flow.server_to_client),
        ] {
            if f.data_frames == 0 && f.window_updates == 0 {
                continue;
            }
            let mut v = format!(
                "{} DATA frames (largest {}), {} WINDOW_UPDATE received (+{}), window now {}",
                f.data_frames,
                size(u64::from(f.largest_data_frame)),
                f.window_updates,
                f.window_increments,
                f.window
            );
            if let Some(m) = f.min_window {
                v.push_str(&format!(", lowest {m}"));
            }
            if f.stalls > 0 {
                v.push_str(&format!(
                    "; STALLED {}× at a zero window, {} waiting",
                    f.stalls,
                    dur(f.stalled_ms / 1000.0)
                ));
            }
            out.kv(&format!("  flow {arrow}"), v);
        }
        if let Some(code) = s.reset {
            out.kv(
                "  reset",
                format!(
                    "RST_STREAM {} ({code})",
                    crate::analyzers::h2::demux::error_name(code)
                ),
            );
        }
    }
    let settings = |v: &[crate::model::http2::Http2Setting]| {
        v.iter()
            .map(|s| format!("{}={}", s.name, s.value))
            .collect::<Vec<_>>()
            .join(" ")
    };
    out.kv(
        "  connection",
        format!(
            "{}, {} streams, frames → {} ← {}",
            h.mode,
            h.streams.len(),
            h.frames.client_to_server.values().sum::<u64>(),
            h.frames.server_to_client.values().sum::<u64>()
        ),
    );
    out.kv("  client SETTINGS", settings(&h.settings.client));
    out.kv("  server SETTINGS", settings(&h.settings.server));
    if let Some(g) = h.goaway {
        out.kv(
            "  GOAWAY",
            format!(
                "{} ({}), last stream {}",
                crate::analyzers::h2::demux::error_name(g.error_code),
                g.error_code,
                g.last_stream
            ),
        );
    }
    if let Some(s) = h.streams.iter().find(|s| s.id == id)
        && !s.frames.is_empty()
    {
        out.section(format!(
            "HTTP/2 frames of stream {id}  (type, flags, length; window: what the DATA sender may still send on the stream)"
        ));
        let first = s.frames.first().map(|f| f.ts);
        for f in &s.frames {
            let arrow = if f.dir == "client_to_server" {
                "→"
            } else {
                "←"
            };
            let since = first.map(|t0| dur((f.ts.0 - t0.0) as f64 / 1e9));
            let window = f
                .window
                .map(|w| format!("  window {w}"))
                .unwrap_or_default();
            out.text(format!(
                "  {arrow} {:<13} {:<22} {:>7}{window}  pkt {}  +{}",
                f.frame_type,
                f.flags,
                size(u64::from(f.length)),
                f.packet,
                since.unwrap_or_default()
            ));
        }
        if s.frames_dropped > 0 {
            out.styled(
                format!("  {} more frames counted, not listed", s.frames_dropped),
                out.t.dim(),
            );
        }
    }
}

/// The proxy hops this transaction is a leg of.
fn txn_hops(app: &App, out: &mut Out, x: &TransactionRecord) {
    let t = out.t;
    for (front, h) in app.store.hops_of_txn(x.id) {
        let r = &h.rec;
        let leg = if front {
            format!(
                "client leg of hop#{} through {}, upstream leg {}",
                r.id,
                terminal_safe_str(&h.proxy_label()),
                r.back
                    .map_or("none (answered by the proxy)".into(), |b| format!(
                        "#{}",
                        b.transaction
                    ))
            )
        } else {
            format!(
                "upstream leg of hop#{} through {}, client leg #{}",
                r.id,
                terminal_safe_str(&h.proxy_label()),
                r.front.transaction
            )
        };
        let diag = if r.diagnosis.is_empty() {
            String::new()
        } else {
            format!(": {}", r.diagnosis.join(", "))
        };
        out.lines.push(Line::from(vec![
            Span::styled("proxy hop: ", t.bold()),
            Span::styled(format!("{leg}{diag}"), app.theme.plain()),
            Span::styled("  (4: proxy hops)", t.dim()),
        ]));
    }
}

/// The transaction's findings, and those of the WebSocket it switched to.
fn txn_findings(app: &App, out: &mut Out, x: &TransactionRecord) {
    // Findings first, the worst first: the problems are what the user came for (a refused
    // upgrade's warning comes before the hop's error that explains it, by arrival).
    let mut fs: Vec<&Finding> = app.store.findings_of_txn(x.id).collect();
    fs.sort_by_key(|f| std::cmp::Reverse(f.severity()));
    if !fs.is_empty() || !x.findings.is_empty() {
        out.section("Findings");
        for f in &fs {
            finding(out, f, false);
        }
        for c in &x.findings {
            if !fs.iter().any(|f| f.code.name == *c) {
                out.text(format!("{c} (details not received yet)"));
            }
        }
    }
    if x.switched_to
        .as_ref()
        .is_some_and(|s| s.protocol == "websocket")
    {
        let ws: Vec<&Finding> = app
            .store
            .findings_of_conn(x.connection)
            .filter(|f| f.code.area == Area::Ws && f.transaction.is_none())
            .collect();
        if !ws.is_empty() {
            out.section("Findings on the WebSocket that followed (view 2)");
            for f in ws {
                finding(out, f, false);
            }
        }
    }
}

fn txn_timing(out: &mut Out, x: &TransactionRecord) {
    let tm = &x.timing;
    let mut timing = Vec::new();
    if let Some(v) = tm.ttfb {
        timing.push(format!("ttfb {}", dur(v)));
    }
    if let Some(v) = tm.ttlb {
        timing.push(format!("ttlb {}", dur(v)));
    }
    if let Some(v) = tm.total {
        timing.push(format!("total {}", dur(v)));
    }
    if let Some(s) = tm.request_start {
        timing.push(format!("request at {}", hms(s)));
    }
    out.kv("timing", timing.join("  "));
}

fn side(s: Side) -> &'static str {
    match s {
        Side::Client => "client",
        Side::Server => "server",
    }
}

fn conv(app: &App, out: &mut Out, r: &WebSocketRecord) {
    let h = &r.handshake;
    let opt = |v: &Option<String>| v.as_deref().map(terminal_safe_str).unwrap_or("—".into());
    out.styled(
        format!(
            "ws#{} on connection {}  {} → {}",
            r.id, r.connection, r.client, r.server
        ),
        out.t.bold(),
    );
    if h.midstream {
        out.text("mid-stream: the capture started after the handshake; nothing of it is known");
    } else {
        out.kv(
            "handshake",
            format!(
                "transaction {}  {}{}  origin {}",
                h.transaction.map_or("?".into(), |t| t.to_string()),
                opt(&h.host),
                opt(&h.target),
                opt(&h.origin)
            ),
        );
        if let Some(id) = h.stream_id {
            out.kv(
                "over",
                format!(
                    "HTTP/2 stream {id}: an extended CONNECT answered 2xx (RFC 8441; no key, \
                     no accept)"
                ),
            );
        } else {
            out.kv(
                "key/accept",
                format!(
                    "{} / {}  {}",
                    opt(&h.key),
                    opt(&h.accept),
                    match h.accept_valid {
                        Some(true) => "valid",
                        Some(false) => "INVALID",
                        None => "",
                    }
                ),
            );
        }
        out.kv(
            "subprotocol",
            format!(
                "offered [{}] chosen {}",
                terminal_safe_str(&h.subprotocols_offered.join(", ")),
                opt(&h.subprotocol)
            ),
        );
        out.kv(
            "extensions",
            format!(
                "offered [{}] agreed [{}]",
                terminal_safe_str(&h.extensions_offered.join(", ")),
                terminal_safe_str(&h.extensions.join(", "))
            ),
        );
    }
    if let Some(c) = &r.compression {
        out.kv(
            "permessage-deflate",
            format!(
                "client_no_context_takeover {} server_no_context_takeover {} window bits {}/{}",
                c.client_no_context_takeover,
                c.server_no_context_takeover,
                c.client_max_window_bits
                    .map_or("-".into(), |b| b.to_string()),
                c.server_max_window_bits
                    .map_or("-".into(), |b| b.to_string())
            ),
        );
    }
    for (name, d) in [
        ("client → server", &r.client_to_server),
        ("server → client", &r.server_to_client),
    ] {
        out.kv(
            name,
            format!(
                "{} messages ({} compressed{}), {} frames ({} control), {} on the wire, {} decoded",
                d.messages,
                d.compressed_messages,
                if d.capped_messages > 0 {
                    format!(", {} stopped at --max-decoded", d.capped_messages)
                } else {
                    String::new()
                },
                d.frames,
                d.control_frames,
                size(d.payload_bytes),
                size(d.message_bytes)
            ),
        );
    }
    let p = &r.pings;
    out.kv(
        "ping/pong",
        format!(
            "{} pings, {} answered, rtt min {} avg {} max {}, {} unsolicited pongs",
            p.pings,
            p.answered,
            p.rtt_min.map_or("-".into(), dur),
            p.rtt_avg.map_or("-".into(), dur),
            p.rtt_max.map_or("-".into(), dur),
            p.unsolicited_pongs
        ),
    );
    let c = &r.close;
    out.kv(
        "close",
        match c.initiator {
            None => "no close frame (the connection just ended)".into(),
            Some(i) => format!(
                "started by the {}: client {} {}, server {} {}; {}{}",
                side(i),
                c.client_code.map_or("—".into(), |x| x.to_string()),
                c.client_reason
                    .as_deref()
                    .map(terminal_safe_str)
                    .unwrap_or_default(),
                c.server_code.map_or("—".into(), |x| x.to_string()),
                c.server_reason
                    .as_deref()
                    .map(terminal_safe_str)
                    .unwrap_or_default(),
                if c.clean { "clean" } else { "NOT clean" },
                if c.frames_after_close > 0 {
                    format!(", {} frames after close", c.frames_after_close)
                } else {
                    String::new()
                }
            ),
        },
    );
    let fs: Vec<&Finding> = app
        .store
        .findings_of_conn(r.connection)
        .filter(|f| f.code.area == Area::Ws)
        .collect();
    if !fs.is_empty() {
        out.section("Findings");
        for f in fs {
            finding(out, f, false);
        }
    }
    out.styled("Enter: the messages", out.t.dim());
}

fn msg(out: &mut Out, m: &WsMessageRecord, dropped: bool) {
    let t = out.t;
    let arrow = match m.direction {
        Side::Client => "→ client to server",
        Side::Server => "← server to client",
    };
    out.styled(
        format!(
            "message {} {}  {}  {} ({} on the wire{}), {} frame{}",
            m.index,
            arrow,
            m.opcode,
            size(m.length),
            size(m.wire_length),
            if m.compressed { ", compressed" } else { "" },
            m.frames,
            if m.frames == 1 { "" } else { "s" }
        ),
        t.bold(),
    );
    out.text(format!(
        "at {}  packet {}  stream offset {}",
        hms(m.ts),
        m.packet,
        m.stream_offset
    ));
    if let Some(r) = m.rtt {
        out.kv("round trip", dur(r));
    }
    if let Some(c) = m.close_code {
        out.kv("close code", c.to_string());
    }
    if m.partial {
        out.styled(
            "partial: bytes were lost, the connection ended inside it, or decoding stopped",
            t.error(),
        );
    }
    if m.utf8_valid == Some(false) {
        out.styled("not valid UTF-8 (a text message must be)", t.error());
    }
    out.section("Payload");
    match &m.text {
        Some(x) => {
            for l in text_lines(x, false).into_iter().take(MAX_BODY_LINES) {
                out.text(format!("│ {l}"));
            }
            if m.text_truncated {
                out.styled(
                    format!("│ … (the first {} of {} kept)", size(x.len() as u64), size(m.length)),
                    t.dim(),
                );
            }
        }
        None if m.binary.is_some() => {
            let b = m.binary.as_deref().unwrap_or_default();
            for l in hexdump(b, MAX_BODY_LINES) {
                out.text(format!("│ {l}"));
            }
            if m.text_truncated {
                out.styled(
                    format!("│ … (the first {} of {} kept)", size(b.len() as u64), size(m.length)),
                    t.dim(),
                );
            }
        }
        None if dropped => out.styled("(preview let go to stay within the memory bound)", t.dim()),
        None if m.length == 0 => out.styled("(empty)", t.dim()),
        None => out.styled(
            format!("({} {} bytes; the payload of non-text messages is not kept: view 6 shows the stream)", m.opcode, m.length),
            t.dim(),
        ),
    }
    if let Some(frames) = &m.frame_list {
        out.section(format!("Frames ({})", frames.len()));
        out.styled("  fin rsv opcode masked   length  packet  offset", t.dim());
        for f in frames {
            out.text(format!(
                "  {:<3} {:<3} {:<6} {:<6} {:>8} {:>7} {:>7}",
                if f.fin { "1" } else { "0" },
                f.rsv,
                f.opcode,
                if f.masked { "yes" } else { "no" },
                f.length,
                f.packet,
                f.stream_offset
            ));
        }
    }
}

fn dir_stats(out: &mut Out, name: &str, d: &DirStats) {
    let mut s = format!(
        "{} packets, {} delivered ({} on the wire)",
        d.packets,
        size(d.bytes),
        size(d.wire_bytes)
    );
    if d.gaps > 0 {
        s.push_str(&format!(
            ", {} gaps ({} missing)",
            d.gaps,
            size(d.missing_bytes)
        ));
    }
    if d.retransmitted > 0 {
        s.push_str(&format!(", {} retransmitted", d.retransmitted));
    }
    if d.out_of_order > 0 {
        s.push_str(&format!(", {} out of order", d.out_of_order));
    }
    if d.overlap_conflicts > 0 {
        s.push_str(&format!(", {} CONFLICTING overlaps", d.overlap_conflicts));
    }
    out.kv(name, s);
}

fn conn(app: &App, out: &mut Out, c: &ConnectionRecord) {
    out.styled(
        format!(
            "connection {}  {} → {}  ({})",
            c.id,
            c.client,
            c.server,
            super::lists::proto_name(app, c.id)
        ),
        out.t.bold(),
    );
    out.kv("client chosen by", terminal_safe_str(&c.client_reason));
    out.kv(
        "time",
        format!(
            "{} → {} ({}), packets {}–{}",
            hms(c.start),
            hms(c.end),
            dur((c.end.0 - c.start.0) as f64 / 1e9),
            c.first_packet,
            c.last_packet
        ),
    );
    out.kv(
        "handshake / close",
        format!(
            "{} / {:?}",
            if c.handshake {
                "SYN and SYN-ACK seen"
            } else {
                "not captured"
            },
            c.close
        )
        .to_lowercase(),
    );
    if !c.files.is_empty() {
        let files: Vec<String> = c.files.iter().map(|f| format!("[{f}]")).collect();
        out.kv("analysed from input", files.join(" "));
    }
    for s in &c.also_seen_in {
        let mut v = format!(
            "[{}]: {} packets, {}B (copies, not analysed)",
            s.file, s.packets, s.bytes
        );
        if let (Some(o), Some(u)) = (s.clock_offset_s, s.clock_offset_uncertainty_s) {
            v.push_str(&format!(", its clock {o:+.6} s ± {:.3} ms", u * 1000.0));
        }
        out.kv("also seen in input", v);
    }
    dir_stats(out, "client → server", &c.client_to_server);
    dir_stats(out, "server → client", &c.server_to_client);
    if let Some(t) = app.store.tunnel_on_conn(c.id) {
        out.section(format!("Tunnel ({})", terminal_safe_str(&t.kind)));
        out.kv(
            "target",
            format!(
                "{}  {}",
                t.target
                    .as_deref()
                    .map(terminal_safe_str)
                    .unwrap_or("?".into()),
                if t.established {
                    "established".to_string()
                } else {
                    format!(
                        "REFUSED: {}",
                        t.refused
                            .as_deref()
                            .map(terminal_safe_str)
                            .unwrap_or_default()
                    )
                }
            ),
        );
        out.kv("inside", terminal_safe_str(&t.inner));
        out.kv(
            "bytes",
            format!(
                "{} to the target, {} back",
                size(t.bytes_to_target),
                size(t.bytes_from_target)
            ),
        );
        if let Some(a) = &t.auth {
            out.kv(
                "auth",
                format!(
                    "{} {}",
                    terminal_safe_str(a),
                    t.user.as_deref().map(terminal_safe_str).unwrap_or_default()
                ),
            );
        }
    }
    if let Some(t) = c.tls.as_deref() {
        tls(out, "TLS", t);
    } else if let Some(t) = app.store.tunnel_on_conn(c.id).and_then(|t| t.tls.as_ref()) {
        tls(out, "TLS inside the tunnel", t);
    }
    let fs: Vec<&Finding> = app.store.findings_of_conn(c.id).collect();
    if !fs.is_empty() {
        out.section("Findings");
        for f in fs {
            finding(out, f, false);
        }
    }
    let n = app.store.txn_count_on_conn(c.id);
    if n > 0 {
        out.section(format!("HTTP transactions on it ({n})"));
        for x in app.store.txns_on_conn(c.id).take(50) {
            let req = match (x.method(), x.target()) {
                (Some(m), Some(t)) => terminal_safe_str(&format!("{m} {t}")),
                _ => "(request not captured)".to_string(),
            };
            let resp = match (x.status, x.reason()) {
                (Some(st), Some(r)) => format!("{st} {}", terminal_safe_str(r)),
                _ => "no response".to_string(),
            };
            out.text(format!("  #{} {req} → {resp}", x.id));
        }
        if n > 50 {
            out.styled(format!("  … {} more", n - 50), out.t.dim());
        }
    }
    let decrypted = app.store.tls_of_conn(c.id).is_some_and(|t| t.decrypted);
    out.styled(
        if decrypted {
            "6: follow this connection's bytes, decrypted (d there: the TLS records)"
        } else {
            "6: follow this connection's bytes"
        },
        out.t.dim(),
    );
}

/// Why TLS was not decrypted, in words (the `not_decrypted` reason of the record).
fn not_decrypted_why(reason: Option<&str>) -> String {
    match reason {
        Some("no-keys") => "no key log holds this connection's client random (its tls.no-keys \
                            finding names the random: grep the key log for it)"
            .into(),
        Some("decrypt-failed") => "keys were found, but records did not authenticate: a key log \
                                   of another capture or client run, or a corrupt capture"
            .into(),
        Some("cipher-unsupported") => "the cipher suite is one hopscope does not decrypt".into(),
        Some("version-unsupported") => "the TLS version is one hopscope does not decrypt".into(),
        Some("handshake-missing") => {
            "the hellos were not captured (the capture began inside the connection)".into()
        }
        Some(other) => terminal_safe_str(other),
        None => "no encrypted application data was seen".into(),
    }
}

/// Everything the record says of TLS on a stream, and why it was not decrypted.
fn tls(out: &mut Out, title: &str, t: &TlsInfo) {
    let th = out.t;
    let state = if t.decrypted {
        "decrypted".to_string()
    } else {
        format!(
            "not decrypted: {}",
            terminal_safe_str(t.not_decrypted.as_deref().unwrap_or("no encrypted data"))
        )
    };
    out.section(format!("{title} {} ({state})", lists::tls_mark(t)));
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            terminal_safe_str(&v.join(", "))
        }
    };
    out.kv(
        "version",
        format!(
            "{}  (offered: {})",
            terminal_safe_str(t.version.as_deref().unwrap_or("— (no server hello)")),
            list(&t.offered_versions)
        ),
    );
    out.kv(
        "cipher suite",
        terminal_safe_str(t.cipher_suite.as_deref().unwrap_or("— (no server hello)")),
    );
    out.kv("SNI", list(&t.sni));
    let alpn = match (&t.alpn_selected, t.alpn.is_empty()) {
        (_, true) => "none offered".to_string(),
        (Some(a), false) => format!("{}  (offered: {})", terminal_safe_str(a), list(&t.alpn)),
        (None, false) => format!("none known to be selected  (offered: {})", list(&t.alpn)),
    };
    out.kv("ALPN", alpn);
    if t.decrypted {
        out.kv(
            "keys from",
            terminal_safe_str(t.key_source.as_deref().unwrap_or("?")),
        );
        out.kv(
            "decrypted",
            format!(
                "client → server {} records, {}; server → client {} records, {}",
                t.client_records,
                size(t.client_bytes),
                t.server_records,
                size(t.server_bytes)
            ),
        );
    } else {
        out.lines.push(Line::from(vec![
            Span::styled("not decrypted: ", th.bold()),
            Span::styled(
                not_decrypted_why(t.not_decrypted.as_deref()),
                th.severity(Severity::Warning),
            ),
        ]));
        if let Some(k) = &t.key_source {
            out.kv("keys from", terminal_safe_str(k));
        }
    }
    if let Some(h) = t.handshake_s {
        out.kv(
            "handshake",
            format!(
                "{:.1} ms  (ClientHello to the client's first protected record)",
                h * 1e3
            ),
        );
    }
    if let Some(r) = &t.client_random {
        out.kv("client random", terminal_safe_str(r));
    }
}

/// A header change, in the order the message travelled (a request client leg → upstream
/// leg, a response upstream leg → client leg), with what its judgement means.
fn hop_change(out: &mut Out, c: &crate::model::hops::HeaderChange, mark: char, request: bool) {
    let t = out.t;
    let safe = |v: &Option<String>| terminal_safe_str(v.as_deref().unwrap_or(""));
    let (was, now) = if request {
        (safe(&c.front), safe(&c.back))
    } else {
        (safe(&c.back), safe(&c.front))
    };
    let name = terminal_safe_str(&c.name);
    let what = match mark {
        '-' | '=' => format!("{mark} {name}: {was}"),
        '+' => format!("{mark} {name}: {now}"),
        _ => format!("{mark} {name}: {was} → {now}"),
    };
    let (meaning, wrong) = judgement(c.judgement);
    let style = if wrong {
        t.severity(Severity::Warning)
    } else {
        t.plain()
    };
    let note = if meaning.is_empty() {
        format!("  ⟵ {}", c.judgement)
    } else {
        format!("  ⟵ {}: {meaning}", c.judgement)
    };
    out.lines.push(Line::from(vec![
        Span::styled(format!("  {what}"), style),
        Span::styled(note, if wrong { style } else { t.dim() }),
    ]));
}

/// What a proxy changed in one direction's message.
fn hop_diff(out: &mut Out, d: &crate::model::hops::MessageDiff, request: bool) {
    let travel = |c: &crate::model::hops::Change| {
        if request {
            (terminal_safe_str(&c.front), terminal_safe_str(&c.back))
        } else {
            (terminal_safe_str(&c.back), terminal_safe_str(&c.front))
        }
    };
    for (what, c) in [
        ("version", &d.version),
        ("target", &d.target),
        ("status", &d.status),
        ("framing", &d.framing),
        ("body length", &d.body_length),
    ] {
        if let Some(c) = c {
            let (a, b) = travel(c);
            out.kv(&format!("  {what}"), format!("{a} → {b}"));
        }
    }
    for c in &d.headers_removed {
        hop_change(out, c, '-', request);
    }
    for c in &d.headers_added {
        hop_change(out, c, '+', request);
    }
    for c in &d.headers_changed {
        hop_change(out, c, '~', request);
    }
    for c in &d.hop_by_hop_forwarded {
        hop_change(out, c, '=', request);
    }
    let empty = d.version.is_none()
        && d.target.is_none()
        && d.status.is_none()
        && d.framing.is_none()
        && d.headers_removed.is_empty()
        && d.headers_added.is_empty()
        && d.headers_changed.is_empty()
        && d.hop_by_hop_forwarded.is_empty();
    if empty {
        out.styled("  (unchanged)", out.t.dim());
    }
}

/// Rows of two columns under a label column, fitted to the pane so they never wrap.
fn side_by_side(out: &mut Out, width: usize, rows: &[(String, String, String)]) {
    let label = rows
        .iter()
        .map(|r| super::text::width(&r.0))
        .max()
        .unwrap_or(0)
        .min(12);
    let col = width.saturating_sub(label + 5) / 2;
    for (l, a, b) in rows {
        let l = if label == 0 {
            String::new()
        } else {
            format!("{} ", super::text::pad(l, label))
        };
        out.text(format!(
            "{l}{} │ {}",
            super::text::pad(a, col),
            super::text::fit(b, col)
        ));
    }
}

fn hop(app: &App, out: &mut Out, h: &HopRow) {
    let t = out.t;
    let r = &h.rec;
    let width = usize::from(super::areas(app).detail.width.max(20));
    out.styled(
        format!(
            "hop#{}  client {} → proxy {} → upstream {}",
            r.id,
            r.client,
            terminal_safe_str(&h.proxy_label()),
            r.upstream
                .map_or("none (the proxy answered by itself)".into(), |u| u
                    .to_string())
        ),
        t.bold(),
    );
    match (&r.proxy.product, &r.proxy.product_from) {
        (Some(p), Some(from)) => out.kv(
            "proxy",
            format!(
                "{} (from {})",
                terminal_safe_str(p),
                terminal_safe_str(from)
            ),
        ),
        (Some(p), None) => out.kv("proxy", terminal_safe_str(p)),
        _ => out.kv("proxy", "product not identified"),
    }
    if let Some(n) = r.next_hop {
        out.kv(
            "next hop",
            format!("hop#{n} (the upstream leg goes through another proxy)"),
        );
    }
    hop_diagnosis(out, h);
    hop_legs(app, out, r, width);
    out.section("Request: client leg → upstream leg");
    hop_diff(out, &r.request, true);
    out.section("Response: upstream leg → client leg");
    hop_diff(out, &r.response, false);
    if let Some(w) = &r.relay {
        hop_relay(out, w);
    }
    out.section(format!(
        "Why these legs are paired: confidence {} (score {})",
        r.confidence, r.score
    ));
    for e in &r.evidence {
        out.text(format!("  • {}", terminal_safe_str(e)));
    }
    hop_heads(app, out, r, width);
    out.styled(
        format!(
            "Enter: the client leg's transaction #{}",
            r.front.transaction
        ),
        t.dim(),
    );
}

/// What the proxy broke, each diagnosis with its finding (and the fix it names).
fn hop_diagnosis(out: &mut Out, h: &HopRow) {
    let t = out.t;
    let r = &h.rec;
    out.section("Diagnosis");
    if r.diagnosis.is_empty() {
        out.styled(
            if r.confidence == "low" {
                "none made: the pairing's confidence is low (see the evidence)"
            } else {
                "nothing broken: the proxy relayed this request as it should"
            },
            t.dim(),
        );
    }
    for code in &r.diagnosis {
        match h.findings.iter().find(|f| f.code.name == *code) {
            Some(f) => finding(out, f, false),
            None => match codes::lookup(code) {
                Some(c) => {
                    out.styled(
                        format!("{} {code}", c.severity.name()),
                        t.severity(c.severity),
                    );
                    out.kv("  when", c.summary);
                    out.kv("  what to do", c.advice);
                }
                None => out.text(*code),
            },
        }
    }
}

/// Both legs side by side: connection, transaction, request and response lines.
fn hop_legs(app: &App, out: &mut Out, r: &ProxyHopRecord, width: usize) {
    let s = &app.store;
    let leg = |l: Option<crate::model::hops::Leg>| -> [String; 4] {
        let Some(l) = l else {
            return [
                "—".into(),
                "—".into(),
                "(no upstream request)".into(),
                "—".into(),
            ];
        };
        let x = s.txn(l.transaction).and_then(|x| s.read_txn(x).ok());
        let x = x.as_ref().map(|f| &f.rec);
        let conn = x.map_or(format!("#{}", l.connection), |x| {
            format!("#{} {} → {}", l.connection, x.client, x.server)
        });
        let req = x
            .and_then(|x| x.request.as_ref())
            .map_or("(not in view)".into(), |q| {
                terminal_safe_str(&format!("{} {} {}", q.method, q.target, q.version))
            });
        let resp = x.map_or("(not in view)".into(), |x| {
            x.response.as_ref().map_or("no response".into(), |p| {
                terminal_safe_str(&format!("{} {} {}", p.version, p.status, p.reason))
            })
        });
        [conn, format!("#{}", l.transaction), req, resp]
    };
    let (a, b) = (leg(Some(r.front)), leg(r.back));
    out.section("Legs");
    let mut rows = vec![(String::new(), "client leg".into(), "upstream leg".into())];
    for (i, label) in ["connection", "transaction", "request", "response"]
        .iter()
        .enumerate()
    {
        rows.push((label.to_string(), a[i].clone(), b[i].clone()));
    }
    side_by_side(out, width, &rows);
}

/// The WebSocket relay check: messages, bytes and frames on each leg, and the verdict.
fn hop_relay(out: &mut Out, w: &Relay) {
    let t = out.t;
    out.section("WebSocket relay (client leg / upstream leg)");
    let ws = |id: Option<u64>| id.map_or("not seen".into(), |i| format!("ws#{i}"));
    out.kv(
        "  conversations",
        format!("{} / {}", ws(w.front_websocket), ws(w.back_websocket)),
    );
    out.kv(
        "  to server",
        format!(
            "{} / {} messages, {} / {}, {} / {} frames",
            w.to_server[0],
            w.to_server[1],
            size(w.bytes_to_server[0]),
            size(w.bytes_to_server[1]),
            w.frames_to_server[0],
            w.frames_to_server[1]
        ),
    );
    out.kv(
        "  to client",
        format!(
            "{} / {} messages, {} / {}, {} / {} frames",
            w.to_client[0],
            w.to_client[1],
            size(w.bytes_to_client[0]),
            size(w.bytes_to_client[1]),
            w.frames_to_client[0],
            w.frames_to_client[1]
        ),
    );
    let (verdict, bad) = match (w.one_to_one, w.frames_one_to_one) {
        (true, true) => ("relayed one to one", false),
        (true, false) => ("messages relayed one to one, re-framed", false),
        _ if w.front_websocket.is_none() || w.back_websocket.is_none() => {
            ("not checked: a leg's conversation is missing", true)
        }
        _ => ("NOT relayed one to one", true),
    };
    out.styled(
        format!("  {verdict}"),
        if bad {
            t.severity(Severity::Warning)
        } else {
            t.dim()
        },
    );
}

/// The legs' request heads, field by field.
fn hop_heads(app: &App, out: &mut Out, r: &ProxyHopRecord, width: usize) {
    let s = &app.store;
    let heads = |id: Option<u64>| -> Vec<String> {
        let Some(full) = id.and_then(|i| s.txn(i)).and_then(|x| s.read_txn(x).ok()) else {
            return Vec::new();
        };
        let Some(q) = full.rec.request.as_ref() else {
            return Vec::new();
        };
        q.headers
            .iter()
            .map(|hd| format!("{}: {}", terminal_safe(hd.name), terminal_safe(hd.value)))
            .collect()
    };
    let (a, b) = (
        heads(Some(r.front.transaction)),
        heads(r.back.map(|b| b.transaction)),
    );
    if !a.is_empty() || !b.is_empty() {
        out.section("Request headers, client leg │ upstream leg");
        let rows: Vec<(String, String, String)> = (0..a.len().max(b.len()))
            .map(|i| {
                (
                    String::new(),
                    a.get(i).cloned().unwrap_or_default(),
                    b.get(i).cloned().unwrap_or_default(),
                )
            })
            .collect();
        side_by_side(out, width, &rows);
    }
}
