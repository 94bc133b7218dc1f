//! The lists: only the visible rows are turned into widgets.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use super::text::{count, dur, fit, hms, size};
use crate::base::sanitize::{terminal_safe, terminal_safe_str};
use crate::model::tunnel::TlsInfo;
use crate::model::websocket::Side;
use crate::model::{CloseKind, Severity, codes};
use crate::tui::app::{App, Focus, ListState};
use crate::tui::hops::NO_HOPS;
use crate::tui::rows::{self, ListKind};
use crate::tui::store::{TxnRow, kind, tflag};

pub fn draw(f: &mut Frame<'_>, app: &App, area: Rect) {
    let Some(list) = app.list() else {
        return;
    };
    let t = &app.theme;
    let focused = app.focus == Focus::List;
    let cols = rows::sort_columns(list.kind);
    let sort = format!(
        "sort: {}{}",
        cols.get(list.sort).copied().unwrap_or(""),
        if list.rev { " ↑" } else { "" }
    );
    let name = match list.kind {
        ListKind::Msgs(c) => {
            let ws = app.store.convs.get(c).map_or(0, |c| c.ws);
            format!("ws#{ws} messages (Esc: conversations)")
        }
        ListKind::Convs => "WebSocket conversations (Enter: messages)".into(),
        _ => app.view.title().to_string(),
    };
    let pos = if list.rows.is_empty() {
        "0".to_string()
    } else {
        format!("{}/{}", list.sel + 1, count(list.rows.len() as u64))
    };
    let mut title = vec![
        Span::styled(
            format!(" {name} "),
            if focused { t.tab_active() } else { t.title() },
        ),
        Span::raw(format!(" {pos} ")),
        Span::styled(format!(" {sort} "), t.dim()),
    ];
    if !list.filter_text.is_empty() {
        title.push(Span::styled(
            format!(" /{} ", terminal_safe_str(&list.filter_text)),
            t.header(),
        ));
    }
    let block = Block::new().borders(Borders::TOP).title(Line::from(title));
    let inner = block.inner(area);
    f.render_widget(block, area);
    if list.rows.is_empty() {
        let msg = empty_message(app, list);
        f.render_widget(
            Paragraph::new(Line::styled(msg, t.dim())).wrap(ratatui::widgets::Wrap { trim: true }),
            inner,
        );
        return;
    }
    let height = usize::from(inner.height.saturating_sub(1));
    let offset = list.offset.min(list.rows.len().saturating_sub(1));
    let visible = &list.rows[offset..(offset + height).min(list.rows.len())];
    let w = inner.width;
    let (header, widths, body): (Vec<&str>, Vec<Constraint>, Vec<Row<'static>>) = match list.kind {
        ListKind::Txns => txn_rows(app, visible, w),
        ListKind::Convs => conv_rows(app, visible, w),
        ListKind::Msgs(_) => msg_rows(app, visible, w),
        ListKind::Conns => conn_rows(app, visible, w),
        ListKind::Findings => finding_rows(app, visible, w),
        ListKind::Hops => hop_rows(app, visible, w),
    };
    let sel = list.sel.checked_sub(offset);
    let body: Vec<Row<'static>> = body
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            if Some(i) == sel {
                r.style(t.selected())
            } else {
                r
            }
        })
        .collect();
    let table = Table::new(body, widths)
        .header(Row::new(header.into_iter().map(Cell::from)).style(t.header()))
        .column_spacing(1);
    f.render_widget(table, inner);
}

fn empty_message(app: &App, list: &ListState) -> String {
    if !list.filter_text.is_empty() {
        return "no row matches the filter (Esc clears it)".into();
    }
    let reading = app.done.is_none();
    match list.kind {
        ListKind::Hops => NO_HOPS.into(),
        ListKind::Txns if reading => "no HTTP transaction yet (still reading)".into(),
        ListKind::Txns => "no HTTP transaction in this capture".into(),
        ListKind::Convs if reading => "no WebSocket conversation yet (still reading)".into(),
        ListKind::Convs => "no WebSocket conversation in this capture".into(),
        ListKind::Msgs(_) => "no message kept for this conversation".into(),
        ListKind::Conns if reading => "connections are listed as they end (still reading)".into(),
        ListKind::Conns => "no TCP connection in this capture".into(),
        ListKind::Findings if reading => "no finding yet (still reading)".into(),
        ListKind::Findings => "no finding: nothing wrong was seen".into(),
    }
}

