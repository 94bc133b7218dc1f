//! The terminal UI (ratatui + crossterm) over a saved capture or a live interface.
//!
//! ```text
//!  input thread   (crossterm keys, mouse, resize) ─┐
//!  tick thread    (1 s, with the process's RSS)    ├─▶ sync_channel<Event> ─▶ UI thread:
//!  analysis thread (Pipeline::run over a file or  │                         App::update → Action
//!                   live → worker::BatchSink:      │                         draw when dirty
//!                   record batches, progress)      │                         (≤ 30 frames/s)
//!  stream pass, w snapshot (on demand)            ─┘
//! ```
//!
//! The UI thread owns all UI state ([`app::App`]); the others only send events. The analysis
//! waits when the channel is full, so the UI never does.

pub mod app;
pub mod codec;
pub mod filter;
pub mod hops;
pub mod list;
pub mod rows;
pub mod spool;
pub mod store;
pub mod stream;
pub mod term;
pub mod theme;
pub mod views;
pub mod worker;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::thread;
use std::time::{Duration, Instant};

use crossterm::event::{self as cev, Event as CEvent};

use app::{Action, App, Event, Source};
use store::Store;
use theme::Theme;

use crate::analyzers::AnalyzerConfig;
use crate::capture::live::{LiveSession, Snapshot};
use crate::capture::merge::InputFile;
use crate::cli::{AnalysisArgs, InputArgs, LiveArgs, TuningArgs};
use crate::engine::EngineConfig;
use crate::run::Outcome;

/// Events queued for the UI thread at most.
pub(crate) const CHANNEL: usize = 4;
/// Frames per second at most.
const FRAME: Duration = Duration::from_millis(33);

/// How the UI is fed.
enum Feed {
    File {
        inputs: Vec<InputFile>,
    },
    Live {
        snapshot: Option<Snapshot>,
        iface: String,
    },
}

/// `hopscope FILE` / `hopscope open FILE` on a terminal.
pub fn run_file(
    input: &InputArgs,
    analysis: &AnalysisArgs,
    tuning: &TuningArgs,
    max_rows: usize,
    filter: Option<&str>,
) -> Outcome {
    // A bad `--filter` is a usage error, before anything starts.
    if let Some(f) = filter
        && let Err(e) = crate::query::Filter::parse(f)
    {
        eprintln!("hopscope: --filter {f:?}: {e}");
        return Outcome::Failed;
    }
    let cfg = match tuning.engine_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hopscope: {e}");
            return Outcome::Failed;
        }
    };
    let inputs = match input.inputs() {
        Ok(i) => i,
        Err(e) => {
            eprintln!("hopscope: {e}");
            return Outcome::Failed;
        }
    };
    // Nothing to show when no input exists at all (one that fails among others is shown
    // with its error).
    if inputs
        .iter()
        .all(|i| !i.is_stdin() && std::fs::metadata(&i.path).is_err())
    {
        let first = inputs.first().map(|i| i.path.display().to_string());
        eprintln!("hopscope: cannot open {}", first.unwrap_or_default());
        return Outcome::Failed;
    }
    let app_cfg = worker::ui_analyzer_config(analysis.analyzer_config());
    let stream_cfg = app_cfg.clone();
    let (tx, rx) = mpsc::sync_channel(CHANNEL);
    let cancel = Arc::new(AtomicBool::new(false));
    // SIGINT from outside (kill -INT) ends the UI cleanly; inside it Ctrl-C is a key.
    {
        let tx = tx.clone();
        let _ = ctrlc::set_handler(move || {
            let _ = tx.try_send(Event::Interrupt);
        });
    }
    {
        let (inputs, tx2, c, cfg) = (inputs.clone(), tx.clone(), Arc::clone(&cancel), cfg.clone());
        spawn_caught("analysis", tx.clone(), move || {
            worker::analyse_file(inputs, cfg, app_cfg, tx2, c)
        });
    }
    let source = Source {
        name: inputs_label(&inputs),
        live: false,
    };
    let res = ui_loop(
        source,
        Store::new(max_rows),
        (cfg, stream_cfg),
        Feed::File { inputs },
        tx,
        rx,
        filter,
    );
    cancel.store(true, Ordering::Relaxed);
    match res {
        Ok(o) => o,
        Err(e) => {
            eprintln!("hopscope: {e}");
            Outcome::Failed
        }
    }
}

