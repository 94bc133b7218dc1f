//! The terminal UI, driven like a user would: scripted key, mouse and record events into the
//! pure update function, state asserted, and whole screens rendered with ratatui's
//! `TestBackend` and compared to committed snapshots (tests/it/snapshots/, review changes with
//! `cargo insta review` or `INSTA_UPDATE=always cargo test --test it tui::`).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use hopscope::capture::file::FileSource;
use hopscope::cli::AnalysisArgs;
use hopscope::engine::EngineConfig;
use hopscope::model::{CaptureSummary, Dir, Record};
use hopscope::pipeline::{CaptureClock, Pipeline};
use hopscope::tui::app::{Action, App, Done, Event, Focus, Source, View};
use hopscope::tui::store::Store;
use hopscope::tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// The records of a bundled sample, analysed as the UI's worker configures it.
fn records(sample: &str) -> Vec<Record> {
    records_with(sample, &AnalysisArgs::default())
}

/// The same, with the analysis options the UI was opened with (`--tls-keylog`).
fn records_with(sample: &str, args: &AnalysisArgs) -> Vec<Record> {
    records_at(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples")
            .join(sample),
        args,
    )
}

/// The records of any capture file, as the UI's worker analyses it.
fn records_at(path: &Path, args: &AnalysisArgs) -> Vec<Record> {
    let mut src = FileSource::open(path).expect("open capture");
    // The one pipeline the worker runs: proxy legs correlated, then the semantics step.
    let mut pipeline = Pipeline::new(
        EngineConfig::default(),
        hopscope::tui::analyzer_config(args),
        Vec::new(),
    );
    let end = pipeline.run(&mut src, &CaptureClock);
    assert!(end.capture_error.is_none(), "read sample");
    assert!(end.summary.semantics.is_some(), "the semantics step ran");
    pipeline.into_sink()
}

fn done() -> Event {
    Event::Done(Done {
        summary: Box::new(CaptureSummary::default()),
        error: None,
    })
}

fn app_with(records: Vec<Record>, w: u16, h: u16) -> App {
    let mut app = App::new(
        Source {
            name: "test.pcap".into(),
            live: false,
        },
        Store::default(),
        Theme { color: false },
        (w, h),
    );
    app.update(Event::Records(records));
    app.update(done());
    app
}

fn open(sample: &str) -> App {
    app_with(records(sample), 100, 30)
}

fn key(app: &mut App, code: KeyCode) -> Action {
    app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn keys(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn screen(app: &App) -> String {
    let mut t = Terminal::new(TestBackend::new(app.size.0, app.size.1)).expect("terminal");
    t.draw(|f| hopscope::tui::views::draw(f, app))
        .expect("draw");
    t.backend().to_string()
}

/// Every character on the screen.
fn cells(app: &App) -> Vec<String> {
    let mut t = Terminal::new(TestBackend::new(app.size.0, app.size.1)).expect("terminal");
    t.draw(|f| hopscope::tui::views::draw(f, app))
        .expect("draw");
    t.backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol().to_string())
        .collect()
}

/// The selected transaction's full record (read back from the UI's spool).
fn selected_txn(app: &App) -> Option<hopscope::model::TransactionRecord> {
    let id = app.txns.selected()?;
    app.store.txn_full(id).ok().map(|f| f.rec.clone())
}

/// Every transaction row with its full record.
fn txn_records(app: &App) -> Vec<(u64, hopscope::model::TransactionRecord)> {
    app.store
        .txns
        .iter()
        .map(|(row, _)| (row, app.store.txn_full(row).expect("spooled").rec.clone()))
        .collect()
}

/// Reads a connection's stream the way the Stream view does, synchronously.
fn stream_event(sample: &str, conn: u64) -> Event {
    stream_event_with(sample, conn, &AnalysisArgs::default())
}

/// The same, with the analysis the UI was opened with (its key logs).
fn stream_event_with(sample: &str, conn: u64, args: &AnalysisArgs) -> Event {
    stream_event_at(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples")
            .join(sample),
        conn,
        args,
    )
}

/// The Stream view's pass over any capture file.
fn stream_event_at(path: &Path, conn: u64, args: &AnalysisArgs) -> Event {
    let (tx, rx) = mpsc::sync_channel(64);
    hopscope::tui::worker::load_stream(
        vec![hopscope::capture::merge::InputFile::new(path)],
        conn,
        EngineConfig::default(),
        hopscope::tui::analyzer_config(args),
        tx,
        Arc::new(AtomicBool::new(false)),
    );
    rx.try_iter()
        .find(|e| matches!(e, Event::Stream(_)))
        .expect("a stream event")
}

// ───────────────────────────── snapshots ─────────────────────────────

#[test]
fn snapshot_transactions_ok() {
    let app = open("websocket-nginx-ok.pcap");
    insta::assert_snapshot!("transactions_nginx_ok", screen(&app));
}

#[test]
fn snapshot_transactions_broken_80x24() {
    let mut app = open("websocket-nginx-broken.pcap");
    app.update(Event::Resize(80, 24));
    insta::assert_snapshot!("transactions_nginx_broken_80x24", screen(&app));
}

#[test]
fn snapshot_transactions_broken_wide() {
    let mut app = open("websocket-nginx-broken.pcap");
    app.update(Event::Resize(180, 40));
    insta::assert_snapshot!("transactions_nginx_broken_180x40", screen(&app));
}

#[test]
fn snapshot_websocket_conversations_and_messages() {
    let mut app = open("websocket-nginx-ok.pcap");
    keys(&mut app, "2");
    insta::assert_snapshot!("websocket_conversations", screen(&app));
    key(&mut app, KeyCode::Enter);
    keys(&mut app, "jjj");
    insta::assert_snapshot!("websocket_messages", screen(&app));
    keys(&mut app, "jjjj");
    assert_eq!(
        app.msgs
            .as_ref()
            .and_then(|m| m.selected())
            .and_then(|id| app.store.msgs.get(id))
            .map(|m| m.opcode),
        Some("pong")
    );
    insta::assert_snapshot!("websocket_pong", screen(&app));
    keys(&mut app, "kkk");
    let s = screen(&app);
    assert!(
        s.contains("00000000  00 01 02 03"),
        "binary messages as hex: {s}"
    );
    insta::assert_snapshot!("websocket_binary_hex", s);
}

#[test]
fn snapshot_connections_and_tunnels() {
    let mut app = open("connect-tls.pcap");
    keys(&mut app, "3");
    insta::assert_snapshot!("connections_connect_tls", screen(&app));
}

/// A hop made by hand with every field the view draws; `name` and `value` go into every
/// string a capture controls.
fn hand_hop(id: u64, front: u64, back: u64, name: &str, value: &str) -> Record {
    use hopscope::model::hops::*;
    let ep = |port| hopscope::model::Endpoint {
        ip: std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)),
        port,
    };
    let change = |judgement, front: Option<&str>, back: Option<&str>| HeaderChange {
        name: name.into(),
        front: front.map(String::from),
        back: back.map(String::from),
        judgement,
    };
    let ch = || Change {
        front: value.into(),
        back: format!("{value}2"),
    };
    Record::ProxyHop(Box::new(ProxyHopRecord {
        id,
        front: Leg {
            connection: 0,
            transaction: front,
        },
        back: Some(Leg {
            connection: 1,
            transaction: back,
        }),
        client: ep(1),
        proxy: ProxyInfo {
            address: ep(8081),
            back_address: None,
            product: Some(value.into()),
            product_from: Some(value.into()),
        },
        upstream: Some(ep(8768)),
        evidence: vec![value.into()],
        confidence: "medium",
        score: 7,
        request: MessageDiff {
            headers_removed: vec![change("end-to-end-dropped", Some(value), None)],
            headers_added: vec![change("proxy-added", None, Some(value))],
            headers_changed: vec![change("host-rewritten", Some(value), Some(value))],
            hop_by_hop_forwarded: vec![change("hop-by-hop-forwarded", Some(value), Some(value))],
            version: Some(ch()),
            target: Some(ch()),
            status: None,
            framing: Some(ch()),
            body_length: None,
        },
        response: MessageDiff {
            // A response travels upstream leg → client leg: what the client did not get.
            headers_removed: vec![change("hop-by-hop-stripped", None, Some(value))],
            status: Some(ch()),
            ..MessageDiff::default()
        },
        next_hop: Some(7),
        relay: Some(Relay {
            front_websocket: Some(0),
            back_websocket: Some(1),
            to_server: [3, 2],
            to_client: [4, 4],
            bytes_to_server: [30, 20],
            bytes_to_client: [40, 40],
            frames_to_server: [3, 2],
            frames_to_client: [4, 4],
            one_to_one: false,
            frames_one_to_one: false,
        }),
        diagnosis: vec!["proxy.hop-by-hop-forwarded", "proxy.websocket-not-relayed"],
    }))
}

/// Text without whitespace: a sentence wrapped anywhere on screen still matches.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '"')
        .collect()
}

/// The selected hop.
fn selected_hop(app: &App) -> &hopscope::tui::hops::HopRow {
    app.hops
        .selected()
        .and_then(|id| app.store.hops.get(id))
        .expect("a hop is selected")
}

#[test]
fn snapshot_proxy_hops_empty_and_filled() {
    let mut app = open("http-keepalive.pcap");
    keys(&mut app, "4");
    let s = screen(&app);
    assert!(s.contains("no proxy hops found"), "{s}");
    insta::assert_snapshot!("hops_empty", s);

    // Every field the view draws, from a hand-made hop after the real one of nginx-broken.
    let mut app = open("websocket-nginx-broken.pcap");
    keys(&mut app, "4");
    assert_eq!(app.hops.rows.len(), 1, "one hop through nginx");
    let f = hopscope::model::Finding::new(
        &hopscope::model::codes::PROXY_HOP_BY_HOP_FORWARDED,
        "Keep-Alive reached the upstream (hand-made)",
    )
    .conn(0)
    .txn(0);
    app.update(Event::Records(vec![
        Record::Finding(Box::new(f)),
        hand_hop(9, 0, 1, "x-hand", "made"),
    ]));
    key(&mut app, KeyCode::Down);
    let h = selected_hop(&app);
    assert_eq!(h.rec.id, 9);
    assert_eq!(
        h.findings.len(),
        1,
        "the hop keeps the finding that came with it"
    );
    let list = screen(&app);
    assert!(list.contains("10.0.0.1:8081 made"), "{list}");
    let s = hopscope::tui::views::detail_text(&app).join("\n");
    for want in [
        "next hop",
        "= x-hand: made  ⟵ hop-by-hop-forwarded: WRONG",
        "- x-hand: made  ⟵ end-to-end-dropped: WRONG",
        "NOT relayed one to one",
        "version: made → made2",
        "status: made2 → made",
        "- x-hand: made  ⟵ hop-by-hop-stripped",
        "Keep-Alive reached the upstream (hand-made)",
        "confidence medium (score 7)",
    ] {
        assert!(s.contains(want), "{want}: {s}");
    }
    insta::assert_snapshot!("hops_filled", s);
}