fn sev_mark(s: Option<Severity>) -> &'static str {
    match s {
        Some(Severity::Error) => "✖",
        Some(Severity::Warning) => "⚠",
        Some(Severity::Info) => "i",
        None => "",
    }
}

fn sev_style(app: &App, s: Option<Severity>) -> Style {
    s.map_or(app.theme.plain(), |s| app.theme.severity(s))
}

fn txn_rows(
    app: &App,
    ids: &[u64],
    w: u16,
) -> (Vec<&'static str>, Vec<Constraint>, Vec<Row<'static>>) {
    // Columns appear as the screen widens: the reason at 110, the endpoints at 150.
    // Below 90 the version column has no room for HTTP/2's stream id.
    let narrow = w < 90;
    let reason = w >= 110;
    let wide = w >= 150;
    let t = &app.theme;
    let mut header = vec![
        "!",
        "time",
        "method",
        "ver",
        "host and target",
        "status",
        "ttfb",
        "req/resp",
        "⇑",
    ];
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(12),
        Constraint::Length(7),
        Constraint::Length(if narrow { 3 } else { 7 }),
        Constraint::Fill(1),
        Constraint::Length(if reason { 24 } else { 6 }),
        Constraint::Length(7),
        Constraint::Length(13),
        Constraint::Length(2),
    ];
    if wide {
        header.insert(2, "client → server");
        widths.insert(2, Constraint::Length(44));
    }
    let rows = ids
        .iter()
        .filter_map(|id| app.store.txns.get(*id))
        .map(|x| {
            let sev = app.store.txn_severity(x);
            let time = x.start.map(hms).unwrap_or_default();
            let (method, target) = match (x.method(), x.target()) {
                (Some(m), Some(t)) => (terminal_safe_str(m), terminal_safe_str(t)),
                _ => ("-".into(), "(request not captured)".into()),
            };
            let host = terminal_safe_str(x.host());
            // Over TLS (decrypted: there is a transaction) the scheme says so.
            let scheme = if x.is_https() { "https://" } else { "" };
            let hostpath = if target.starts_with('/') || target == "*" {
                format!("{scheme}{host}{target}")
            } else if x.method().is_some() {
                target
            } else {
                format!("{host} {target}")
            };
            let (status, st_style) = match (x.status, x.reason()) {
                (Some(st), Some(r)) => {
                    let s = if reason {
                        format!("{} {}", st, terminal_safe_str(r))
                    } else {
                        st.to_string()
                    };
                    (s, t.status(Some(st)))
                }
                _ => ("—".into(), t.dim()),
            };
            let ttfb = x.ttfb.map(dur).unwrap_or_default();
            let sizes = format!(
                "{}/{}",
                x.req_len.map_or("-".into(), size),
                x.resp_len.map_or("-".into(), size)
            );
            let marker = match x.switched_to() {
                Some("websocket") => "⇑w",
                Some("tunnel") => "⇄",
                Some(_) => "⇑",
                None if x.method() == Some("CONNECT") => "⇄",
                None if x.has(tflag::UPGRADE_HEADER) => "⇑✗",
                None => "",
            };
            let mut cells = vec![
                Cell::from(Span::styled(sev_mark(sev), sev_style(app, sev))),
                Cell::from(time),
                Cell::from(fit(&method, 7)),
                Cell::from(version_cell(x, !narrow)),
                Cell::from(hostpath),
                Cell::from(Span::styled(status, st_style)),
                Cell::from(ttfb),
                Cell::from(sizes),
                Cell::from(marker),
            ];
            if wide {
                cells.insert(2, Cell::from(format!("{} → {}", x.client, x.server)));
            }
            Row::new(cells)
        })
        .collect();
    (header, widths, rows)
}

/// The HTTP version, short, and for HTTP/2 the stream id (`h2 s5`) when `stream`.
fn version_cell(x: &TxnRow, stream: bool) -> String {
    let v = x.version();
    match (v, x.stream_id) {
        (_, Some(s)) if stream => format!("h2 s{s}"),
        (_, Some(_)) => "h2".into(),
        ("HTTP/2" | "HTTP/2.0", None) => "h2".into(),
        (v, None) => terminal_safe_str(v.strip_prefix("HTTP/").unwrap_or(v)),
    }
}