/// What the status bar calls the inputs: a file's name; for several, their count and each
/// file whose clock is shifted with its offset (`3 files (b.pcap +1.5s)`).
pub fn inputs_label(inputs: &[InputFile]) -> String {
    let name = |i: &InputFile| {
        i.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| i.path.display().to_string())
    };
    match inputs {
        [one] if one.offset_ns == 0 => name(one),
        [one] => format!("{} {:+}s", name(one), one.offset_ns as f64 / 1e9),
        _ => {
            let shifted: Vec<String> = inputs
                .iter()
                .filter(|i| i.offset_ns != 0)
                .take(4)
                .map(|i| format!("{} {:+}s", name(i), i.offset_ns as f64 / 1e9))
                .collect();
            let files = format!("{} files", inputs.len());
            if shifted.is_empty() {
                files
            } else {
                format!("{files} ({})", shifted.join(", "))
            }
        }
    }
}

/// The status bar's name for several inputs once the run ended: their count and each file
/// whose clock is off the first file's, the offset first (a long name is cut at the bar's end,
/// the offset is not) with `~` when it was estimated (`2 files (~-1.234s back.pcap)`).
pub fn files_label(files: &[crate::model::FileSummary]) -> String {
    let name = |p: &str| {
        std::path::Path::new(p)
            .file_name()
            .map_or_else(|| p.to_string(), |n| n.to_string_lossy().into_owned())
    };
    let shifted: Vec<String> = files
        .iter()
        .filter(|f| f.clock_offset_s != 0.0)
        .take(4)
        .map(|f| {
            let est = if f.offset_source == "proxy-pairs" || f.offset_source == "same-connection" {
                "~"
            } else {
                ""
            };
            format!("{est}{:+.3}s {}", f.clock_offset_s, name(&f.path))
        })
        .collect();
    let n = format!("{} files", files.len());
    if shifted.is_empty() {
        n
    } else {
        format!("{n} ({})", shifted.join(", "))
    }
}

/// `hopscope live -i IFACE [-i IFACE ...]` on a terminal.
pub fn run_live(args: &LiveArgs, max_rows: usize) -> Outcome {
    let cfg = match args.tuning.engine_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hopscope: {e}");
            return Outcome::Failed;
        }
    };
    // Everything captured is kept on disk (the -w file, else a temporary one removed at exit)
    // so that `w` can save it and the Stream view can read it.
    let spool = if args.write.is_none() {
        match tempfile::Builder::new()
            .prefix("hopscope-live-")
            .suffix(".pcapng")
            .tempfile()
        {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("hopscope: cannot create a temporary file for the capture: {e}");
                return Outcome::Failed;
            }
        }
    } else {
        None
    };
    let capture = match args.capture_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hopscope: {e}");
            return Outcome::Failed;
        }
    };
    let session = match LiveSession::start(&capture, spool.as_ref().map(|t| t.path())) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("{msg}");
            return Outcome::Failed;
        }
    };
    // Interfaces that could not be opened among others: said before the UI takes the
    // terminal; after it the run's error names them again.
    for e in session.open_errors() {
        eprintln!("{e}");
    }
    let snapshot = session.snapshot();
    let (tx, rx) = mpsc::sync_channel(CHANNEL);
    let cancel = Arc::new(AtomicBool::new(false));
    // Ctrl-C from outside (kill -INT); inside the UI it is a key.
    {
        let tx = tx.clone();
        let _ = ctrlc::set_handler(move || {
            let _ = tx.try_send(Event::Interrupt);
        });
    }
    let mut app_cfg = worker::ui_analyzer_config(args.analysis.analyzer_config());
    // The Stream view reads the saved capture: a file (StreamPass reads key logs once).
    let stream_cfg = app_cfg.clone();
    app_cfg.tls.live = true;
    // The interfaces being captured, escaped (one that could not be opened is named in the
    // findings).
    let name = format!("live:{}", session.capturing().join(","));
    let handle = {
        let (tx2, c, cfg) = (tx.clone(), Arc::clone(&cancel), cfg.clone());
        spawn_caught("analysis", tx.clone(), move || {
            worker::analyse_live(session, cfg, app_cfg, tx2, c)
        })
    };
    let res = ui_loop(
        Source { name, live: true },
        Store::new(max_rows),
        (cfg, stream_cfg),
        Feed::Live {
            snapshot,
            iface: capture.interfaces.join("+"),
        },
        tx,
        rx,
        None,
    );
    // Stop the capture and let it finish the saved file.
    cancel.store(true, Ordering::Relaxed);
    if let Some(h) = handle {
        let _ = h.join();
    }
    drop(spool);
    match res {
        Ok(o) => o,
        Err(e) => {
            eprintln!("hopscope: {e}");
            Outcome::Failed
        }
    }
}

/// Spawns a named thread whose panic becomes an [`Event::Failed`].
fn spawn_caught(
    name: &str,
    tx: SyncSender<Event>,
    f: impl FnOnce() + Send + 'static,
) -> Option<thread::JoinHandle<()>> {
    let n = name.to_string();
    thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            if let Err(msg) = term::catch(f) {
                let _ = tx.send(Event::Failed(format!("{n}: {msg}")));
            }
        })
        .ok()
}