#[test]
fn snapshot_proxy_hops_nginx_http11_no_upgrade() {
    // nginx with proxy_http_version 1.1 but no Upgrade/Connection forwarding: the backend
    // answers 426, which nginx passes on.
    let mut app = open("websocket-nginx-http11-no-upgrade.pcap");
    keys(&mut app, "4");
    assert_eq!(app.hops.rows.len(), 1);
    let h = selected_hop(&app);
    assert_eq!(h.rec.front.transaction, 0);
    assert_eq!(h.rec.back.map(|b| b.transaction), Some(1));
    assert_eq!(h.rec.proxy.product.as_deref(), Some("nginx"));
    assert_eq!(h.rec.diagnosis, ["proxy.upgrade-dropped"]);
    let up = h
        .rec
        .request
        .headers_removed
        .iter()
        .find(|c| c.name == "upgrade")
        .expect("Upgrade removed");
    assert_eq!(up.judgement, "hop-by-hop-stripped");
    let s = screen(&app);
    for want in [
        "127.0.0.1:8081 nginx",
        "GET /echo",
        "proxy.upgrade-dropped",
        "client leg",
        "upstream leg",
    ] {
        assert!(s.contains(want), "{want}: {s}");
    }
    insta::assert_snapshot!("hops_nginx_http11_no_upgrade", s);
    // The whole detail, scrolled: the diff with judgements, both legs' heads, the evidence.
    let all = hopscope::tui::views::detail_text(&app).join("\n");
    for want in [
        "- upgrade: websocket",
        "hop-by-hop-stripped",
        "~ host: 127.0.0.1:8081 → 127.0.0.1:8774",
        "host-rewritten",
        "Response: upstream leg → client leg",
        "hop-by-hop-forwarded",
        "same Sec-WebSocket-Key (+8)",
        "confidence high",
        "426",
    ] {
        assert!(all.contains(want), "{want}: {all}");
    }
    insta::assert_snapshot!("hops_nginx_http11_no_upgrade_detail", all);
    // → opens the detail to scroll it (Enter jumps to the client leg instead).
    key(&mut app, KeyCode::Right);
    assert_eq!(app.focus, Focus::Detail);
    assert_eq!(app.view, View::Hops);
    key(&mut app, KeyCode::PageDown);
    assert!(app.detail.scroll > 0);
    assert!(screen(&app).contains("Why these legs are paired"));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.focus, Focus::List);
}

#[test]
fn snapshot_proxy_hops_connect_tinyproxy() {
    // A WebSocket inside a CONNECT tunnel, and a forward-proxied GET, through one tinyproxy.
    let mut app = open("websocket-connect-tinyproxy.pcap");
    keys(&mut app, "4");
    assert_eq!(app.hops.rows.len(), 2);
    let h = selected_hop(&app);
    assert_eq!(h.rec.proxy.product.as_deref(), Some("tinyproxy"));
    let relay = h
        .rec
        .relay
        .as_ref()
        .expect("the tunnelled upgrade has a relay check");
    assert!(relay.one_to_one && relay.frames_one_to_one, "{relay:?}");
    assert_eq!(relay.to_server, [5, 5]);
    assert!(h.rec.diagnosis.is_empty());
    let all = hopscope::tui::views::detail_text(&app).join("\n");
    for want in [
        "WebSocket relay",
        "5 / 5 messages",
        "10 / 10 frames",
        "relayed one to one",
        "nothing broken",
        "relayed through a tunnel",
    ] {
        assert!(all.contains(want), "{want}: {all}");
    }
    insta::assert_snapshot!("hops_connect_tinyproxy_ws", all);
    key(&mut app, KeyCode::Down);
    let h = selected_hop(&app);
    assert_eq!(
        h.rec.request.target.as_ref().map(|c| c.back.as_str()),
        Some("/forward/x")
    );
    let all = hopscope::tui::views::detail_text(&app).join("\n");
    for want in [
        "target: http://127.0.0.1:8782/forward/x → /forward/x",
        "- proxy-connection: Keep-Alive",
        "+ via: 1.1 hopscope-connect (tinyproxy/1.11.1)",
        "proxy-added",
    ] {
        assert!(all.contains(want), "{want}: {all}");
    }
    insta::assert_snapshot!("hops_connect_tinyproxy", screen(&app));
}

#[test]
fn proxy_chain_hops_link_and_enter_jumps_to_the_client_leg() {
    // curl -> tinyproxy -> nginx -> backend, twice: four hops, each tinyproxy hop's upstream
    // leg is an nginx hop's client leg.
    let mut app = open("http-proxy-chain.pcap");
    keys(&mut app, "4");
    assert_eq!(app.hops.rows.len(), 4);
    insta::assert_snapshot!("hops_proxy_chain", screen(&app));
    let rows: Vec<_> = app
        .hops
        .rows
        .iter()
        .filter_map(|id| app.store.hops.get(*id))
        .map(|h| (h.rec.id, h.rec.front.transaction, h.rec.next_hop))
        .collect();
    assert_eq!(
        rows,
        [(0, 1, None), (1, 0, Some(0)), (2, 4, None), (3, 3, Some(2))]
    );
    // The tinyproxy hop names its next hop.
    key(&mut app, KeyCode::Down);
    let s = screen(&app);
    assert!(s.contains("next hop: hop#0"), "{s}");
    // Enter: the client leg's transaction, whose detail names both hops it is a leg of.
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view, View::Transactions);
    assert_eq!(selected_txn(&app).map(|t| t.id), Some(0));
    assert!(app.note.as_deref().is_some_and(|n| n.contains("hop#1")));
    // The middle transaction is the upstream leg of one hop and the client leg of the other.
    key(&mut app, KeyCode::Down);
    assert_eq!(selected_txn(&app).map(|t| t.id), Some(1));
    let d = hopscope::tui::views::detail_text(&app).join("\n");
    assert!(
        d.contains("client leg of hop#0 through 127.0.0.1:8085 nginx"),
        "{d}"
    );
    assert!(
        d.contains("upstream leg of hop#1 through 127.0.0.1:8889 tinyproxy"),
        "{d}"
    );
    // The hops filter: by proxy product and by finding-free hops.
    keys(&mut app, "4/");
    for c in "nginx".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.hops.rows.len(), 2);
}

#[test]
fn why_the_upgrade_failed_is_on_the_first_screen_and_one_key_away() {
    // nginx forwarded the WebSocket upgrade without Upgrade/Connection; the fix is nginx's.
    let fix = "proxy_set_header Upgrade $http_upgrade;";
    let first = open("websocket-nginx-http11-no-upgrade.pcap");
    assert_eq!(first.view, View::Transactions);
    let s = screen(&first);
    assert!(s.contains("426"), "{s}");
    assert!(s.contains("proxy hop: client leg of hop#0"), "{s}");
    // The selected transaction's findings, the worst first: the diagnosis and its fix are
    // already on the first screen.
    assert!(s.contains("✖ error proxy.upgrade-dropped"), "{s}");
    assert!(
        squash(&s).contains(&squash(fix)),
        "the fix is on the first screen: {s}"
    );

    // 5: the findings, worst first: the proxy's dropped upgrade, with the fix on screen.
    let mut app = open("websocket-nginx-http11-no-upgrade.pcap");
    keys(&mut app, "5");
    let f = app
        .findings
        .selected()
        .and_then(|id| app.store.findings.get(id))
        .expect("a finding is selected");
    assert_eq!(f.code.name, "proxy.upgrade-dropped");
    assert!(f.message.contains(fix), "{}", f.message);
    let s = screen(&app);
    assert!(
        squash(&s).contains(&squash(&f.message)),
        "the whole message is on screen: {s}"
    );

    // 4: the hop, with the same diagnosis and fix on screen.
    let mut app = open("websocket-nginx-http11-no-upgrade.pcap");
    keys(&mut app, "4");
    assert_eq!(app.view, View::Hops);
    let s = screen(&app);
    assert!(s.contains("proxy.upgrade-dropped"), "{s}");
    assert!(
        squash(&s).contains(&squash(fix)),
        "the fix is on screen: {s}"
    );
    // Enter: the client leg's transaction, the 426 the client got.
    key(&mut app, KeyCode::Enter);
    let t = selected_txn(&app).expect("a transaction");
    assert_eq!(t.id, 0);
    assert_eq!(t.response.as_ref().map(|r| r.status), Some(426));
}

/// The Semantics section of the selected transaction's detail, one string per line.
fn semantics_section(app: &App) -> Vec<String> {
    let d = hopscope::tui::views::detail_text(app);
    d.iter()
        .skip_while(|l| !l.starts_with("── Semantics"))
        .skip(1)
        .take_while(|l| !l.starts_with("── "))
        .cloned()
        .collect()
}

/// Selects each transaction in turn and returns (id, its Semantics section).
fn semantics_of_every_txn(app: &mut App) -> Vec<(u64, Vec<String>)> {
    keys(app, "1");
    key(app, KeyCode::Home);
    let mut out = Vec::new();
    for _ in 0..app.txns.rows.len() {
        let id = selected_txn(app).expect("a transaction").id;
        out.push((id, semantics_section(app)));
        key(app, KeyCode::Down);
    }
    out
}