fn conv_rows(
    app: &App,
    ids: &[u64],
    w: u16,
) -> (Vec<&'static str>, Vec<Constraint>, Vec<Row<'static>>) {
    let wide = w >= 150;
    let mut header = vec![
        "!",
        "ws",
        "conn",
        "target",
        "msgs →/←",
        "bytes",
        "deflate",
        "close",
    ];
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Fill(1),
        Constraint::Length(11),
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Length(16),
    ];
    if wide {
        header.insert(3, "client → server");
        widths.insert(3, Constraint::Length(44));
    }
    let rows = ids
        .iter()
        .filter_map(|id| app.store.convs.get(*id))
        .map(|c| {
            let Some(r) = &c.rec else {
                let mut cells = vec![
                    Cell::from(""),
                    Cell::from(format!("#{}", c.ws)),
                    Cell::from("?"),
                    Cell::from("(open: its record comes when the connection ends)"),
                    Cell::from(format!("{}", c.messages_seen)),
                    Cell::from(""),
                    Cell::from(""),
                    Cell::from("open"),
                ];
                if wide {
                    cells.insert(3, Cell::from(""));
                }
                return Row::new(cells);
            };
            let sev = r
                .findings
                .iter()
                .filter_map(|c| codes::lookup(c).map(|c| c.severity))
                .max();
            // Over decrypted TLS (known once the connection's record came) the scheme says so.
            let wss = app
                .store
                .tls_of_conn(r.connection)
                .is_some_and(|t| t.decrypted);
            let target = format!(
                "{}{}{}",
                if wss { "wss://" } else { "" },
                terminal_safe_str(r.host.as_deref().unwrap_or("")),
                terminal_safe_str(r.target.as_deref().unwrap_or(if r.midstream {
                    "(mid-stream)"
                } else {
                    ""
                }))
            );
            let close = match (r.close_code, r.close_initiator) {
                (Some(code), Some(i)) => format!(
                    "{code} by {}{}",
                    if i == Side::Client {
                        "client"
                    } else {
                        "server"
                    },
                    if r.close_clean { "" } else { " !" }
                ),
                (None, Some(i)) => format!(
                    "by {}",
                    if i == Side::Client {
                        "client"
                    } else {
                        "server"
                    }
                ),
                _ => "no close".into(),
            };
            let mut cells = vec![
                Cell::from(Span::styled(sev_mark(sev), sev_style(app, sev))),
                Cell::from(format!("#{}", r.id)),
                Cell::from(r.connection.to_string()),
                Cell::from(target),
                Cell::from(format!("{}/{}", r.messages[0], r.messages[1])),
                Cell::from(size(r.message_bytes[0] + r.message_bytes[1])),
                Cell::from(if r.compression { "yes" } else { "" }),
                Cell::from(close),
            ];
            if wide {
                cells.insert(3, Cell::from(format!("{} → {}", r.client, r.server)));
            }
            Row::new(cells)
        })
        .collect();
    (header, widths, rows)
}

fn msg_rows(
    app: &App,
    ids: &[u64],
    _w: u16,
) -> (Vec<&'static str>, Vec<Constraint>, Vec<Row<'static>>) {
    let t = &app.theme;
    let header = vec!["#", "time", "dir", "opcode", "length", "z", "fr", "preview"];
    let widths = vec![
        Constraint::Length(5),
        Constraint::Length(12),
        Constraint::Length(3),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Fill(1),
    ];
    let rows = ids
        .iter()
        .filter_map(|id| Some((*id, app.store.msgs.get(*id)?)))
        .map(|(id, m)| {
            let (arrow, style) = match m.direction {
                Side::Client => ("→", t.client()),
                Side::Server => ("←", t.server()),
            };
            // The payload's start is in the spool (the rows on screen are read back).
            let full = app.store.msg_full(id).ok();
            let text = full.as_ref().and_then(|f| f.text.as_deref());
            let preview = match m.opcode {
                "pong" => match m.rtt {
                    Some(r) => format!("rtt {}", dur(r)),
                    None => "unsolicited".into(),
                },
                "close" => format!(
                    "{} {}",
                    m.close_code.map_or("no code".into(), |c| c.to_string()),
                    text.map(terminal_safe_str).unwrap_or_default()
                ),
                _ => match text {
                    Some(x) => {
                        let end = x.char_indices().nth(300).map_or(x.len(), |(i, _)| i);
                        terminal_safe_str(&x[..end])
                    }
                    None => match full.as_ref().and_then(|f| f.binary.as_ref()) {
                        Some(b) => b
                            .iter()
                            .take(24)
                            .map(|x| format!("{x:02x}"))
                            .collect::<Vec<_>>()
                            .join(" "),
                        None => String::new(),
                    },
                },
            };
            let mut flags = String::new();
            if m.partial {
                flags.push_str("partial ");
            }
            if m.utf8_valid == Some(false) {
                flags.push_str("bad-utf8 ");
            }
            Row::new(vec![
                Cell::from(m.index.to_string()),
                Cell::from(hms(m.ts)),
                Cell::from(Span::styled(arrow, style)),
                Cell::from(m.opcode),
                Cell::from(size(m.length)),
                Cell::from(if m.compressed { "z" } else { "" }),
                Cell::from(m.frames.to_string()),
                Cell::from(format!("{flags}{preview}")),
            ])
        })
        .collect();
    (header, widths, rows)
}