/// Resident memory of this process, from /proc (Linux).
fn rss_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// `cfgs`: the engine's settings and the analyzers' of the Stream view's pass.
fn ui_loop(
    source: Source,
    store: Store,
    cfgs: (EngineConfig, AnalyzerConfig),
    feed: Feed,
    tx: SyncSender<Event>,
    rx: Receiver<Event>,
    filter: Option<&str>,
) -> std::io::Result<Outcome> {
    let (mut terminal, guard) = term::setup()?;
    let size = terminal.size()?;
    let mut app = App::new(source, store, Theme::from_env(), (size.width, size.height));
    if let Some(f) = filter {
        app.start_filter(f);
    }

    // InputFile.
    {
        let tx = tx.clone();
        thread::Builder::new().name("input".into()).spawn(move || {
            loop {
                let ev = match cev::read() {
                    Ok(CEvent::Key(k)) => Event::Key(k),
                    Ok(CEvent::Mouse(m)) => Event::Mouse(m),
                    Ok(CEvent::Resize(w, h)) => Event::Resize(w, h),
                    Ok(_) => continue,
                    Err(_) => break,
                };
                if tx.send(ev).is_err() {
                    break;
                }
            }
        })?;
    }
    // Ticks.
    {
        let tx = tx.clone();
        thread::Builder::new().name("tick".into()).spawn(move || {
            loop {
                if tx.send(Event::Tick { rss: rss_bytes() }).is_err() {
                    break;
                }
                thread::sleep(Duration::from_secs(1));
            }
        })?;
    }

    let mut stream_cancel: Option<Arc<AtomicBool>> = None;
    terminal.draw(|f| views::draw(f, &app))?;
    app.dirty = false;
    let mut last_draw = Instant::now();
    'outer: loop {
        let wait = if app.dirty {
            FRAME.saturating_sub(last_draw.elapsed())
        } else {
            Duration::from_millis(500)
        };
        let first = match rx.recv_timeout(wait) {
            Ok(ev) => Some(ev),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let mut pending = first;
        let drain_start = Instant::now();
        while let Some(ev) = pending.take() {
            match app.update(ev) {
                Action::None => {}
                Action::Quit => break 'outer,
                Action::LoadStream(conn) => {
                    if let Some(c) = stream_cancel.take() {
                        c.store(true, Ordering::Relaxed);
                    }
                    let inputs = match &feed {
                        Feed::File { inputs } => Some(inputs.clone()),
                        Feed::Live { .. } => app.saved.as_ref().map(|p| vec![InputFile::new(p)]),
                    };
                    if let Some(inputs) = inputs {
                        let c = Arc::new(AtomicBool::new(false));
                        stream_cancel = Some(Arc::clone(&c));
                        let (tx2, (cfg, acfg)) = (tx.clone(), cfgs.clone());
                        spawn_caught("stream", tx.clone(), move || {
                            worker::load_stream(inputs, conn, cfg, acfg, tx2, c)
                        });
                    }
                }
                Action::Save => {
                    if let Feed::Live { snapshot, iface } = &feed {
                        let tx2 = tx.clone();
                        let snap = snapshot.clone();
                        let secs = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| d.as_secs());
                        let dest = worker::snapshot_name(iface, secs);
                        spawn_caught("save", tx.clone(), move || {
                            let r = match snap {
                                Some(s) => s.write_to(&dest).map(|_| dest.display().to_string()),
                                None => Err("nothing is being saved".into()),
                            };
                            let _ = tx2.send(Event::Saved(r));
                        });
                    }
                }
            }
            // Take what else is queued, for a bounded time, before drawing.
            if drain_start.elapsed() < FRAME {
                pending = rx.try_recv().ok();
            }
        }
        if app.dirty && last_draw.elapsed() >= FRAME {
            terminal.draw(|f| views::draw(f, &app))?;
            app.dirty = false;
            last_draw = Instant::now();
        }
    }
    if let Some(c) = stream_cancel {
        c.store(true, Ordering::Relaxed);
    }
    drop(guard);
    if let Some(e) = &app.failed {
        eprintln!("hopscope: {e}");
    }
    // Like a report run: status 2 when the capture could not be read to its end.
    Ok(match app.done.as_ref().and_then(|d| d.error.as_ref()) {
        Some(e) => {
            eprintln!("hopscope: {e}");
            Outcome::CaptureIncomplete
        }
        None => Outcome::Ok,
    })
}

/// The analyzer configuration the TUI uses (exposed for tests).
pub fn analyzer_config(a: &AnalysisArgs) -> AnalyzerConfig {
    worker::ui_analyzer_config(a.analyzer_config())
}