/// Every concern the step found for a transaction has its line in the detail, with the text
/// `--format text` prints; a transaction without semantics has no section.
fn assert_semantics_shown(sample: &str) -> Vec<(u64, Vec<String>)> {
    let mut app = open(sample);
    let shown = semantics_of_every_txn(&mut app);
    assert!(!shown.is_empty());
    for (id, section) in &shown {
        let row = app.store.txn_row(*id).expect("kept");
        let want: Vec<String> = app.store.txn_full(row).expect("spooled").semantics.clone();
        assert_eq!(section.is_empty(), want.is_empty(), "#{id}: {section:?}");
        let got = squash(&section.join(" "));
        for w in &want {
            assert!(got.contains(&squash(w)), "#{id}: {w} not in {section:?}");
        }
        // One line (maybe wrapped) per concern, named.
        let heads: Vec<&str> = section
            .iter()
            .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
            .filter_map(|l| l.trim_start().split_once(':').map(|x| x.0))
            .collect();
        let names: Vec<&str> = want
            .iter()
            .filter_map(|l| l.trim_start().split_once(':').map(|x| x.0))
            .collect();
        assert_eq!(heads, names, "#{id}: {section:?}");
    }
    shown
}

fn concern(shown: &[(u64, Vec<String>)], id: u64, name: &str) -> String {
    let s = &shown
        .iter()
        .find(|(i, _)| *i == id)
        .expect("that transaction")
        .1;
    let mut out = String::new();
    let mut on = false;
    for l in s {
        if l.starts_with("  ") && !l.starts_with("   ") {
            on = l.trim_start().starts_with(&format!("{name}:"));
        }
        if on {
            out.push_str(l);
            out.push(' ');
        }
    }
    // Wrapped lines joined back: one space wherever the pane broke a line.
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn transaction_detail_shows_cache_and_range_semantics() {
    let shown = assert_semantics_shown("http-cache-range.pcap");
    // The revalidation of #0 by ETag: a 304 that matches.
    let c = concern(&shown, 1, "cache");
    assert!(
        c.contains("validator of #0") && c.contains("304 matches"),
        "{c}"
    );
    // Two ranges in one multipart/byteranges 206; a resumed download put together.
    let r = concern(&shown, 6, "range");
    assert!(r.contains("bytes=0-9,20-29 -> multipart"), "{r}");
    let r = concern(&shown, 10, "range");
    assert!(
        squash(&r).contains(&squash("object 4000/4000 B from #9,#10 (complete)")),
        "{r}"
    );
    assert!(concern(&shown, 7, "range").contains("unsatisfiable"));
    // The 404 has nothing to say.
    assert!(shown.iter().any(|(i, s)| *i == 4 && s.is_empty()));
    let mut app = open("http-cache-range.pcap");
    key(&mut app, KeyCode::Home);
    for _ in 0..6 {
        key(&mut app, KeyCode::Down);
    }
    assert_eq!(selected_txn(&app).map(|t| t.id), Some(6));
    let top = hopscope::tui::views::detail_text(&app)[..16].join("\n");
    insta::assert_snapshot!("semantics_multipart_range", top);
}

#[test]
fn transaction_detail_shows_cookie_auth_and_redirect_semantics_masked() {
    let shown = assert_semantics_shown("http-cookies-auth-redirect.pcap");
    let c = concern(&shown, 0, "cookies");
    assert!(c.contains("rejected __Host-bad"), "{c}");
    let c = concern(&shown, 1, "cookies");
    assert!(c.contains("not sent adminonly"), "{c}");
    let a = concern(&shown, 3, "auth");
    assert!(
        a.contains("challenge Basic") && a.contains("challenged"),
        "{a}"
    );
    let a = concern(&shown, 4, "auth");
    assert!(a.contains("answering #3; accepted"), "{a}");
    let r = concern(&shown, 14, "redirect");
    assert!(r.contains("LOOP"), "{r}");
    // The cookie values, from the capture's own bytes: none is shown whole, anywhere a cookie
    // is (the semantics lines and the Cookie / Set-Cookie header lines).
    let raw = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/http-cookies-auth-redirect.pcap"),
    )
    .expect("sample");
    let mut secrets = Vec::new();
    for w in raw
        .windows(12)
        .enumerate()
        .filter(|(_, w)| *w == b"Set-Cookie: ")
    {
        let rest = &raw[w.0 + 12..];
        let end = rest
            .iter()
            .position(|b| *b == b';' || *b == b'\r')
            .unwrap_or(0);
        if let Some((_, v)) = std::str::from_utf8(&rest[..end])
            .ok()
            .and_then(|kv| kv.split_once('='))
            && v.len() >= 5
        {
            secrets.push(v.to_string());
        }
    }
    assert!(secrets.contains(&"4f2c9a1b7e".to_string()), "{secrets:?}");
    let mut app = open("http-cookies-auth-redirect.pcap");
    key(&mut app, KeyCode::Home);
    for _ in 0..app.txns.rows.len() {
        let d = hopscope::tui::views::detail_text(&app);
        let mut in_sem = false;
        for l in &d {
            if l.starts_with("── ") {
                in_sem = l.starts_with("── Semantics");
            }
            // Body previews are content, not cookie headers: /cookies/check echoes the cookies
            // it got in its body, and the report's preview shows the same bytes.
            let body = l.starts_with("  │");
            if !body && (in_sem || l.to_ascii_lowercase().contains("cookie")) {
                for v in &secrets {
                    assert!(!l.contains(v.as_str()), "cookie value {v} unmasked: {l}");
                }
            }
        }
        key(&mut app, KeyCode::Down);
    }
}

#[test]
fn transaction_detail_shows_cors_decisions() {
    let shown = assert_semantics_shown("browser-cors.pcap");
    let c = concern(&shown, 1, "cors");
    assert!(
        c.contains("preflight from http://127.0.0.1:8002") && c.contains("ALLOWED"),
        "{c}"
    );
    let c = concern(&shown, 2, "cors");
    assert!(c.contains("after preflight #1: ALLOWED"), "{c}");
    let c = concern(&shown, 4, "cors");
    assert!(
        c.contains("BLOCKED") && squash(&c).contains(&squash("x-hopscope is not allowed")),
        "{c}"
    );
    assert!(concern(&shown, 5, "cors").contains("with credentials"));
    assert!(shown.iter().any(|(i, s)| *i == 0 && s.is_empty()));
}

#[test]
fn the_worker_sends_hops_and_semantics() {
    // The thread the UI starts, on its channel: the same records the tests above build.
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples/websocket-nginx-http11-no-upgrade.pcap");
    let (tx, rx) = mpsc::sync_channel(64);
    hopscope::tui::worker::analyse_file(
        vec![hopscope::capture::merge::InputFile::new(&path)],
        EngineConfig::default(),
        hopscope::tui::analyzer_config(&AnalysisArgs::default()),
        tx,
        Arc::new(AtomicBool::new(false)),
    );
    let mut recs = Vec::new();
    let mut done = None;
    for ev in rx.try_iter() {
        match ev {
            Event::Records(r) => recs.extend(r),
            Event::Done(d) => done = Some(d),
            _ => {}
        }
    }
    let done = done.expect("the worker says it is done");
    assert!(done.summary.semantics.is_some(), "the semantics step ran");
    let hops: Vec<_> = recs
        .iter()
        .filter_map(|r| match r {
            Record::ProxyHop(h) => Some(h),
            _ => None,
        })
        .collect();
    assert_eq!(hops.len(), 1);
    assert_eq!(hops[0].diagnosis, ["proxy.upgrade-dropped"]);
    let findings: Vec<&str> = recs
        .iter()
        .filter_map(|r| match r {
            Record::Finding(f) => Some(f.code.name),
            _ => None,
        })
        .collect();
    assert!(findings.contains(&"proxy.upgrade-dropped"), "{findings:?}");
    // The same as the tests' pipeline, record for record.
    let kinds = |v: &[Record]| -> Vec<String> {
        v.iter()
            .map(|r| serde_json::to_string(r).expect("json"))
            .collect()
    };
    assert_eq!(
        kinds(&recs),
        kinds(&records("websocket-nginx-http11-no-upgrade.pcap"))
    );
}

#[test]
fn snapshot_findings_and_stream() {
    let mut app = open("websocket-nginx-broken.pcap");
    keys(&mut app, "5");
    insta::assert_snapshot!("findings_nginx_broken", screen(&app));
    keys(&mut app, "1");
    let act = key(&mut app, KeyCode::Char('6'));
    assert_eq!(act, Action::LoadStream(0));
    let s = screen(&app);
    assert!(s.contains("reading the capture again"), "{s}");
    app.update(stream_event("websocket-nginx-broken.pcap", 0));
    insta::assert_snapshot!("stream_nginx_broken", screen(&app));
}

/// `--tls-keylog samples/KEYS` (relative: the key source is named in the screens; tests run
/// in the package's directory).
fn keylog(keys: &str) -> AnalysisArgs {
    AnalysisArgs {
        tls_keylog: vec![Path::new("samples").join(keys)],
        ..AnalysisArgs::default()
    }
}

#[test]
fn snapshot_connections_tls_decrypted() {
    let args = keylog("tls13-curl-nginx.keys");
    let mut app = app_with(records_with("tls13-curl-nginx.pcap", &args), 100, 44);
    keys(&mut app, "3");
    insta::assert_snapshot!("connections_tls13_decrypted", screen(&app));
}

#[test]
fn snapshot_transactions_over_tls() {
    let args = keylog("tls13-curl-nginx.keys");
    let app = app_with(records_with("tls13-curl-nginx.pcap", &args), 100, 30);
    insta::assert_snapshot!("transactions_tls13_decrypted", screen(&app));
}

#[test]
fn snapshot_stream_tls_decrypted() {
    let args = keylog("tls13-curl-nginx.keys");
    let mut app = app_with(records_with("tls13-curl-nginx.pcap", &args), 100, 30);
    keys(&mut app, "3");
    assert_eq!(key(&mut app, KeyCode::Char('6')), Action::LoadStream(0));
    app.update(stream_event_with("tls13-curl-nginx.pcap", 0, &args));
    insta::assert_snapshot!("stream_tls13_decrypted", screen(&app));
    keys(&mut app, "d");
    insta::assert_snapshot!("stream_tls13_records", screen(&app));
}