/// The lock marker of TLS: `✓` decrypted, `✗` not (the detail says why).
pub fn tls_mark(t: &TlsInfo) -> &'static str {
    if t.decrypted { "✓" } else { "✗" }
}

/// What a connection carries, e.g. `http×6`, `tls✓+http×6` (TLS, decrypted), `tls✗` (TLS,
/// not decrypted), `connect→tls✗`, `http+ws`.
pub fn proto_name(app: &App, conn: u64) -> String {
    let k = app.store.conn_kind(conn);
    let mut v = Vec::new();
    if let Some(t) = app.store.conn(conn).and_then(|c| c.tls.as_deref()) {
        v.push(format!("tls{}", tls_mark(t)));
    }
    let mut tunnel = true;
    if let Some(t) = app.store.tunnel_on_conn(conn) {
        let mut s = terminal_safe_str(&format!("{}→{}", t.kind, t.inner));
        if let Some(tls) = &t.tls {
            s.push_str(tls_mark(tls));
        }
        v.push(s);
    } else if k & kind::TUNNEL != 0 {
        v.push("tunnel".into());
    } else {
        tunnel = false;
    }
    if k & kind::HTTP != 0 && !tunnel {
        match app.store.txn_count_on_conn(conn) {
            n if n > 1 => v.push(format!("http×{n}")),
            _ => v.push("http".into()),
        }
    }
    if k & kind::WS != 0 {
        v.push("ws".into());
    }
    if v.is_empty() {
        "tcp".into()
    } else {
        v.join("+")
    }
}

fn conn_rows(
    app: &App,
    ids: &[u64],
    w: u16,
) -> (Vec<&'static str>, Vec<Constraint>, Vec<Row<'static>>) {
    let wide = w >= 110;
    let t = &app.theme;
    let mut header = vec![
        "!",
        "id",
        "client → server",
        "proto",
        "bytes →/←",
        "dur",
        "close",
        "gaps",
        "tunnel target (SNI)",
    ];
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(5),
        Constraint::Length(if wide { 44 } else { 21 }),
        Constraint::Length(13),
        Constraint::Length(13),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(4),
        Constraint::Fill(1),
    ];
    if !wide {
        header.remove(2);
        widths.remove(2);
        header.insert(2, "server");
        widths.insert(2, Constraint::Length(21));
    }
    let rows = ids
        .iter()
        .filter_map(|id| app.store.conns.get(*id))
        .map(|c| {
            let sev = app.store.findings_of_conn(c.id).map(|f| f.severity()).max();
            let gaps = c.gaps;
            let tunnel = app.store.tunnel_on_conn(c.id).map(|x| {
                let mut s = terminal_safe_str(x.target.as_deref().unwrap_or("?"));
                if let Some(tls) = &x.tls
                    && !tls.sni.is_empty()
                {
                    s.push_str(&format!(" ({})", terminal_safe_str(&tls.sni.join(","))));
                }
                if !x.established {
                    s.push_str(" refused");
                }
                s
            });
            // TLS straight to the server: its SNI in the same column.
            let tunnel = tunnel.or_else(|| {
                c.tls
                    .as_deref()
                    .filter(|t| !t.sni.is_empty())
                    .map(|t| format!("({})", terminal_safe_str(&t.sni.join(","))))
            });
            let mut cells = vec![
                Cell::from(Span::styled(sev_mark(sev), sev_style(app, sev))),
                Cell::from(c.id.to_string()),
                Cell::from(if wide {
                    format!("{} → {}", c.client, c.server)
                } else {
                    c.server.to_string()
                }),
                Cell::from(proto_name(app, c.id)),
                Cell::from(format!("{}/{}", size(c.bytes[0]), size(c.bytes[1]))),
                Cell::from(dur((c.end.0 - c.start.0) as f64 / 1e9)),
                Cell::from(Span::styled(
                    c.close.name(),
                    if c.close == CloseKind::Rst {
                        t.error()
                    } else {
                        t.plain()
                    },
                )),
                Cell::from(Span::styled(
                    gaps.to_string(),
                    if gaps > 0 { t.error() } else { t.dim() },
                )),
                Cell::from(tunnel.unwrap_or_default()),
            ];
            if !wide {
                cells.truncate(9);
            }
            Row::new(cells)
        })
        .collect();
    (header, widths, rows)
}

