//! Drawing: functions of `&App` into a frame. Nothing here changes state.
//!
//! The screen: a tab bar, the current view (a list above its detail pane, side by side on
//! wide screens; the Stream view uses the whole body), and a status bar, which the `/` prompt
//! replaces while it is open. Lists draw only their visible rows, so 200k rows cost what 30
//! do. Every string that came from the wire goes through `base::sanitize` first.

mod detail;
mod lists;
pub mod text;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::app::{App, Focus, PromptKind, VIEWS, View};
use super::stream::{LineKind, Shown};

/// Where everything goes, from the screen size alone (the update function uses it for mouse
/// clicks and page sizes).
#[derive(Clone, Copy, Debug, Default)]
pub struct Areas {
    pub tabs: Rect,
    pub list: Rect,
    pub detail: Rect,
    pub stream: Rect,
    pub status: Rect,
}

pub fn areas(app: &App) -> Areas {
    let full = Rect::new(0, 0, app.size.0, app.size.1);
    let [tabs, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(full);
    let (list, detail) = if body.width >= 150 {
        // A column between them: the list's last column (a message's preview, a target) runs
        // to its edge and would read on into the detail's lines.
        let [l, d] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
            .spacing(1)
            .areas(body);
        (l, d)
    } else {
        // Two fifths for the list, at least 5 rows, leaving the detail at least 4.
        let lh = (body.height * 2 / 5)
            .max(5)
            .min(body.height.saturating_sub(4))
            .max(body.height.min(3));
        let [l, d] = Layout::vertical([Constraint::Length(lh), Constraint::Min(0)]).areas(body);
        (l, d)
    };
    Areas {
        tabs,
        list,
        detail,
        stream: body,
        status,
    }
}

/// Draws the whole screen.
pub fn draw(f: &mut Frame<'_>, app: &App) {
    let a = areas(app);
    draw_tabs(f, app, a.tabs);
    if app.view == View::Stream {
        draw_stream(f, app, a.stream);
    } else {
        lists::draw(f, app, a.list);
        draw_detail(f, app, a.detail);
    }
    draw_status(f, app, a.status);
    if app.help {
        draw_help(f, app);
    }
}

fn tab_labels(app: &App) -> Vec<String> {
    let s = &app.store;
    let (e, w) = (s.severity_counts[2], s.severity_counts[1]);
    let long = |v: View| -> String {
        match v {
            View::Transactions => format!("Transactions {}", s.txns.len()),
            View::WebSocket => format!("WebSocket {}", s.convs.len()),
            View::Connections => format!("Connections {}", s.conns.len()),
            View::Hops => format!("Proxy hops {}", s.hops.len()),
            View::Findings if e + w > 0 => format!("Findings ⚠{}", s.findings.len()),
            View::Findings => format!("Findings {}", s.findings.len()),
            View::Stream => "Stream".into(),
        }
    };
    let short = |v: View| -> String {
        match v {
            View::Transactions => format!("Txns {}", s.txns.len()),
            View::WebSocket => format!("WS {}", s.convs.len()),
            View::Connections => format!("Conns {}", s.conns.len()),
            View::Hops => format!("Hops {}", s.hops.len()),
            View::Findings if e + w > 0 => format!("Findings ⚠{}", s.findings.len()),
            View::Findings => format!("Findings {}", s.findings.len()),
            View::Stream => "Stream".into(),
        }
    };
    let longs: Vec<String> = VIEWS
        .iter()
        .enumerate()
        .map(|(i, v)| format!(" {} {} ", i + 1, long(*v)))
        .collect();
    let total: usize = longs.iter().map(|l| text::width(l) + 1).sum();
    if total <= usize::from(app.size.0) {
        longs
    } else {
        VIEWS
            .iter()
            .enumerate()
            .map(|(i, v)| format!(" {} {} ", i + 1, short(*v)))
            .collect()
    }
}

/// The view whose tab is at column `x`.
pub fn tab_at(app: &App, x: u16) -> Option<View> {
    let mut at = 0usize;
    for (i, l) in tab_labels(app).iter().enumerate() {
        let w = text::width(l);
        if usize::from(x) >= at && usize::from(x) < at + w {
            return VIEWS.get(i).copied();
        }
        at += w + 1;
    }
    None
}

fn draw_tabs(f: &mut Frame<'_>, app: &App, area: Rect) {
    let t = &app.theme;
    let mut spans = Vec::new();
    for (i, l) in tab_labels(app).into_iter().enumerate() {
        let style = if VIEWS[i] == app.view {
            t.tab_active()
        } else if VIEWS[i] == View::Findings
            && app.store.severity_counts[1..].iter().any(|c| *c > 0)
        {
            t.severity(crate::model::Severity::Warning)
        } else {
            t.plain()
        };
        spans.push(Span::styled(l, style));
        spans.push(Span::raw("│"));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_detail(f: &mut Frame<'_>, app: &App, area: Rect) {
    let t = &app.theme;
    let focused = app.focus == Focus::Detail;
    let title = detail::title(app);
    let hint = if focused {
        " ↑↓ scroll  / search  n/N next  Esc back "
    } else {
        if matches!(app.view, View::Findings | View::Hops) {
            " → focus "
        } else {
            " Enter: focus "
        }
    };
    let block = Block::new().borders(Borders::TOP).title(Line::from(vec![
        Span::styled(
            format!(" {title} "),
            if focused { t.tab_active() } else { t.title() },
        ),
        Span::styled(hint, t.dim()),
    ]));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let lines = detail_lines(app);
    render_scrolled(f, app, inner, lines);
}

/// Renders `lines` from the detail scroll position, highlighting the search.
fn render_scrolled(f: &mut Frame<'_>, app: &App, area: Rect, lines: Vec<Line<'static>>) {
    let d = &app.detail;
    let h = usize::from(area.height);
    let start = d.scroll.min(lines.len().saturating_sub(1));
    let shown: Vec<Line<'static>> = lines
        .into_iter()
        .enumerate()
        .skip(start)
        .take(h)
        .map(|(i, l)| {
            if !d.search.is_empty() {
                text::highlight(l, &d.search, app.theme.search_hit(), d.hit == Some(i))
            } else {
                l
            }
        })
        .collect();
    f.render_widget(Paragraph::new(shown), area);
}

/// The detail pane's lines for the current selection, wrapped to the pane's width.
pub fn detail_lines(app: &App) -> Vec<Line<'static>> {
    let a = areas(app);
    if app.view == View::Stream {
        return stream_lines(app, a.stream.width);
    }
    let width = a.detail.width.max(10);
    text::wrap(detail::lines(app), width)
}

/// The number of detail lines (for scrolling).
pub fn detail_len(app: &App) -> usize {
    detail_lines(app).len()
}

/// The detail lines as plain text (for searching).
pub fn detail_text(app: &App) -> Vec<String> {
    detail_lines(app).iter().map(text::plain).collect()
}

fn stream_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let t = &app.theme;
    let s = &app.stream;
    let mut out = Vec::new();
    if let Some(u) = &s.unavailable {
        out.push(Line::styled(u.clone(), t.bold()));
        return out;
    }
    if s.conn.is_none() {
        out.push(Line::from(
            "select a transaction, message, connection or finding, then press 6 to follow its connection's bytes",
        ));
        return out;
    }
    if s.loading {
        out.push(Line::from(format!(
            "reading the capture again for connection {}... {:.0}%",
            s.conn.unwrap_or(0),
            s.fraction * 100.0
        )));
        return out;
    }
    for (k, l) in s.shown() {
        let style = match k {
            LineKind::Client => t.client(),
            LineKind::Server => t.server(),
            LineKind::Gap => t.gap(),
            LineKind::Boundary => t.boundary(),
            LineKind::Note => t.bold(),
        };
        out.push(Line::styled(l.clone(), style));
    }
    text::wrap(out, width.max(10))
}

fn draw_stream(f: &mut Frame<'_>, app: &App, area: Rect) {
    let t = &app.theme;
    let title = match app.stream.conn {
        Some(c) => match app.store.conn(c) {
            Some(r) => format!(" Stream of connection {c}: {} → {} ", r.client, r.server),
            None => format!(" Stream of connection {c} "),
        },
        None => " Stream ".into(),
    };
    let mut spans = vec![Span::styled(title, t.title())];
    // Which bytes are shown, when there is more than the bytes as captured: an HTTP/2
    // stream, what TLS decrypted.
    let s = &app.stream;
    if (s.decrypted.is_some() || s.h2_lines.is_some()) && !s.loading {
        let label = match (s.showing(), &s.h2) {
            (Shown::H2Stream, Some(p)) => format!(" HTTP/2 STREAM {} ", p.stream),
            (Shown::Decrypted, _) => " DECRYPTED TLS ".into(),
            (_, _) if s.decrypted.is_some() => " TLS RECORDS ".into(),
            _ => " CONNECTION BYTES ".into(),
        };
        spans.push(Span::styled(label, t.tab_active()));
        spans.push(Span::styled(" d: switch ", t.dim()));
    }
    spans.push(Span::styled(
        " → client  ← server  ↑↓ scroll  / search ",
        t.dim(),
    ));
    let block = Block::new().borders(Borders::TOP).title(Line::from(spans));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let lines = stream_lines(app, inner.width);
    render_scrolled(f, app, inner, lines);
}

fn human_bytes(n: u64) -> String {
    text::size(n)
}

fn draw_status(f: &mut Frame<'_>, app: &App, area: Rect) {
    let t = &app.theme;
    if let Some(p) = &app.prompt {
        let label = match p.kind {
            PromptKind::Filter => "filter /",
            PromptKind::Search => "search /",
        };
        let mut spans = vec![
            Span::styled(label, t.bold()),
            Span::raw(crate::base::sanitize::terminal_safe_str(&p.text)),
            Span::styled("█", t.dim()),
        ];
        match &p.error {
            Some(e) => spans.push(Span::styled(format!("  {e}"), t.error())),
            None if p.kind == PromptKind::Filter => spans.push(Span::styled(
                "  e.g. status:5xx method:POST host:x ws finding:warning conn:12  (? help)",
                t.dim(),
            )),
            None => {}
        }
        f.render_widget(Paragraph::new(Line::from(spans)), area);
        return;
    }
    let p = &app.progress;
    let s = &app.store;
    let mut parts: Vec<Span<'static>> = Vec::new();
    let state = if let Some(e) = &app.failed {
        format!("FAILED: {}", crate::base::sanitize::terminal_safe_str(e))
    } else if app.source.live {
        let mut x = format!("live {:.0}s", p.elapsed);
        if let Some(d) = &app.done {
            x = match &d.error {
                Some(_) => "live: capture stopped".into(),
                None => format!("live ended {:.0}s", p.elapsed),
            };
        }
        x
    } else if let Some(d) = &app.done {
        match &d.error {
            Some(_) => "read stopped early".into(),
            None => "done".into(),
        }
    } else {
        match p.bytes_total {
            Some(tot) if tot > 0 => format!("{:.0}%", p.bytes_done as f64 * 100.0 / tot as f64),
            _ => "reading".into(),
        }
    };
    if app.size.0 >= 110 {
        parts.push(Span::styled(
            format!(
                " {}",
                text::fit(
                    &crate::base::sanitize::terminal_safe_str(&app.source.name),
                    40
                )
            ),
            t.dim(),
        ));
    }
    parts.push(Span::styled(
        format!(" {state} "),
        if app.done.is_none() {
            t.bold()
        } else {
            t.plain()
        },
    ));
    if app.paused {
        parts.push(Span::styled(
            format!(" PAUSED +{} ", app.held),
            t.tab_active(),
        ));
    }
    parts.push(Span::raw(format!(
        "│ {} pkts {} flows ",
        text::count(p.packets),
        p.flows
    )));
    if let Some(d) = &p.dropped {
        let n = d.kernel + d.interface + d.hopscope;
        parts.push(Span::styled(
            format!("│ drops {} ", text::count(n)),
            if n > 0 { t.error() } else { t.plain() },
        ));
    }
    let [i, w, e] = s.severity_counts;
    parts.push(Span::raw("│ "));
    parts.push(Span::styled(
        format!("{e}E "),
        if e > 0 {
            t.severity(crate::model::Severity::Error)
        } else {
            t.dim()
        },
    ));
    parts.push(Span::styled(
        format!("{w}W "),
        if w > 0 {
            t.severity(crate::model::Severity::Warning)
        } else {
            t.dim()
        },
    ));
    parts.push(Span::styled(format!("{i}I "), t.dim()));
    let dropped = s.dropped_rows();
    if dropped > 0 {
        parts.push(Span::styled(
            format!("│ {} rows dropped ", text::count(dropped)),
            t.error(),
        ));
    }
    // The full records could not be written to the spool (a full disk): the rows stay, the
    // details of the newer ones are gone.
    if s.spool.error.is_some() {
        parts.push(Span::styled("│ details not kept: spool failed ", t.error()));
    }
    if let Some(r) = app.rss {
        parts.push(Span::raw(format!("│ mem {} ", human_bytes(r))));
    }
    let right = match &app.note {
        Some(n) => Span::styled(
            format!("│ {}", crate::base::sanitize::terminal_safe_str(n)),
            t.bold(),
        ),
        None => Span::styled("│ ? help  f findings  / filter  q quit", t.dim()),
    };
    parts.push(right);
    f.render_widget(Paragraph::new(Line::from(parts)), area);
}

/// The help screen's lines.
pub fn help_lines() -> Vec<(&'static str, &'static str)> {
    vec![
        ("", "Views"),
        (
            "1 … 6, Tab, Shift-Tab",
            "Transactions, WebSocket, Connections, Proxy hops, Findings, Stream",
        ),
        (
            "f",
            "Findings (sorted by severity); Enter jumps to the transaction/message/connection",
        ),
        (
            "6",
            "Stream: the bytes of the selected row's connection, both directions",
        ),
        ("", "Lists"),
        ("↑ ↓  k j", "move"),
        ("PgUp PgDn  Space  Ctrl-u Ctrl-d", "page, half page"),
        ("g G  Home End", "first, last (G follows new rows)"),
        // Findings and Proxy hops: Enter goes there, l → open the detail (its title says so).
        (
            "Enter  l →",
            "detail pane; WebSocket: messages; Findings, hops: go there",
        ),
        ("Esc  h ←", "back (clears the filter first)"),
        ("s  S", "sort by the next column, reverse the order"),
        ("/", "filter the list (below)"),
        ("", "Detail pane and Stream"),
        ("↑ ↓  PgUp PgDn  g G", "scroll"),
        ("/", "search the pane; n N: next, previous match"),
        (
            "d",
            "Stream: the HTTP/2 stream / the decrypted TLS data / the bytes as captured",
        ),
        ("Esc", "back to the list"),
        ("", "Live capture"),
        ("p", "pause / resume the lists (records are still taken in)"),
        ("w", "save what was captured so far (pcapng)"),
        ("", "Anywhere"),
        ("?  F1", "this help (any key closes it)"),
        ("q  Ctrl-C", "quit"),
        (
            "mouse",
            "wheel scrolls, click selects, a second click opens, click a tab",
        ),
        (
            "",
            "Filter language (all terms must match; -term negates; \"quote spaces\")",
        ),
        ("word", "the row's text contains it (case-insensitive)"),
        (
            "status:404 status:5xx",
            "final status; also status:>=400, status:400-499, status:none",
        ),
        (
            "method:POST  host:example.com",
            "request method; Host header, server or tunnel target",
        ),
        (
            "target:/api  conn:12",
            "request target contains; connection id",
        ),
        (
            "ws  tunnel  upgrade",
            "WebSocket; CONNECT/SOCKS tunnels; any Upgrade",
        ),
        (
            "finding  finding:warning",
            "has a finding (at least that severity: error, warning, info)",
        ),
        (
            "finding:ws.upgrade-refused",
            "has a finding whose code starts with it",
        ),
        (
            "dir:client  opcode:text",
            "WebSocket messages by sender, by opcode",
        ),
        ("len:>10k", "message or body length (k, M)"),
    ]
}

fn draw_help(f: &mut Frame<'_>, app: &App) {
    let t = &app.theme;
    let full = Rect::new(0, 0, app.size.0, app.size.1);
    let w = full.width.min(100);
    let h = full.height.saturating_sub(2).max(3);
    let area = Rect::new((full.width - w) / 2, 1.min(full.height), w, h).intersection(full);
    f.render_widget(Clear, area);
    let block = Block::new().borders(Borders::ALL).title(Line::styled(
        " hopscope keys (↑↓ scroll, any other key closes) ",
        t.title(),
    ));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let key_w = 33usize;
    let desc_w = inner.width.saturating_sub(key_w as u16 + 2).max(10);
    let mut lines: Vec<Line<'static>> = Vec::new();
    for (k, d) in help_lines() {
        if k.is_empty() {
            lines.push(Line::styled(d.to_string(), t.header()));
            continue;
        }
        for (i, part) in text::wrap(vec![Line::from(d.to_string())], desc_w)
            .into_iter()
            .enumerate()
        {
            let key = if i == 0 { k } else { "" };
            let mut spans = vec![Span::styled(format!("  {key:<key_w$}"), t.bold())];
            spans.extend(part.spans);
            lines.push(Line::from(spans));
        }
    }
    let start = app.help_scroll.min(lines.len().saturating_sub(1));
    let shown: Vec<Line<'static>> = lines.into_iter().skip(start).collect();
    f.render_widget(Paragraph::new(shown), inner);
}