/// The decrypted bytes the Stream view shows are what the client traced in the clear: the
/// facts' `details.tls_connections[].plaintext` (sizes and SHA-256 of each direction, from
/// `curl --trace`), for every connection of the TLS samples that have them: TLS 1.3 and 1.2,
/// keys in a file or in the capture, TLS through a CONNECT and a SOCKS5 proxy (the tunnel's
/// leg and the proxy's upstream leg carry the same plaintext).
#[test]
fn the_stream_view_decrypts_what_the_client_sent_and_received() {
    use sha2::{Digest, Sha256};
    let facts: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("samples/expected.json").expect("expected.json"),
    )
    .expect("json");
    let mut checked = 0;
    for capture in facts["captures"].as_array().into_iter().flatten() {
        let file = capture["file"].as_str().unwrap_or_default();
        let details = &capture["details"];
        let conns = details["tls_connections"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !conns
            .iter()
            .any(|c| c["plaintext"]["client_sha256"].is_string())
        {
            continue;
        }
        let stem = file.trim_end_matches(".pcapng").trim_end_matches(".pcap");
        let args = if Path::new(&format!("samples/{stem}.keys")).exists() {
            keylog(&format!("{stem}.keys"))
        } else {
            AnalysisArgs::default()
        };
        let records = records_with(file, &args);
        for c in &conns {
            let plain = &c["plaintext"];
            if !plain["client_sha256"].is_string() {
                continue;
            }
            let client = c["client"].as_str().unwrap_or_default();
            let id = records
                .iter()
                .find_map(|r| match r {
                    Record::Connection(x) if x.client.to_string() == client => Some(x.id),
                    _ => None,
                })
                .unwrap_or_else(|| panic!("{file}: no connection from {client}"));
            let Event::Stream(data) = stream_event_with(file, id, &args) else {
                panic!("not a stream event");
            };
            let inner = data
                .decrypted
                .as_ref()
                .unwrap_or_else(|| panic!("{file} {client}: not decrypted"));
            assert_eq!(inner.bytes.cut, [0, 0]);
            for (dir, key) in [
                (Dir::ClientToServer, "client"),
                (Dir::ServerToClient, "server"),
            ] {
                let mut bytes = Vec::new();
                for p in &inner.bytes.pieces {
                    match p {
                        hopscope::tui::stream::Piece::Data {
                            dir: d,
                            offset,
                            bytes: b,
                        } if *d == dir => {
                            assert_eq!(*offset, bytes.len() as u64, "{file} {client} {key}");
                            bytes.extend_from_slice(b);
                        }
                        hopscope::tui::stream::Piece::Gap { dir: d, .. } if *d == dir => {
                            panic!("{file} {client} {key}: a gap")
                        }
                        _ => {}
                    }
                }
                assert_eq!(
                    bytes.len() as u64,
                    plain[format!("{key}_bytes")].as_u64().unwrap_or(0),
                    "{file} {client} {key}"
                );
                let sha: String = Sha256::digest(&bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                assert_eq!(
                    sha,
                    plain[format!("{key}_sha256")].as_str().unwrap_or(""),
                    "{file} {client} {key}"
                );
            }
            // Every request the client sent inside TLS starts where the view marks it.
            let requests = inner.starts.iter().filter(|s| s.kind == "request").count();
            let want = details["tls_transactions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|t| t["client"] == client)
                .count();
            assert_eq!(requests, want, "{file} {client}: request starts");
            checked += 1;
        }
    }
    assert!(checked >= 20, "connections checked: {checked}");
}

/// A packet lost inside TLS: the Stream view shows what was decrypted before it, and says where
/// decryption stopped and why.
#[test]
fn the_stream_view_says_where_decryption_stopped() {
    use std::io::Write;
    // tls13-curl-nginx.pcap without one of the server's full-size segments of connection 0
    // (inside the 100 kB body of /big.txt): the client's ACK says it existed, a gap.
    let pcap = std::fs::read("samples/tls13-curl-nginx.pcap").expect("sample");
    let (head, mut at) = (&pcap[..24], 24);
    let mut kept = head.to_vec();
    let mut server_full = 0;
    let mut dropped = false;
    while at + 16 <= pcap.len() {
        let len = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().expect("4")) as usize;
        let rec = &pcap[at..at + 16 + len];
        let p = &rec[16..];
        // Ethernet, IPv4 (header length), TCP: source port and payload length.
        let ihl = usize::from(p[14] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([p[16], p[17]]));
        let tcp = &p[14 + ihl..];
        let sport = u16::from_be_bytes([tcp[0], tcp[1]]);
        let dport = u16::from_be_bytes([tcp[2], tcp[3]]);
        let payload = total - ihl - usize::from(tcp[12] >> 4) * 4;
        if sport == 8443 && dport == 40301 && payload > 1000 {
            server_full += 1;
        }
        if server_full == 20 && !dropped {
            dropped = true;
        } else {
            kept.extend_from_slice(rec);
        }
        at += 16 + len;
    }
    assert!(dropped);
    let mut f = tempfile::NamedTempFile::new().expect("tempfile");
    f.write_all(&kept).expect("write");
    f.flush().expect("flush");
    let args = keylog("tls13-curl-nginx.keys");
    let mut app = app_with(records_at(f.path(), &args), 100, 30);
    keys(&mut app, "3");
    assert_eq!(key(&mut app, KeyCode::Char('6')), Action::LoadStream(0));
    app.update(stream_event_at(f.path(), 0, &args));
    let lines: Vec<&str> = app.stream.shown().iter().map(|l| l.1.as_str()).collect();
    assert!(app.stream.show_decrypted);
    assert!(
        lines.iter().any(|l| l.contains("GET /big.txt HTTP/1.1")),
        "what came before the gap is decrypted"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("← decryption stopped: tls.gap-ends-decryption: ")),
        "{:?}",
        &lines[lines.len().saturating_sub(5)..]
    );
}

/// Without keys there is nothing decrypted to show: the view says why and `d` says so too.
#[test]
fn the_stream_of_a_tls_connection_without_keys_says_why_it_is_not_decrypted() {
    let mut app = app_with(records("tls13-curl-nginx.pcap"), 100, 30);
    keys(&mut app, "3");
    assert_eq!(key(&mut app, KeyCode::Char('6')), Action::LoadStream(0));
    app.update(stream_event("tls13-curl-nginx.pcap", 0));
    assert!(app.stream.decrypted.is_none());
    let s = screen(&app);
    assert!(s.contains("not decrypted, no-keys"), "{s}");
    assert!(!s.contains("DECRYPTED TLS"), "{s}");
    keys(&mut app, "d");
    assert!(
        app.note
            .as_deref()
            .is_some_and(|n| n.contains("nothing decrypted")),
        "{:?}",
        app.note
    );
}

#[test]
fn snapshot_help() {
    let mut app = open("websocket-nginx-ok.pcap");
    keys(&mut app, "?");
    insta::assert_snapshot!("help", screen(&app));
    keys(&mut app, "x");
    assert!(!app.help, "any key closes the help");
}

// ───────────────────────────── state ─────────────────────────────

#[test]
fn the_refused_upgrade_is_two_keys_from_the_first_screen() {
    let mut app = open("websocket-nginx-broken.pcap");
    // The first screen already marks it and counts it.
    let first = screen(&app);
    assert!(first.contains('⚠'), "{first}");
    assert!(first.contains("1W"), "{first}");
    assert!(
        first.contains("ws.upgrade-refused"),
        "the detail of the first row shows it: {first}"
    );
    // f (findings), Enter (jump).
    keys(&mut app, "f");
    assert_eq!(app.view, View::Findings);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view, View::Transactions);
    let t = selected_txn(&app).expect("a transaction is selected");
    assert_eq!(t.response.as_ref().map(|r| r.status), Some(505));
    assert_eq!(t.findings, ["ws.upgrade-refused"]);
    let s = screen(&app);
    assert!(s.contains("505"), "{s}");
    assert!(
        s.contains("proxy_http_version 1.1"),
        "the fix is on screen: {s}"
    );
}

/// The filter finds TLS by what the records say: the scheme of transactions, and the TLS of
/// connections (version, suite, SNI, whether and why not decrypted).
#[test]
fn the_filter_finds_tls() {
    let mut app = app_with(
        records_with(
            "tls-connect-tinyproxy.pcap",
            &keylog("tls-connect-tinyproxy.keys"),
        ),
        100,
        30,
    );
    keys(&mut app, "/https");
    key(&mut app, KeyCode::Enter);
    assert_eq!(
        app.txns.rows.len(),
        10,
        "every request inside TLS, not the CONNECTs"
    );
    keys(&mut app, "3/tls_ecdhe_ecdsa");
    key(&mut app, KeyCode::Enter);
    // The tunnel's TLS (on the client's connection) and the proxy's upstream leg.
    assert_eq!(app.conns.rows.len(), 2);
    let mut app = open("tls13-curl-nginx.pcap");
    keys(&mut app, "3/not-decrypted no-keys");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.conns.rows.len(), 4, "{:?}", app.conns.filter_text);
}

#[test]
fn filter_language_in_the_ui() {
    let mut app = open("websocket-nginx-broken.pcap");
    assert_eq!(app.txns.rows.len(), 2);
    keys(&mut app, "/finding");
    assert!(app.prompt.is_some());
    key(&mut app, KeyCode::Enter);
    assert!(app.prompt.is_none());
    assert_eq!(
        app.txns.rows.len(),
        1,
        "only the transaction with the finding"
    );
    // A wrong filter shows an error inline and keeps the prompt open; Esc restores.
    keys(&mut app, "/");
    key(&mut app, KeyCode::Backspace);
    for _ in 0..10 {
        key(&mut app, KeyCode::Backspace);
    }
    keys(&mut app, "colour:red");
    let err = app.prompt.as_ref().and_then(|p| p.error.clone());
    assert!(
        err.as_deref().is_some_and(|e| e.contains("unknown field")),
        "{err:?}"
    );
    let s = screen(&app);
    assert!(s.contains("unknown field `colour:`"), "{s}");
    key(&mut app, KeyCode::Enter);
    assert!(
        app.prompt.is_some(),
        "Enter does not accept a broken filter"
    );
    key(&mut app, KeyCode::Esc);
    assert!(app.prompt.is_none());
    assert_eq!(app.txns.filter_text, "finding");
    assert_eq!(app.txns.rows.len(), 1);
    // Esc on the list clears the filter.
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.txns.rows.len(), 2);
    // Fields.
    for (f, n) in [
        ("status:5xx", 2),
        ("status:2xx", 0),
        ("method:get", 2),
        ("host:8768", 1),
        ("conn:1", 1),
        ("-conn:1", 1),
        ("upgrade", 1),
        ("nginx", 1),
    ] {
        keys(&mut app, "/");
        for _ in 0..30 {
            key(&mut app, KeyCode::Backspace);
        }
        keys(&mut app, f);
        key(&mut app, KeyCode::Enter);
        assert_eq!(app.txns.rows.len(), n, "{f}");
    }
}