fn finding_rows(
    app: &App,
    ids: &[u64],
    _w: u16,
) -> (Vec<&'static str>, Vec<Constraint>, Vec<Row<'static>>) {
    let header = vec!["severity", "code", "conn", "txn", "message"];
    let widths = vec![
        Constraint::Length(8),
        Constraint::Length(30),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Fill(1),
    ];
    let rows = ids
        .iter()
        .filter_map(|id| app.store.findings.get(*id))
        .map(|x| {
            Row::new(vec![
                Cell::from(Span::styled(
                    x.severity().name(),
                    app.theme.severity(x.severity()),
                )),
                Cell::from(terminal_safe_str(x.code.name)),
                Cell::from(x.connection.map(|c| c.to_string()).unwrap_or_default()),
                Cell::from(x.transaction.map(|c| c.to_string()).unwrap_or_default()),
                Cell::from(terminal_safe(x.message.as_bytes())),
            ])
        })
        .collect();
    (header, widths, rows)
}

fn hop_rows(
    app: &App,
    ids: &[u64],
    w: u16,
) -> (Vec<&'static str>, Vec<Constraint>, Vec<Row<'static>>) {
    let t = &app.theme;
    // The confidence column appears at 90 columns.
    let conf = w >= 90;
    let mut header = vec!["!", "front", "back", "proxy", "request", "status"];
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(24),
        Constraint::Fill(1),
        Constraint::Length(7),
    ];
    if conf {
        header.push("conf");
        widths.push(Constraint::Length(6));
    }
    header.push("diagnosis");
    widths.push(Constraint::Fill(2));
    let rows = ids
        .iter()
        .filter_map(|id| app.store.hops.get(*id))
        .map(|h| {
            let r = &h.rec;
            let front = app.store.txn(r.front.transaction);
            let request = front
                .and_then(|x| Some((x.method()?, x.target()?)))
                .map_or(String::new(), |(m, q)| {
                    terminal_safe_str(&format!("{m} {q}"))
                });
            // The status the client got; the upstream's first when the proxy changed it.
            let status = match &r.response.status {
                Some(c) => terminal_safe_str(&format!("{}→{}", c.back, c.front)),
                None => front
                    .and_then(|x| x.status)
                    .map_or("—".into(), |x| x.to_string()),
            };
            let sev = h.severity();
            let diagnosis = if r.diagnosis.is_empty() {
                Span::styled("ok", t.dim())
            } else {
                Span::styled(r.diagnosis.join(", "), sev_style(app, sev))
            };
            let mut cells = vec![
                Cell::from(Span::styled(sev_mark(sev), sev_style(app, sev))),
                Cell::from(format!("#{}", r.front.transaction)),
                Cell::from(r.back.map_or("—".into(), |b| format!("#{}", b.transaction))),
                Cell::from(terminal_safe_str(&h.proxy_label())),
                Cell::from(request),
                Cell::from(status),
            ];
            if conf {
                cells.push(Cell::from(r.confidence));
            }
            cells.push(Cell::from(diagnosis));
            Row::new(cells)
        })
        .collect();
    (header, widths, rows)
}