#[test]
fn sort_cycles_columns_and_reverses() {
    let mut app = open("http-keepalive.pcap");
    let ids = |app: &App| -> Vec<u64> {
        app.txns
            .rows
            .iter()
            .filter_map(|r| app.store.txns.get(*r))
            .map(|t| t.id)
            .collect()
    };
    let before = ids(&app);
    let mut sorted = before.clone();
    sorted.sort();
    assert_eq!(before, sorted, "by time (id) first");
    keys(&mut app, "S");
    let mut rev = sorted.clone();
    rev.reverse();
    assert_eq!(ids(&app), rev);
    keys(&mut app, "s");
    assert!(
        app.note
            .as_deref()
            .is_some_and(|n| n.starts_with("sorted by status"))
    );
}

#[test]
fn new_rows_do_not_steal_the_selection() {
    let all = records("http-pipelining.pcap");
    let (a, b): (Vec<Record>, Vec<Record>) = all
        .into_iter()
        .partition(|r| !matches!(r, Record::Transaction(t) if t.id >= 2));
    let mut app = app_with(a, 100, 30);
    key(&mut app, KeyCode::Down);
    let chosen = app.txns.selected();
    let chosen_txn = selected_txn(&app).map(|t| t.id);
    assert!(chosen.is_some());
    app.update(Event::Records(b));
    assert!(app.txns.rows.len() > 2);
    assert_eq!(app.txns.selected(), chosen);
    assert_eq!(selected_txn(&app).map(|t| t.id), chosen_txn);
    // G follows new rows.
    keys(&mut app, "G");
    assert!(app.txns.follow);
    key(&mut app, KeyCode::Up);
    assert!(!app.txns.follow);
}

#[test]
fn pause_freezes_the_lists() {
    let all = records("http-keepalive.pcap");
    let mut app = App::new(
        Source {
            name: "live:lo".into(),
            live: true,
        },
        Store::default(),
        Theme { color: false },
        (100, 30),
    );
    keys(&mut app, "p");
    assert!(app.paused);
    app.update(Event::Records(all));
    assert!(app.txns.rows.is_empty(), "paused: nothing moves");
    assert!(app.held > 0);
    assert!(screen(&app).contains("PAUSED"));
    keys(&mut app, "p");
    assert!(!app.paused);
    assert!(!app.txns.rows.is_empty());
    // Live: w saves, the Stream view waits for a saved file.
    assert_eq!(key(&mut app, KeyCode::Char('w')), Action::Save);
    assert_eq!(key(&mut app, KeyCode::Char('6')), Action::None);
    assert!(screen(&app).contains("available after saving it with w"));
    app.update(Event::Saved(Ok("saved.pcapng".into())));
    assert_eq!(app.saved.as_deref(), Some("saved.pcapng"));
}

#[test]
fn the_store_is_bounded_and_says_so() {
    let all = records("http-keepalive.pcap");
    let n = all
        .iter()
        .filter(|r| matches!(r, Record::Transaction(_)))
        .count();
    assert!(n > 3, "{n}");
    let mut app = App::new(
        Source {
            name: "x".into(),
            live: false,
        },
        Store::new(3),
        Theme { color: false },
        (100, 30),
    );
    app.update(Event::Records(all));
    assert_eq!(app.store.txns.len(), 3);
    assert_eq!(app.store.txns.dropped as usize, n - 3);
    assert_eq!(app.txns.rows.len(), 3);
    assert!(screen(&app).contains("rows dropped"));
}

#[test]
fn websocket_drill_down_and_back() {
    let mut app = open("websocket-nginx-ok.pcap");
    keys(&mut app, "2");
    assert_eq!(app.convs.rows.len(), 2);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.msgs.as_ref().map(|m| m.rows.len()), Some(10));
    keys(&mut app, "/opcode:text");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.msgs.as_ref().map(|m| m.rows.len()), Some(4));
    key(&mut app, KeyCode::Esc); // clears the filter
    key(&mut app, KeyCode::Esc); // back to the conversations
    assert!(app.msgs.is_none());
    assert_eq!(app.view, View::WebSocket);
}

#[test]
fn detail_search_moves_between_matches() {
    let mut app = open("websocket-nginx-broken.pcap");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Focus::Detail);
    keys(&mut app, "/hop-by-hop");
    key(&mut app, KeyCode::Enter);
    let first = app.detail.hit.expect("a match");
    keys(&mut app, "n");
    let second = app.detail.hit.expect("another match");
    assert!(second > first);
    keys(&mut app, "N");
    assert_eq!(app.detail.hit, Some(first));
    keys(&mut app, "/nothing-like-this");
    key(&mut app, KeyCode::Enter);
    assert!(app.note.as_deref().is_some_and(|n| n.contains("not found")));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.focus, Focus::List);
}

#[test]
fn quit_keys_and_interrupt() {
    let mut app = open("websocket-nginx-ok.pcap");
    assert_eq!(key(&mut app, KeyCode::Char('q')), Action::Quit);
    let ctrl_c = Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(app.update(ctrl_c), Action::Quit);
    assert_eq!(app.update(Event::Interrupt), Action::Quit);
}

#[test]
fn views_switch_with_numbers_and_tab() {
    let mut app = open("websocket-nginx-ok.pcap");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.view, View::WebSocket);
    key(&mut app, KeyCode::BackTab);
    assert_eq!(app.view, View::Transactions);
    key(&mut app, KeyCode::BackTab);
    assert_eq!(app.view, View::Stream);
    keys(&mut app, "3");
    assert_eq!(app.view, View::Connections);
}

#[test]
fn mouse_scrolls_and_selects() {
    let mut app = open("http-keepalive.pcap");
    let m = |kind, row| {
        Event::Mouse(MouseEvent {
            kind,
            column: 10,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    app.update(m(MouseEventKind::ScrollDown, 4));
    assert_eq!(app.txns.sel, 3.min(app.txns.rows.len() - 1));
    app.update(m(MouseEventKind::ScrollUp, 4));
    assert_eq!(app.txns.sel, 0);
    // Row 1 is the list title, row 2 its header: row 4 is the second row.
    app.update(m(
        MouseEventKind::Down(crossterm::event::MouseButton::Left),
        4,
    ));
    assert_eq!(app.txns.sel, 1);
    app.update(m(
        MouseEventKind::Down(crossterm::event::MouseButton::Left),
        4,
    ));
    assert_eq!(app.focus, Focus::Detail, "a second click opens");
}

#[test]
fn no_color_means_no_colour() {
    let app = open("websocket-nginx-broken.pcap");
    let mut t = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
    t.draw(|f| hopscope::tui::views::draw(f, &app))
        .expect("draw");
    for c in t.backend().buffer().content() {
        assert_eq!(c.fg, ratatui::style::Color::Reset);
        assert_eq!(c.bg, ratatui::style::Color::Reset);
    }
}

// ───────────────────────────── hostile bytes ─────────────────────────────

mod hostile {
    use super::*;
    use hopscope::base::Timestamp;
    use hopscope::model::http::*;
    use hopscope::model::tunnel::{TlsInfo, TunnelRecord};
    use hopscope::model::websocket::*;
    use hopscope::model::*;
    use std::net::{IpAddr, Ipv4Addr};

    const EVIL: &str = "a\x1b[2J\x1b]0;pwned\x07\u{9b}31m\u{202e}gnp.exe\u{2066}\r\n\tz";
    const EVIL_BYTES: &[u8] = b"b\x1b[31m\xff\xfe\xc2\x9b\x07\x00\x7f";

    fn ep(port: u16) -> Endpoint {
        Endpoint {
            ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            port,
        }
    }

    fn body(preview: Option<&str>, b64: Option<String>) -> BodyRecord {
        BodyRecord {
            framing: BodyFraming::ContentLength,
            state: BodyState::Complete,
            wire_length: 10,
            length: 10,
            decoded_length: None,
            decoding: None,
            content_type: Some(EVIL.into()),
            content_encoding: vec![EVIL.into()],
            transfer_encoding: vec![],
            missing_bytes: 0,
            chunks: None,
            chunk_extensions: vec![],
            trailers: Headers::default(),
            preview: preview.map(String::from),
            preview_b64: b64,
            preview_truncated: false,
            byteranges: None,
            digest: None,
        }
    }

    fn at() -> MessageStart {
        MessageStart {
            packet: 1,
            stream_offset: 0,
            head_bytes: 10,
        }
    }

    /// Every concern of the semantics step, each with wire text in it.
    fn evil_semantics() -> hopscope::model::semantics::HttpSemantics {
        use hopscope::model::semantics::*;
        HttpSemantics {
            cache: Some(CacheInfo {
                etag: Some(EVIL.into()),
                storable: Some(false),
                storable_reason: Some(EVIL.to_string().into()),
                vary: vec![EVIL.into()],
                ..CacheInfo::default()
            }),
            range: Some(Box::new(RangeInfo {
                request: Some(EVIL.into()),
                outcome: "ignored",
                ..RangeInfo::default()
            })),
            cookies: Some(CookieInfo {
                set: vec![SetCookieInfo {
                    name: EVIL.into(),
                    value: EVIL.into(),
                    rejected: Some(EVIL.to_string().into()),
                    ..SetCookieInfo::default()
                }],
                ..CookieInfo::default()
            }),
            cors: Some(Box::new(CorsInfo {
                kind: "request",
                origin: EVIL.into(),
                decision: "blocked",
                reasons: vec![EVIL.to_string().into()],
                ..CorsInfo::default()
            })),
            auth: Some(Box::new(AuthInfo {
                challenges: vec![Challenge {
                    header: "WWW-Authenticate",
                    scheme: EVIL.into(),
                    realm: Some(EVIL.into()),
                    params: vec![],
                    token68: None,
                }],
                outcome: EVIL.to_string().into(),
                ..AuthInfo::default()
            })),
            redirect: Some(Box::new(RedirectInfo {
                status: Some(302),
                location: Some(EVIL.into()),
                resolved: Some(EVIL.into()),
                ..RedirectInfo::default()
            })),
        }
    }

    fn evil_records() -> Vec<Record> {
        let mut h = Headers::default();
        h.push(EVIL.as_bytes(), EVIL_BYTES, None, false);
        h.push(
            b"Connection",
            EVIL.as_bytes(),
            Some(HopReason::Standard),
            false,
        );
        h.push(
            EVIL_BYTES,
            EVIL.as_bytes(),
            Some(HopReason::NamedInConnection),
            true,
        );
        let txn = TransactionRecord {
            scheme: hopscope::model::http::Scheme::Https,
            id: 0,
            connection: 0,
            index: 0,
            stream_id: None,
            promised_by: None,
            h2c_upgrade: None,
            client: ep(1),
            server: ep(2),
            state: TxnState::Complete,
            reset: None,
            request: Some(RequestRecord {
                method: EVIL.into(),
                method_b64: None,
                target: EVIL.into(),
                target_b64: None,
                target_form: "other",
                proxy_request: false,
                version: EVIL.into(),
                scheme: Some(EVIL.into()),
                authority: Some(EVIL.into()),
                headers: h.clone(),
                body: body(Some(EVIL), None),
                at: at(),
            }),
            interim: vec![InterimRecord {
                status: 100,
                reason: EVIL.into(),
                headers: h.clone(),
                ts: Timestamp(1),
                at: at(),
            }],
            response: Some(ResponseRecord {
                version: EVIL.into(),
                status: 502,
                status_raw: Some(EVIL.into()),
                reason: EVIL.into(),
                reason_b64: None,
                headers: h,
                body: body(None, Some("G1syShvCmw==".into())),
                at: at(),
            }),
            timing: Timing::default(),
            switched_to: Some(SwitchRecord {
                protocol: EVIL.into(),
            }),
            findings: vec!["http.obs-fold"],
            semantics: Some(Box::new(evil_semantics())),
        };
        // Codes come from the registry; one named like an attack still reaches no terminal.
        static EVIL_CODE: codes::Code = codes::Code {
            name: EVIL,
            severity: Severity::Warning,
            area: codes::Area::Http,
            summary: "hand-made",
            advice: "",
        };
        let f = Finding::new(&EVIL_CODE, EVIL).conn(0).txn(0);
        let ws = WebSocketRecord {
            id: 0,
            connection: 0,
            client: ep(1),
            server: ep(2),
            handshake: WsHandshake {
                transaction: Some(0),
                target: Some(EVIL.into()),
                host: Some(EVIL.into()),
                origin: Some(EVIL.into()),
                version: Some(EVIL.into()),
                key: Some(EVIL.into()),
                accept: Some(EVIL.into()),
                accept_valid: Some(false),
                subprotocols_offered: vec![EVIL.into()],
                subprotocol: Some(EVIL.into()),
                extensions_offered: vec![EVIL.into()],
                extensions: vec![EVIL.into()],
                midstream: false,
                http_version: Some("HTTP/2"),
                stream_id: Some(3),
            },
            compression: None,
            client_to_server: WsDirStats::default(),
            server_to_client: WsDirStats::default(),
            pings: WsPings::default(),
            close: WsClose {
                initiator: Some(Side::Client),
                code: Some(1000),
                reason: Some(EVIL.into()),
                client_code: Some(1000),
                client_reason: Some(EVIL.into()),
                server_code: None,
                server_reason: Some(EVIL.into()),
                clean: false,
                frames_after_close: 0,
            },
            findings: vec![],
        };
        let msg = |op: &str| WsMessageRecord {
            websocket: 0,
            index: 0,
            direction: Side::Server,
            opcode: op.to_string().into(),
            length: 50,
            wire_length: 50,
            declared_length: None,
            compressed: false,
            frames: 1,
            text: Some(EVIL.into()),
            binary: None,
            text_truncated: false,
            utf8_valid: Some(true),
            close_code: Some(1000),
            rtt: None,
            partial: false,
            ts: Timestamp(1),
            packet: 1,
            stream_offset: 0,
            frame_list: None,
        };
        let conn = ConnectionRecord {
            id: 0,
            client: ep(1),
            server: ep(2),
            community_id: EVIL.into(),
            client_reason: EVIL.into(),
            start: Timestamp(0),
            end: Timestamp(1),
            first_packet: 1,
            last_packet: 2,
            files: Vec::new(),
            also_seen_in: Vec::new(),
            handshake: true,
            handshake_s: None,
            close: CloseKind::Fin,
            client_isn: None,
            server_isn: None,
            client_to_server: DirStats::default(),
            server_to_client: DirStats::default(),
            // TLS on the connection too: its lock marker, its detail and the https line of
            // the transaction carry the wire's strings.
            tls: Some(Box::new(TlsInfo {
                sni: vec![EVIL.into()],
                alpn: vec![EVIL.into()],
                version: Some(EVIL.into()),
                cipher_suite: Some(EVIL.into()),
                not_decrypted: Some(EVIL.into()),
                key_source: Some(EVIL.into()),
                ..TlsInfo::default()
            })),
        };
        let tunnel = TunnelRecord {
            id: 0,
            connection: 0,
            client: ep(1),
            proxy: ep(2),
            kind: EVIL.into(),
            target: Some(EVIL.into()),
            established: false,
            refused: Some(EVIL.into()),
            transaction: Some(0),
            inner: EVIL.into(),
            tls: Some(TlsInfo {
                sni: vec![EVIL.into()],
                alpn: vec![EVIL.into()],
                offered_versions: vec![EVIL.into()],
                version: Some(EVIL.into()),
                alpn_selected: Some(EVIL.into()),
                cipher_suite: Some(EVIL.into()),
                key_source: Some(EVIL.into()),
                ..TlsInfo::default()
            }),
            bytes_to_target: 0,
            bytes_from_target: 0,
            auth: Some(EVIL.into()),
            user: Some(EVIL.into()),
            findings: vec![],
        };
        vec![
            Record::Transaction(Box::new(txn)),
            Record::Finding(Box::new(f)),
            Record::WsMessage(Box::new(msg("text"))),
            Record::WsMessage(Box::new(msg("close"))),
            Record::WebSocket(Box::new(ws)),
            Record::Connection(Box::new(conn)),
            Record::Tunnel(Box::new(tunnel)),
        ]
    }

    fn assert_clean(app: &App, what: &str) {
        for s in cells(app) {
            for c in s.chars() {
                let u = c as u32;
                assert!(
                    !(u < 0x20 || u == 0x7f || (0x80..0xa0).contains(&u)),
                    "{what}: control character U+{u:04X} on screen"
                );
                assert!(
                    !matches!(u, 0x202a..=0x202e | 0x2066..=0x2069),
                    "{what}: bidi control U+{u:04X} on screen"
                );
                assert_ne!(
                    c, '\u{fffd}',
                    "{what}: undecodable bytes reached the screen raw"
                );
            }
        }
    }

    /// The whole detail pane, scrolled or not.
    fn assert_detail_clean(app: &App, what: &str) {
        let all = hopscope::tui::views::detail_text(app).join("\n");
        assert!(!all.is_empty(), "{what}: a detail");
        for c in all.chars().filter(|c| *c != '\n') {
            let u = c as u32;
            assert!(
                !(u < 0x20 || u == 0x7f || (0x80..0xa0).contains(&u)),
                "{what}: control character U+{u:04X} in the detail: {all:?}"
            );
            assert!(
                !matches!(u, 0x202a..=0x202e | 0x2066..=0x2069),
                "{what}: bidi control U+{u:04X} in the detail"
            );
        }
    }

    #[test]
    fn hostile_bytes_never_reach_the_terminal() {
        let mut app = app_with(evil_records(), 160, 60);
        app.update(Event::Records(vec![
            Record::Finding(Box::new(
                Finding::new(&codes::PROXY_HOP_BY_HOP_FORWARDED, EVIL)
                    .conn(0)
                    .txn(0),
            )),
            super::hand_hop(0, 0, 0, EVIL, EVIL),
        ]));
        assert_clean(&app, "transactions");
        assert_detail_clean(&app, "transaction detail");
        let d = hopscope::tui::views::detail_text(&app).join("\n");
        for c in [
            "cache:",
            "range:",
            "cookies:",
            "cors:",
            "auth:",
            "redirect:",
        ] {
            assert!(d.contains(c), "the hostile semantics are drawn ({c}): {d}");
        }
        assert!(d.contains("client leg of hop#0"), "{d}");
        key(&mut app, KeyCode::Enter);
        key(&mut app, KeyCode::End);
        assert_clean(&app, "transaction detail, end");
        for (k, what) in [
            ('2', "websocket"),
            ('3', "connections"),
            ('4', "hops"),
            ('5', "findings"),
        ] {
            keys(&mut app, &k.to_string());
            assert_clean(&app, what);
            assert_detail_clean(&app, what);
        }
        keys(&mut app, "2");
        key(&mut app, KeyCode::Enter);
        assert_clean(&app, "messages");
        key(&mut app, KeyCode::Down);
        assert_clean(&app, "close message");
        // The stream of hostile bytes.
        keys(&mut app, "6");
        let data = hopscope::tui::stream::StreamData {
            conn: 0,
            pieces: vec![
                hopscope::tui::stream::Piece::Data {
                    dir: Dir::ClientToServer,
                    offset: 0,
                    bytes: EVIL.as_bytes().to_vec(),
                },
                hopscope::tui::stream::Piece::Data {
                    dir: Dir::ServerToClient,
                    offset: 0,
                    bytes: EVIL_BYTES.to_vec(),
                },
            ],
            cut: [0, 0],
            found: true,
            error: Some(EVIL.into()),
            decrypted: None,
        };
        app.update(Event::Stream(Box::new(data)));
        let s = screen(&app);
        assert!(s.contains("\\x1b[2J"), "escapes are shown as text: {s}");
        assert_clean(&app, "stream");
        // The filter prompt echoes what is typed, escaped.
        keys(&mut app, "1/");
        app.update(Event::Key(KeyEvent::new(
            KeyCode::Char('\u{1b}'),
            KeyModifiers::NONE,
        )));
        app.update(Event::Key(KeyEvent::new(
            KeyCode::Char('\u{9b}'),
            KeyModifiers::NONE,
        )));
        assert_clean(&app, "prompt");
    }
}

/// Previews (and headers, semantics, connection counters) are not held by the rows: the full
/// records are in the spool, and each reads back as it was (the JSON the report writes of it
/// is the same).
#[test]
fn previews_are_kept_out_of_memory_and_read_back_whole() {
    for sample in [
        "http-encodings.pcap",
        "websocket-nginx-ok.pcap",
        "http-proxy-chain.pcap",
    ] {
        let all = records(sample);
        let mut store = Store::new(1000);
        let mut txns = Vec::new();
        let mut msgs = Vec::new();
        let mut conns = Vec::new();
        let mut wss = Vec::new();
        for r in all {
            match &r {
                Record::Transaction(t) => txns.push((**t).clone()),
                Record::WsMessage(m) => msgs.push((**m).clone()),
                Record::Connection(c) => conns.push(c.clone()),
                Record::WebSocket(w) => wss.push((**w).clone()),
                _ => {}
            }
            store.push(r);
        }
        assert!(!txns.is_empty() || !msgs.is_empty(), "{sample}");
        for (row, mut want) in store.txns.iter().map(|(row, _)| row).zip(txns) {
            let r = store.txns.get(row).expect("row");
            assert!(r.heap_bytes() < 512, "{sample}: a compact row");
            let got = store.txn_full(row).expect("read back");
            let sem = want
                .semantics
                .take()
                .filter(|s| !s.is_empty())
                .map(|s| hopscope::report::semantics_text::lines(&s))
                .unwrap_or_default();
            assert_eq!(got.semantics, sem, "{sample} #{}", want.id);
            assert_eq!(
                serde_json::to_string(&got.rec).expect("json"),
                serde_json::to_string(&want).expect("json"),
                "{sample} #{}",
                want.id
            );
        }
        for (row, want) in store.msgs.iter().map(|(row, _)| row).zip(msgs) {
            let got = store.msg_full(row).expect("read back");
            assert_eq!(format!("{:?}", *got), format!("{want:?}"), "{sample}");
        }
        for want in wss {
            let row = store.conv_row_of(want.id).expect("a conversation row");
            let got = store.ws_full(row).expect("read back");
            assert_eq!(format!("{got:?}"), format!("{want:?}"), "{sample}");
        }
        assert!(!conns.is_empty());
        for (row, want) in store.conns.iter().map(|(row, _)| row).zip(conns) {
            let got = store.conn_full(row).expect("read back");
            assert_eq!(format!("{:?}", *got), format!("{want:?}"), "{sample}");
        }
    }
}

#[test]
fn tiny_and_odd_screens_do_not_panic() {
    let mut app = open("websocket-nginx-ok.pcap");
    for (w, h) in [(1, 1), (10, 3), (20, 5), (80, 24), (300, 100), (40, 60)] {
        app.update(Event::Resize(w, h));
        for k in ['1', '2', '3', '4', '5', '6', '?'] {
            keys(&mut app, &k.to_string());
            let _ = screen(&app);
            keys(&mut app, "?");
        }
        key(&mut app, KeyCode::Enter);
        let _ = screen(&app);
        key(&mut app, KeyCode::Esc);
    }
    // A zero-sized terminal (TestBackend cannot print one: only draw into it).
    app.update(Event::Resize(0, 0));
    let _ = cells(&app);
}

#[test]
fn findings_jump_to_messages_and_connections() {
    // A WebSocket finding opens the conversation at the message it is about.
    let mut app = open("websocket-bad.pcap");
    keys(&mut app, "f");
    let target = app
        .findings
        .rows
        .iter()
        .position(|r| {
            app.store
                .findings
                .get(*r)
                .is_some_and(|f| f.code.name == "ws.masked-server-frame")
        })
        .expect("the finding is listed");
    app.findings.select_index(target);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view, View::WebSocket);
    let m = app
        .msgs
        .as_ref()
        .and_then(|m| m.selected())
        .and_then(|id| app.store.msgs.get(id))
        .map(|m| m.direction);
    assert_eq!(
        m,
        Some(hopscope::model::websocket::Side::Server),
        "a server message"
    );
    // A TCP finding goes to its connection.
    let mut app = open("tcp-overlap-conflict.pcap");
    keys(&mut app, "f");
    let f = app
        .findings
        .selected()
        .and_then(|id| app.store.findings.get(id))
        .cloned()
        .expect("a finding");
    assert_eq!(f.code.name, "tcp.overlap-conflict");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view, View::Connections);
    let c = app
        .conns
        .selected()
        .and_then(|id| app.store.conns.get(id))
        .map(|c| c.id);
    assert_eq!(c, f.connection);
}

#[test]
fn snapshot_keepalive_80x24() {
    let mut app = open("http-keepalive.pcap");
    app.update(Event::Resize(80, 24));
    insta::assert_snapshot!("transactions_keepalive_80x24", screen(&app));
}

#[test]
fn typed_control_characters_are_escaped_in_notes() {
    let mut app = open("websocket-nginx-ok.pcap");
    key(&mut app, KeyCode::Enter);
    keys(&mut app, "/");
    keys(&mut app, "\u{1b}[31m\u{9b}");
    key(&mut app, KeyCode::Enter);
    assert!(app.note.as_deref().is_some_and(|n| n.contains("not found")));
    for s in cells(&app) {
        for c in s.chars() {
            let u = c as u32;
            assert!(
                !(u < 0x20 || (0x7f..0xa0).contains(&u)),
                "U+{u:04X} on screen"
            );
        }
    }
}

#[test]
fn the_selection_follows_the_connection_across_views() {
    let mut app = open("websocket-nginx-ok.pcap");
    key(&mut app, KeyCode::Down);
    let conn = selected_txn(&app)
        .map(|t| t.connection)
        .expect("a transaction");
    keys(&mut app, "3");
    let c = app
        .conns
        .selected()
        .and_then(|id| app.store.conns.get(id))
        .map(|c| c.id);
    assert_eq!(c, Some(conn), "its connection");
    keys(&mut app, "2");
    let ws = app
        .convs
        .selected()
        .and_then(|id| app.store.convs.get(id))
        .and_then(|c| c.rec.as_ref())
        .map(|r| r.connection);
    assert_eq!(ws, Some(conn), "its WebSocket conversation");
    keys(&mut app, "1");
    assert_eq!(selected_txn(&app).map(|t| t.connection), Some(conn));
}

/// The HTTP/2 samples and their key logs (none for cleartext).
const H2_SAMPLES: &[(&str, Option<&str>)] = &[
    ("h2-curl-nginx-tls.pcap", Some("h2-curl-nginx-tls.keys")),
    ("h2-prior-knowledge.pcap", None),
    ("h2c-upgrade-curl.pcap", None),
    ("h2-small-window.pcap", None),
];

fn args_for(keys: Option<&str>) -> AnalysisArgs {
    keys.map(keylog).unwrap_or_default()
}

/// The Transactions list says which HTTP version each exchange used and, for HTTP/2, its
/// stream; the detail has the stream's part of the connection's `http2[]` record.
#[test]
fn http2_transactions_show_their_version_and_stream() {
    let (sample, keylog_file) = H2_SAMPLES[0];
    let args = args_for(keylog_file);
    let mut app = app_with(records_with(sample, &args), 180, 60);
    let s = screen(&app);
    assert!(s.contains(" ver "), "{s}");
    let first = selected_txn(&app).expect("a transaction").clone();
    let id = first.stream_id.expect("an HTTP/2 transaction");
    assert!(s.contains(&format!(" h2 s{id} ")), "{s}");
    key(&mut app, KeyCode::Enter);
    let s = screen(&app);
    assert!(
        s.contains(&format!("HTTP/2 stream {id}  (6: the stream alone)")),
        "{s}"
    );
    let rec = app
        .store
        .h2_on_conn(first.connection)
        .expect("its http2 record");
    let st = rec.streams.iter().find(|x| x.id == id).expect("its stream");
    let body = first.response.as_ref().map(|r| r.body.length);
    assert_eq!(Some(st.data_bytes.server_to_client), body);
    assert!(s.contains("DATA"), "{s}");
    // An HTTP/1.1 capture says 1.1.
    let app = open("websocket-nginx-ok.pcap");
    assert!(screen(&app).contains(" 1.1 "), "{}", screen(&app));
}

/// Pressing 6 on an HTTP/2 transaction shows that stream alone: its request's and response's
/// header blocks as fields (its own `:path` and `:status`, no other stream's), then its DATA;
/// `d` goes on to the decrypted bytes (TLS) and the bytes as captured, and back. The DATA the
/// view de-frames adds up to each body's length in the records, for every HTTP/2 transaction
/// of the HTTP/2 samples (TLS with its key log, prior knowledge, h2c, a small window).
#[test]
fn the_stream_view_of_an_http2_transaction_is_its_stream_alone() {
    use hopscope::analyzers::h2::demux::{Item, demux};
    use hopscope::tui::stream::Shown;
    let mut checked = 0;
    for &(sample, keylog_file) in H2_SAMPLES {
        let args = args_for(keylog_file);
        let mut app = app_with(records_with(sample, &args), 120, 40);
        let rows: Vec<(u64, hopscope::model::TransactionRecord)> = txn_records(&app)
            .into_iter()
            .filter(|(_, r)| r.stream_id.is_some())
            .collect();
        assert!(!rows.is_empty(), "{sample}: HTTP/2 transactions");
        for (row, t) in &rows {
            let id = t.stream_id.unwrap_or(0);
            keys_to_txn(&mut app, *row);
            assert_eq!(
                key(&mut app, KeyCode::Char('6')),
                Action::LoadStream(t.connection),
                "{sample} #{}",
                t.id
            );
            let ev = stream_event_with(sample, t.connection, &args);
            let Event::Stream(data) = &ev else {
                unreachable!()
            };
            // The de-framed DATA, independently of the lines.
            let pieces = match &data.decrypted {
                Some(inner) => inner.bytes.pieces.clone(),
                None => data.pieces.clone(),
            };
            let server_start = txn_records(&app)
                .into_iter()
                .filter(|(_, x)| x.connection == t.connection)
                .find_map(|(_, x)| {
                    let r = x.response.as_ref()?;
                    (x.switched_to.as_ref()?.protocol == "h2c")
                        .then_some(r.at.stream_offset + r.at.head_bytes)
                });
            let d = demux(&pieces, id, server_start);
            let data_len = |want: Dir| -> u64 {
                d.items
                    .iter()
                    .map(|i| match i {
                        Item::Data { dir, bytes } if *dir == want => bytes.len() as u64,
                        _ => 0,
                    })
                    .sum()
            };
            if let Some(r) = &t.response
                && r.headers.get("content-encoding").is_none()
            {
                assert_eq!(
                    data_len(Dir::ServerToClient),
                    r.body.length,
                    "{sample} #{}",
                    t.id
                );
            }
            // h2c's stream 1 answers the HTTP/1.1 request, whose body was not DATA.
            if t.h2c_upgrade.is_none()
                && let Some(r) = &t.request
            {
                assert_eq!(
                    data_len(Dir::ClientToServer),
                    r.body.length,
                    "{sample} #{}",
                    t.id
                );
            }
            app.update(ev);
            assert_eq!(app.stream.showing(), Shown::H2Stream, "{sample} #{}", t.id);
            let lines: Vec<String> = app.stream.shown().iter().map(|l| l.1.clone()).collect();
            assert!(
                lines[0].starts_with(&format!("HTTP/2 stream {id} (transaction #{})", t.id)),
                "{}",
                lines[0]
            );
            if let Some(r) = &t.request
                && t.h2c_upgrade.is_none()
            {
                let path = format!("→ :path: {}", r.target);
                assert!(lines.contains(&path), "{sample} #{}: {lines:?}", t.id);
                for (_, o) in &rows {
                    if let Some(q) = &o.request
                        && o.connection == t.connection
                        && q.target != r.target
                    {
                        let other = format!("→ :path: {}", q.target);
                        assert!(!lines.contains(&other), "{sample} #{}", t.id);
                    }
                }
            }
            if let Some(r) = &t.response {
                let status = format!("← :status: {}", r.status);
                assert!(lines.contains(&status), "{sample} #{}: {lines:?}", t.id);
            }
            // d goes round what there is.
            let tls = app.stream.decrypted.is_some();
            assert_eq!(tls, keylog_file.is_some(), "{sample}");
            keys(&mut app, "d");
            let next = if tls {
                Shown::Decrypted
            } else {
                Shown::Captured
            };
            assert_eq!(app.stream.showing(), next);
            if tls {
                keys(&mut app, "d");
                assert_eq!(app.stream.showing(), Shown::Captured);
            }
            keys(&mut app, "d");
            assert_eq!(app.stream.showing(), Shown::H2Stream);
            keys(&mut app, "1");
            checked += 1;
        }
    }
    // 7 + 5 + 3 + 2 streams in the four samples.
    assert_eq!(checked, 17, "HTTP/2 transactions checked");
}

/// Selects transaction row `row` in the Transactions view.
fn keys_to_txn(app: &mut App, row: u64) {
    keys(app, "1");
    assert!(app.txns.select_id(row), "row {row} listed");
}

/// The filter knows the version: `h2` keeps the HTTP/2 front streams of nginx's HTTP/2 front
/// (not its HTTP/1.1 upstream requests), `http/1.1` the others, `stream=3` one stream.
#[test]
fn the_filter_finds_http2_streams_and_versions() {
    let args = keylog("h2-front-http1-back.keys");
    let mut app = app_with(records_with("h2-front-http1-back.pcap", &args), 100, 30);
    let count = |app: &App, v: &str| {
        txn_records(app)
            .iter()
            .filter(|(_, r)| r.request.as_ref().is_some_and(|q| q.version == v))
            .count()
    };
    let (h2, h1) = (count(&app, "HTTP/2"), count(&app, "HTTP/1.1"));
    assert!(h2 >= 4 && h1 >= 3, "{h2} {h1}");
    keys(&mut app, "/h2");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.txns.rows.len(), h2);
    key(&mut app, KeyCode::Esc);
    keys(&mut app, "/http/1.1");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.txns.rows.len(), h1);
    key(&mut app, KeyCode::Esc);
    keys(&mut app, "/stream=3");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.txns.rows.len(), 1);
    assert_eq!(selected_txn(&app).and_then(|t| t.stream_id), Some(3));
}

/// The detail of an HTTP/2 transaction lists its stream's frames and says the stream stalled
/// at a zero window: on the small-window sample, the frames listed and those counted past the
/// list are the DATA frames, WINDOW_UPDATEs and HEADERS the client logged for the stream
/// (`details.h2_flow_control.per_stream`), and the stalls line names as many as the record.
#[test]
fn http2_detail_lists_the_frames_and_the_stalls() {
    let facts: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("samples/expected.json").expect("expected.json"),
    )
    .expect("json");
    let flow = facts["captures"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["file"] == "h2-small-window.pcap")
        .map(|c| c["details"]["h2_flow_control"].clone())
        .expect("facts");
    let mut app = app_with(records("h2-small-window.pcap"), 160, 50);
    let mut checked = 0;
    for s in flow["per_stream"].as_array().into_iter().flatten() {
        let id = s["stream_id"].as_u64().expect("id") as u32;
        let row = app
            .store
            .txns
            .iter()
            .find(|(_, r)| r.stream_id == Some(id))
            .map(|(row, _)| row)
            .expect("the stream's transaction");
        keys_to_txn(&mut app, row);
        let d = hopscope::tui::views::detail_text(&app);
        let frames: Vec<&String> = d
            .iter()
            .skip_while(|l| !l.starts_with(&format!("── HTTP/2 frames of stream {id}")))
            .skip(1)
            .take_while(|l| !l.starts_with("── "))
            .collect();
        let listed = frames
            .iter()
            .filter(|l| l.starts_with("  → ") || l.starts_with("  ← "))
            .count() as u64;
        let more = frames
            .iter()
            .find_map(|l| l.trim().strip_suffix(" more frames counted, not listed"))
            .map_or(0, |n| n.parse::<u64>().expect("a count"));
        let logged = s["response_data_frames"].as_u64().unwrap_or(0)
            + s["window_updates_from_client"].as_u64().unwrap_or(0)
            + 2; // the request's and the response's HEADERS
        assert_eq!(listed + more, logged, "stream {id}: {frames:?}");
        let h2 = app
            .store
            .h2_on_conn(selected_txn(&app).expect("txn").connection)
            .expect("record");
        let stalls = h2
            .streams
            .iter()
            .find(|x| x.id == id)
            .expect("stream")
            .flow
            .server_to_client
            .stalls;
        assert!(stalls > 0, "stream {id} stalled");
        assert!(
            d.iter()
                .any(|l| l.contains(&format!("STALLED {stalls}× at a zero window"))),
            "{d:?}"
        );
        checked += 1;
    }
    assert_eq!(checked, 2);
}

/// Over two hosts' captures, the status bar names the file whose clock the proxy hops placed,
/// with the offset they showed (`~`: estimated), once the run has ended.
#[test]
fn the_status_bar_names_an_estimated_clock_offset() {
    use hopscope::capture::merge::{MergedSource, expand};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let inputs = expand(
        &[
            dir.join("split-nginx-ws.front.pcap"),
            dir.join("split-nginx-ws.back-skewed.pcap"),
        ],
        &[],
    )
    .expect("inputs");
    let mut src = MergedSource::open(inputs);
    let mut pipeline = Pipeline::new(
        EngineConfig::default(),
        hopscope::tui::analyzer_config(&AnalysisArgs::default()),
        Vec::new(),
    );
    let end = pipeline.run(&mut src, &CaptureClock);
    let mut app = App::new(
        Source {
            name: "2 files".into(),
            live: false,
        },
        Store::default(),
        Theme { color: false },
        (140, 30),
    );
    app.update(Event::Records(pipeline.into_sink()));
    app.update(Event::Done(Done {
        summary: Box::new(end.summary),
        error: None,
    }));
    assert_eq!(
        app.source.name,
        "2 files (~-1.234s split-nginx-ws.back-skewed.pcap)"
    );
    // The status bar shows its start: the offset, then the name (long names are cut there).
    let s = screen(&app);
    assert!(s.contains(" 2 files (~-1.234s split-nginx-ws."), "{s}");
}

/// The spool of full records cannot be written (a full disk): the rows stay, the status bar
/// says so, a detail whose record was not kept says why, and nothing panics.
#[test]
fn a_spool_that_cannot_be_written_is_said_not_panicked_on() {
    use hopscope::tui::spool::{Backend, DetailSpool};
    struct Full;
    impl Backend for Full {
        fn write_all_at(&mut self, _: &[u8], _: u64) -> std::io::Result<()> {
            Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "No space left on device",
            ))
        }
        fn read_exact_at(&self, _: &mut [u8], _: u64) -> std::io::Result<()> {
            Err(std::io::ErrorKind::UnexpectedEof.into())
        }
    }
    let mut app = App::new(
        Source {
            name: "test.pcap".into(),
            live: false,
        },
        Store::with_spool(1000, DetailSpool::with_backend(Box::new(Full), 0)),
        Theme { color: false },
        (200, 30),
    );
    app.update(Event::Records(records("http-keepalive.pcap")));
    app.update(done());
    let n = app.txns.rows.len();
    assert!(n > 2, "the rows stay: {n}");
    let note = app.note.clone().unwrap_or_default();
    assert!(note.contains("No space left on device"), "{note}");
    keys(&mut app, "G");
    let s = screen(&app);
    assert!(s.contains("details not kept: spool failed"), "{s}");
    let d = hopscope::tui::views::detail_text(&app).join("\n");
    assert!(
        d.contains("the details were not kept: cannot write the details to a temporary file"),
        "{d}"
    );
    // Every view, the filter (free text reads the spool) and the stream view's boundaries.
    for k in ["1", "/GET", "\n", "2", "3", "4", "5", "6"] {
        if k == "\n" {
            key(&mut app, KeyCode::Enter);
        } else {
            keys(&mut app, k);
        }
        let _ = screen(&app);
    }
}
