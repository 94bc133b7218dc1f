//! Live capture through libpcap (the `pcap` crate) in a capture thread feeding the analysis
//! over a bounded channel.
//!
//! ```text
//!  capture thread                                   main thread
//!  ──────────────                                   ───────────
//!  pcap next_packet (100 ms read timeout)
//!   → OwnedPacket
//!   → -w FILE (pcapng, written here, so the file
//!     has every captured packet even when the
//!     analysis falls behind)
//!   → try_send ── sync_channel(--queue) ──────────▶ Engine::handle_packet → report writer
//!     full: count (dropped.hopscope)                 (the engine does not know it is live)
//!  stops on Ctrl-C, -c N, --duration, or a
//!  closed channel; returns pcap stats
//! ```
//!
//! The capture thread owns every stop condition that is about *what is captured* (`-c`,
//! `--duration`, Ctrl-C), so the saved file and the analysis agree; the main thread drains the
//! channel until the capture thread hangs up, then finishes the report like a file run.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::thread;
use std::time::{Duration, Instant};

use pcap::{Activated, Active, Capture};

use super::pcapng_writer::{InterfaceInfo, PcapngWriter, dlt_to_linktype};
use crate::base::sanitize::terminal_safe_str;
use crate::base::{LinkType, OwnedPacket, Timestamp};
use crate::cli::LiveArgs;
use crate::engine::Engine;
use crate::model::{Dropped, Finding, Record, Severity};
use crate::report::{self, ReportWriter, is_broken_pipe};
use crate::run::{Outcome, Progress, open_output};

/// How long one libpcap read waits before the capture thread looks at its stop conditions.
const READ_TIMEOUT_MS: i32 = 100;
/// How long the main thread waits for a packet before it looks at the output and progress.
const RECV_TIMEOUT: Duration = Duration::from_millis(250);
/// The saved file is flushed at least this often, so it is usable while the capture runs.
const SAVE_FLUSH_EVERY: Duration = Duration::from_secs(1);

const SETCAP_HINT: &str = "capturing needs privileges: run hopscope as root, or give it the \
     capabilities once with\n    sudo setcap cap_net_raw,cap_net_admin+eip $(command -v hopscope)";

// ───────────────────────────── hopscope interfaces ─────────────────────────────

/// `hopscope interfaces`.
pub fn interfaces() -> Outcome {
    let devices = match pcap::Device::list() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("hopscope: cannot list interfaces: libpcap says: {e}");
            if is_permission_error(&e.to_string()) {
                eprintln!("hopscope: {SETCAP_HINT}");
            }
            return Outcome::Failed;
        }
    };
    if devices.is_empty() {
        eprintln!(
            "hopscope: libpcap found no interfaces (without capture privileges some systems \
             list none; {SETCAP_HINT})"
        );
        return Outcome::Failed;
    }
    let width = devices
        .iter()
        .map(|d| terminal_safe_str(&d.name).chars().count())
        .max()
        .unwrap_or(0);
    let mut out = io::stdout().lock();
    for d in &devices {
        let line = device_line(
            &d.name,
            d.desc.as_deref(),
            &d.addresses,
            DevFlags {
                up: d.flags.is_up(),
                running: d.flags.is_running(),
                loopback: d.flags.is_loopback(),
            },
            width,
        );
        if let Err(e) = writeln!(out, "{line}") {
            if is_broken_pipe(&e) {
                return Outcome::Ok;
            }
            eprintln!("hopscope: cannot write the interface list: {e}");
            return Outcome::Failed;
        }
    }
    if let Err(e) = out.flush()
        && !is_broken_pipe(&e)
    {
        eprintln!("hopscope: cannot write the interface list: {e}");
        return Outcome::Failed;
    }
    Outcome::Ok
}

#[derive(Clone, Copy, Debug, Default)]
struct DevFlags {
    up: bool,
    running: bool,
    loopback: bool,
}

/// One line of `hopscope interfaces`: name, flags, addresses, description. Names and
/// descriptions come from the system and are escaped for the terminal.
fn device_line(
    name: &str,
    desc: Option<&str>,
    addresses: &[pcap::Address],
    flags: DevFlags,
    width: usize,
) -> String {
    let name = terminal_safe_str(name);
    let mut f = Vec::new();
    f.push(if flags.up { "up" } else { "down" });
    if flags.running {
        f.push("running");
    }
    if flags.loopback {
        f.push("loopback");
    }
    let addrs: Vec<String> = addresses
        .iter()
        .map(|a| match a.netmask.and_then(prefix_len) {
            Some(p) => format!("{}/{p}", a.addr),
            None => a.addr.to_string(),
        })
        .collect();
    let mut line = format!("{name:<width$}  [{}]", f.join(","));
    if !addrs.is_empty() {
        line.push_str("  ");
        line.push_str(&addrs.join(" "));
    }
    if let Some(d) = desc.filter(|d| !d.is_empty()) {
        line.push_str("  (");
        line.push_str(&terminal_safe_str(d));
        line.push(')');
    }
    line
}

/// The prefix length of a contiguous netmask (`255.255.255.0` → 24).
fn prefix_len(mask: IpAddr) -> Option<u32> {
    let (ones, bits, zeros) = match mask {
        IpAddr::V4(m) => {
            let v = u32::from(m);
            (v.count_ones(), 32, v.trailing_zeros())
        }
        IpAddr::V6(m) => {
            let v = u128::from(m);
            (v.count_ones(), 128, v.trailing_zeros())
        }
    };
    (ones + zeros == bits).then_some(ones)
}

// ───────────────────────────── opening the capture ─────────────────────────────

fn is_permission_error(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    m.contains("permission") || m.contains("operation not permitted")
}

fn is_no_such_device(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    m.contains("no such device") || m.contains("doesn't exist") || m.contains("does not exist")
}

/// What to tell the user when the interface cannot be opened.
fn open_error_message(iface: &str, err: &str) -> String {
    let iface = terminal_safe_str(iface);
    let err = terminal_safe_str(err);
    if is_permission_error(&err) {
        format!("hopscope: not permitted to capture on {iface} ({err})\nhopscope: {SETCAP_HINT}")
    } else if is_no_such_device(&err) {
        format!(
            "hopscope: there is no interface {iface} ({err}); `hopscope interfaces` lists the \
             ones that can be captured"
        )
    } else {
        format!("hopscope: cannot capture on {iface}: {err}")
    }
}

/// Opens and activates the capture, then applies the filter. Errors are complete messages.
fn open_capture(args: &LiveArgs) -> Result<Capture<Active>, String> {
    let iface = args.interface.as_str();
    let cap = Capture::from_device(iface)
        .map_err(|e| open_error_message(iface, &e.to_string()))?
        .snaplen(args.snaplen)
        .promisc(!args.no_promisc)
        .immediate_mode(true)
        .timeout(READ_TIMEOUT_MS);
    let mut cap = cap
        .open()
        .map_err(|e| open_error_message(iface, &e.to_string()))?;
    if let Some(f) = &args.filter {
        cap.filter(f, true).map_err(|e| {
            format!(
                "hopscope: bad capture filter \"{}\": {}",
                terminal_safe_str(f),
                terminal_safe_str(&e.to_string())
            )
        })?;
    }
    Ok(cap)
}

fn validate(args: &LiveArgs) -> Result<(), String> {
    if args.queue == 0 {
        return Err("--queue must be at least 1".into());
    }
    if args.snaplen <= 0 {
        return Err("--snaplen must be a positive number of bytes".into());
    }
    if let Some(d) = args.duration
        && !(d.is_finite() && d > 0.0 && d < 1e12)
    {
        return Err("--duration must be a positive number of seconds".into());
    }
    if args.count == Some(0) {
        return Err("--count must be at least 1".into());
    }
    Ok(())
}

// ───────────────────────────── the capture thread ─────────────────────────────

/// The saved capture (`-w`, or the TUI's spool). Shared with [`Snapshot`] through a mutex
/// that the capture thread takes per packet (uncontended, except while a snapshot flushes).
struct Save {
    path: String,
    writer: PcapngWriter<BufWriter<File>>,
    last_flush: Instant,
    /// Writing failed: nothing more is written, the error is reported at the end.
    failed: bool,
}

type SharedSave = Arc<Mutex<Save>>;

impl Save {
    fn create(path: &Path, link: LinkType, args: &LiveArgs) -> Result<Save, String> {
        let shown = path.display().to_string();
        let file = File::create(path).map_err(|e| format!("cannot create {shown}: {e}"))?;
        let info = InterfaceInfo {
            name: Some(&args.interface),
            filter: args.filter.as_deref(),
            snaplen: u32::try_from(args.snaplen).unwrap_or(0),
        };
        let writer = PcapngWriter::new(BufWriter::with_capacity(1 << 16, file), link, &info)
            .map_err(|e| format!("cannot write {shown}: {e}"))?;
        Ok(Save {
            path: shown,
            writer,
            last_flush: Instant::now(),
            failed: false,
        })
    }
}

/// Copies what was saved so far to another file while the capture goes on (the TUI's `w`).
#[derive(Clone)]
pub struct Snapshot {
    save: SharedSave,
    path: std::path::PathBuf,
}

impl Snapshot {
    /// Flushes the saved capture and copies it, up to the last packet written, to `dest`.
    /// Returns the bytes copied.
    pub fn write_to(&self, dest: &Path) -> Result<u64, String> {
        let len = {
            let mut s = self
                .save
                .lock()
                .map_err(|_| "the capture thread failed".to_string())?;
            if s.failed {
                return Err(format!("writing {} had failed", s.path));
            }
            s.writer
                .flush()
                .map_err(|e| format!("cannot write {}: {e}", s.path))?;
            std::fs::metadata(&self.path)
                .map_err(|e| format!("cannot read {}: {e}", self.path.display()))?
                .len()
        };
        let mut src = File::open(&self.path)
            .map_err(|e| format!("cannot read {}: {e}", self.path.display()))?;
        let mut dst =
            File::create(dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
        let n = io::copy(&mut io::Read::take(&mut src, len), &mut dst)
            .map_err(|e| format!("cannot write {}: {e}", dest.display()))?;
        dst.sync_all()
            .map_err(|e| format!("cannot write {}: {e}", dest.display()))?;
        Ok(n)
    }
}

/// What the capture thread needs besides the handle.
struct Feed {
    /// Interface name, escaped for the terminal.
    iface: String,
    tx: SyncSender<OwnedPacket>,
    stop: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
    link: LinkType,
    count: Option<u64>,
    deadline: Option<Instant>,
    save: Option<SharedSave>,
    /// libpcap's drop counters (kernel + interface), refreshed about once a second.
    pcap_dropped: Arc<AtomicU64>,
}

/// How the capture thread ended.
struct CaptureEnd {
    /// libpcap statistics, or why they are not available.
    stats: Result<pcap::Stat, String>,
    /// The read error that stopped the capture, if any.
    error: Option<String>,
    /// The error that stopped the saved file, if any.
    save_error: Option<String>,
}

/// Reads until a stop condition, the end of the source or a closed channel. Generic over the
/// handle so tests can drive it from a saved file.
fn capture_loop<T: Activated + ?Sized>(mut cap: Capture<T>, mut feed: Feed) -> CaptureEnd {
    let mut captured: u64 = 0;
    let mut error = None;
    let mut save_error = None;
    let mut last_stats = Instant::now();
    loop {
        if last_stats.elapsed() >= SAVE_FLUSH_EVERY {
            last_stats = Instant::now();
            if let Ok(st) = cap.stats() {
                feed.pcap_dropped.store(
                    u64::from(st.dropped) + u64::from(st.if_dropped),
                    Ordering::Relaxed,
                );
            }
        }
        if feed.stop.load(Ordering::Relaxed)
            || feed.count.is_some_and(|c| captured >= c)
            || feed.deadline.is_some_and(|d| Instant::now() >= d)
        {
            break;
        }
        let pkt = match cap.next_packet() {
            // `time_t` and `suseconds_t` are `i32` on some targets.
            #[allow(clippy::useless_conversion)]
            Ok(p) => OwnedPacket {
                ts: Timestamp::from_secs_nanos(
                    i64::from(p.header.ts.tv_sec),
                    i64::from(p.header.ts.tv_usec).saturating_mul(1000),
                ),
                link: feed.link,
                data: p.data.to_vec(),
                orig_len: p.header.len,
                interface: 0,
            },
            Err(pcap::Error::TimeoutExpired) => {
                flush_save(&mut feed.save, &mut save_error, false);
                continue;
            }
            // pcap_breakloop (or the end of a file, in tests).
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => {
                error = Some(format!("reading from {}: {e}", feed.iface));
                break;
            }
        };
        captured += 1;
        if let Some(shared) = &feed.save
            && let Ok(mut s) = shared.lock()
            && !s.failed
            && let Err(e) = s.writer.write_packet(&pkt.view())
        {
            save_error = Some(format!("cannot write {}: {e}", s.path));
            s.failed = true;
        }
        match feed.tx.try_send(pkt) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                feed.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => break,
        }
        flush_save(&mut feed.save, &mut save_error, false);
    }
    flush_save(&mut feed.save, &mut save_error, true);
    let stats = cap.stats().map_err(|e| e.to_string());
    CaptureEnd {
        stats,
        error,
        save_error,
    }
}

fn flush_save(save: &mut Option<SharedSave>, save_error: &mut Option<String>, force: bool) {
    let Some(shared) = save else {
        return;
    };
    let Ok(mut s) = shared.lock() else {
        return;
    };
    if s.failed || (!force && s.last_flush.elapsed() < SAVE_FLUSH_EVERY) {
        return;
    }
    s.last_flush = Instant::now();
    if let Err(e) = s.writer.flush() {
        *save_error = Some(format!("cannot write {}: {e}", s.path));
        s.failed = true;
    }
}

// ───────────────────────────── hopscope live ─────────────────────────────

/// Asks the capture thread to stop: the flag for when it is between reads, and
/// `pcap_breakloop` for when it is blocked in one. (libpcap 1.10 on Linux in immediate mode
/// never returns from a read on a quiet interface, whatever the read timeout; breakloop wakes
/// it.)
struct Stopper {
    stop: Arc<AtomicBool>,
    breaker: pcap::BreakLoop,
    requested: bool,
}

impl Stopper {
    fn request(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.breaker.breakloop();
        self.requested = true;
    }
}

/// Sets `stop` on the first Ctrl-C; a second one exits at once (status 130).
fn install_ctrlc(stop: Arc<AtomicBool>) {
    let res = ctrlc::set_handler(move || {
        if stop.swap(true, Ordering::SeqCst) {
            eprintln!("hopscope: interrupted again; exiting without the final report");
            std::process::exit(130);
        }
        eprintln!("hopscope: stopping (Ctrl-C again to exit at once)");
    });
    if let Err(e) = res {
        eprintln!("hopscope: cannot handle Ctrl-C ({e}); stop with -c or --duration");
    }
}

/// A running capture: the capture thread and the channel of its packets. The report run
/// (`hopscope live`) and the terminal UI both drive the analysis from it.
pub struct LiveSession {
    /// The captured packets, until the capture thread hangs up.
    pub rx: mpsc::Receiver<OwnedPacket>,
    stop: Arc<AtomicBool>,
    stopper: Stopper,
    deadline: Option<Instant>,
    handle: Option<thread::JoinHandle<CaptureEnd>>,
    dropped: Arc<AtomicU64>,
    pcap_dropped: Arc<AtomicU64>,
    queue: usize,
    save: Option<(SharedSave, std::path::PathBuf)>,
    started: Instant,
}

/// How a capture ended.
pub struct LiveEnd {
    pub kernel: u64,
    pub interface: u64,
    pub ours: u64,
    /// The read error that stopped the capture.
    pub error: Option<String>,
    /// The error that stopped the saved file.
    pub save_error: Option<String>,
    /// libpcap statistics were not available (why).
    pub stats_error: Option<String>,
    /// Drop findings and `capture.incomplete`, to add to the records.
    pub findings: Vec<Finding>,
}

impl LiveSession {
    /// Validates the arguments, opens the interface, creates the saved file (`save`, else
    /// `-w`) and starts the capture thread. Errors are complete messages.
    pub fn start(args: &LiveArgs, save: Option<&Path>) -> Result<LiveSession, String> {
        validate(args).map_err(|e| format!("hopscope: {e}"))?;
        let mut cap = open_capture(args)?;
        let dlt = LinkType(u32::try_from(cap.get_datalink().0).unwrap_or(u32::MAX));
        let save_path = save.map(Path::to_path_buf).or_else(|| args.write.clone());
        let save = match &save_path {
            Some(p) => Some((
                Arc::new(Mutex::new(
                    Save::create(p, dlt_to_linktype(dlt), args)
                        .map_err(|e| format!("hopscope: {e}"))?,
                )),
                p.clone(),
            )),
            None => None,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicU64::new(0));
        let pcap_dropped = Arc::new(AtomicU64::new(0));
        let (tx, rx) = mpsc::sync_channel::<OwnedPacket>(args.queue);
        let deadline = args
            .duration
            .map(|d| Instant::now() + Duration::from_secs_f64(d));
        let stopper = Stopper {
            stop: Arc::clone(&stop),
            breaker: cap.breakloop_handle(),
            requested: false,
        };
        let feed = Feed {
            iface: terminal_safe_str(&args.interface),
            tx,
            stop: Arc::clone(&stop),
            dropped: Arc::clone(&dropped),
            link: dlt,
            count: args.count,
            deadline,
            save: save.as_ref().map(|(s, _)| Arc::clone(s)),
            pcap_dropped: Arc::clone(&pcap_dropped),
        };
        let handle = thread::Builder::new()
            .name("capture".into())
            .spawn(move || capture_loop(cap, feed))
            .map_err(|e| format!("hopscope: cannot start the capture thread: {e}"))?;
        Ok(LiveSession {
            rx,
            stop,
            stopper,
            deadline,
            handle: Some(handle),
            dropped,
            pcap_dropped,
            queue: args.queue,
            save,
            started: Instant::now(),
        })
    }

    /// The flag that Ctrl-C sets.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// Wakes the capture thread when a stop was asked for or the duration is over; call
    /// between packets (this thread is the capture thread's timer).
    pub fn poll_stop(&mut self) {
        if !self.stopper.requested
            && (self.stop.load(Ordering::Relaxed)
                || self.deadline.is_some_and(|d| Instant::now() >= d))
        {
            self.stopper.request();
        }
    }

    /// Stops the capture.
    pub fn request_stop(&mut self) {
        self.stopper.request();
    }

    /// Packets dropped so far: (libpcap's kernel + interface, hopscope's queue).
    pub fn drops(&self) -> (u64, u64) {
        (
            self.pcap_dropped.load(Ordering::Relaxed),
            self.dropped.load(Ordering::Relaxed),
        )
    }

    /// Seconds since the capture started.
    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// A handle that copies the saved capture so far (when one is being saved).
    pub fn snapshot(&self) -> Option<Snapshot> {
        self.save.as_ref().map(|(s, p)| Snapshot {
            save: Arc::clone(s),
            path: p.clone(),
        })
    }

    /// Stops the capture thread (if it still runs), waits for it, and says how it ended.
    pub fn finish(mut self) -> LiveEnd {
        self.stopper.request();
        // Unblocks a capture thread waiting on a full queue.
        let rx = std::mem::replace(&mut self.rx, mpsc::sync_channel(1).1);
        drop(rx);
        let end = match self.handle.take().map(|h| h.join()) {
            Some(Ok(end)) => end,
            _ => CaptureEnd {
                stats: Err("the capture thread panicked".into()),
                error: Some("the capture thread panicked".into()),
                save_error: None,
            },
        };
        let ours = self.dropped.load(Ordering::Relaxed);
        let (kernel, interface, stats_error) = match &end.stats {
            Ok(s) => (u64::from(s.dropped), u64::from(s.if_dropped), None),
            Err(e) => (0, 0, Some(e.clone())),
        };
        let mut findings = drop_findings(kernel, interface, ours, self.queue);
        if let Some(e) = &end.error {
            findings.push(Finding::new(
                "capture.incomplete",
                Severity::Error,
                format!("{e}; everything before it was analysed"),
            ));
        }
        LiveEnd {
            kernel,
            interface,
            ours,
            error: end.error,
            save_error: end.save_error,
            stats_error,
            findings,
        }
    }
}

/// `hopscope live`.
pub fn run(args: &LiveArgs) -> Outcome {
    let cfg = match args.tuning.engine_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hopscope: {e}");
            return Outcome::Failed;
        }
    };
    if let Err(e) = validate(args) {
        eprintln!("hopscope: {e}");
        return Outcome::Failed;
    }
    let out = match open_output(&args.output) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("hopscope: {e}");
            return Outcome::Failed;
        }
    };
    let mut session = match LiveSession::start(args, None) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("{msg}");
            return Outcome::Failed;
        }
    };
    // Proxy legs are correlated, then the semantics step runs, between the engine and the
    // report writer.
    let mut base =
        crate::semantics::SemanticsSink::new(report::writer_with(args.output.format, out, true));
    let mut hops = crate::hops::HopSink::new(&mut base);
    let writer: &mut dyn ReportWriter = &mut hops;
    // Progress shares the terminal with the report only when the report goes elsewhere.
    let mut progress = Progress::new(
        args.output.no_progress || (args.output.output.is_none() && io::stdout().is_terminal()),
    );
    install_ctrlc(session.stop_flag());

    eprintln!(
        "hopscope: capturing on {} (filter: {})",
        terminal_safe_str(&args.interface),
        args.filter
            .as_deref()
            .map(terminal_safe_str)
            .unwrap_or_else(|| "none".into())
    );

    // The analysis: everything the capture thread sends, until it hangs up. This thread is
    // also the timer that wakes the capture thread for Ctrl-C and --duration.
    let mut engine = Engine::with_analyzer(
        cfg,
        crate::analyzers::Dispatcher::new(args.analysis.app_config()),
    );
    let mut bytes: u64 = 0;
    loop {
        session.poll_stop();
        match session.rx.recv_timeout(RECV_TIMEOUT) {
            Ok(pkt) => {
                bytes += pkt.data.len() as u64;
                engine.handle_packet(&pkt.view(), &mut *writer);
                if writer.failed().is_some() {
                    break;
                }
                if engine.packets() % 1024 == 0 {
                    progress.tick(bytes, None, engine.packets(), engine.live_flows());
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                engine.tick(quiet_clock(), &mut *writer);
                progress.tick(bytes, None, engine.packets(), engine.live_flows());
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    progress.done();
    // Stops the capture thread when the analysis ended first (output closed).
    let end = session.finish();
    if let Some(e) = &end.stats_error {
        eprintln!("hopscope: libpcap statistics are not available: {e}");
    }
    for f in end.findings.iter().cloned() {
        writer.record(Record::Finding(f));
    }
    let mut summary = engine.finish(&mut *writer);
    summary.source = format!("live:{}", args.interface);
    summary.format = "live".into();
    summary.error = end.error.clone();
    summary.dropped = Some(Dropped {
        kernel: end.kernel,
        interface: end.interface,
        hopscope: end.ours,
    });
    let finish = if writer.failed().is_none() {
        writer.finish(&summary)
    } else {
        Ok(())
    };
    outcome(&*writer, finish, &end)
}

/// The clock of a live capture while no packet arrives: wall time less a second (libpcap
/// hands buffered packets over within its 100 ms read timeout; the second leaves room for the
/// channel), so no packet still on its way is older than the sweep [`Engine::tick`] runs.
pub fn quiet_clock() -> Timestamp {
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    Timestamp(wall.saturating_sub(1_000_000_000))
}

/// Findings for packets lost before the analysis (the report is partial when any are).
fn drop_findings(kernel: u64, interface: u64, ours: u64, queue: usize) -> Vec<Finding> {
    let mut v = Vec::new();
    if kernel > 0 || interface > 0 {
        v.push(Finding::new(
            "capture.kernel-dropped",
            Severity::Warning,
            format!(
                "libpcap reports {kernel} packets dropped by the kernel and {interface} by the \
                 interface; connections that lost them show gaps (narrow the capture with -f, \
                 or lower -s)"
            ),
        ));
    }
    if ours > 0 {
        v.push(Finding::new(
            "capture.analysis-dropped",
            Severity::Warning,
            format!(
                "{ours} packets were captured but dropped because the analysis fell behind \
                 (queue of {queue} packets full); they are in the -w file if one was written \
                 (raise --queue, or narrow the capture with -f)"
            ),
        ));
    }
    v
}

/// Maps how the run ended to an outcome, like a file run: a closed pipe is not an error.
fn outcome(writer: &dyn ReportWriter, finish: io::Result<()>, end: &LiveEnd) -> Outcome {
    let mut result = Outcome::Ok;
    if let Some(e) = &end.save_error {
        eprintln!("hopscope: {e}; the report is complete but the saved capture is not");
        result = Outcome::Failed;
    }
    if let Some(e) = writer.failed() {
        if is_broken_pipe(e) {
            return result;
        }
        eprintln!("hopscope: cannot write the report: {e}");
        return Outcome::Failed;
    }
    if let Err(e) = finish {
        if is_broken_pipe(&e) {
            return result;
        }
        eprintln!("hopscope: cannot write the report: {e}");
        return Outcome::Failed;
    }
    if let Some(e) = &end.error {
        eprintln!("hopscope: capture stopped: {e}");
        eprintln!("hopscope: the report covers everything before that point");
        if result == Outcome::Ok {
            result = Outcome::CaptureIncomplete;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn permission_errors_get_the_setcap_hint() {
        for e in [
            "libpcap error: socket: Operation not permitted",
            "libpcap error: You don't have permission to capture on that device (socket: Operation not permitted)",
            "libpcap error: Permission denied",
        ] {
            let m = open_error_message("eth0", e);
            assert!(m.contains("not permitted to capture on eth0"), "{m}");
            assert!(
                m.contains("sudo setcap cap_net_raw,cap_net_admin+eip $(command -v hopscope)"),
                "{m}"
            );
        }
    }

    #[test]
    fn unknown_interface_points_to_interfaces() {
        let m = open_error_message(
            "nosuch0",
            "libpcap error: No such device exists (SIOCGIFHWADDR: No such device)",
        );
        assert!(m.contains("there is no interface nosuch0"), "{m}");
        assert!(m.contains("`hopscope interfaces`"), "{m}");
        let m = open_error_message("x", "libpcap error: something else");
        assert_eq!(
            m,
            "hopscope: cannot capture on x: libpcap error: something else"
        );
    }

    #[test]
    fn interface_names_are_escaped() {
        let m = open_error_message("evil\x1b[2J", "no such device");
        assert!(!m.contains('\x1b'), "{m}");
        let line = device_line("a\x1b]0;x\x07", Some("d\x1b"), &[], DevFlags::default(), 0);
        assert!(!line.contains('\x1b') && !line.contains('\x07'), "{line}");
    }

    #[test]
    fn device_line_shows_flags_addresses_and_description() {
        let addrs = [
            pcap::Address {
                addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
                netmask: Some(IpAddr::V4(Ipv4Addr::new(255, 0, 0, 0))),
                broadcast_addr: None,
                dst_addr: None,
            },
            pcap::Address {
                addr: IpAddr::V6(Ipv6Addr::LOCALHOST),
                netmask: Some(IpAddr::V6(Ipv6Addr::from(u128::MAX))),
                broadcast_addr: None,
                dst_addr: None,
            },
        ];
        let flags = DevFlags {
            up: true,
            running: true,
            loopback: true,
        };
        assert_eq!(
            device_line("lo", None, &addrs, flags, 4),
            "lo    [up,running,loopback]  127.0.0.1/8 ::1/128"
        );
        assert_eq!(
            device_line("any", Some("Pseudo-device"), &[], DevFlags::default(), 0),
            "any  [down]  (Pseudo-device)"
        );
    }

    /// Writes `n` small packets to a pcapng file with our writer, for libpcap to read back.
    fn saved_capture(dir: &Path, n: usize) -> std::path::PathBuf {
        let p = dir.join("in.pcapng");
        let f = File::create(&p).expect("create");
        let mut w = PcapngWriter::new(f, LinkType::ETHERNET, &InterfaceInfo::default())
            .expect("pcapng header");
        for i in 0..n {
            let data = vec![i as u8; 60 + i];
            let pkt = crate::base::PacketView {
                ts: Timestamp(1_700_000_000_000_000_000 + i as i64 * 1_000),
                link: LinkType::ETHERNET,
                data: &data,
                orig_len: data.len() as u32,
                interface: 0,
            };
            w.write_packet(&pkt).expect("write packet");
        }
        w.into_inner().expect("flush");
        p
    }

    struct Harness {
        rx: mpsc::Receiver<OwnedPacket>,
        dropped: Arc<AtomicU64>,
        end: CaptureEnd,
    }

    fn drive(n: usize, queue: usize, count: Option<u64>, save: Option<&Path>) -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = saved_capture(dir.path(), n);
        let cap = Capture::from_file(&input).expect("libpcap opens our pcapng");
        let (tx, rx) = mpsc::sync_channel(queue);
        let dropped = Arc::new(AtomicU64::new(0));
        let save = save.map(|p| {
            Arc::new(Mutex::new(Save {
                path: p.display().to_string(),
                writer: PcapngWriter::new(
                    BufWriter::new(File::create(p).expect("create save")),
                    LinkType::ETHERNET,
                    &InterfaceInfo::default(),
                )
                .expect("save header"),
                last_flush: Instant::now(),
                failed: false,
            }))
        });
        let feed = Feed {
            iface: "test".into(),
            tx,
            stop: Arc::new(AtomicBool::new(false)),
            dropped: Arc::clone(&dropped),
            link: LinkType::ETHERNET,
            count,
            deadline: None,
            save,
            pcap_dropped: Arc::new(AtomicU64::new(0)),
        };
        let end = capture_loop(cap, feed);
        Harness { rx, dropped, end }
    }

    #[test]
    fn full_queue_counts_drops_but_the_saved_file_keeps_everything() {
        let dir = tempfile::tempdir().expect("tempdir");
        let saved = dir.path().join("saved.pcapng");
        // Nobody reads while the thread runs: 2 fit in the queue, 8 are dropped.
        let h = drive(10, 2, None, Some(&saved));
        assert!(h.end.error.is_none(), "{:?}", h.end.error);
        assert!(h.end.save_error.is_none(), "{:?}", h.end.save_error);
        assert_eq!(h.dropped.load(Ordering::Relaxed), 8);
        let got: Vec<OwnedPacket> = h.rx.try_iter().collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].data, vec![0u8; 60]);
        assert_eq!(got[1].ts, Timestamp(1_700_000_000_000_001_000));
        assert_eq!(got[1].link, LinkType::ETHERNET);
        assert_eq!(got[1].orig_len, 61);

        let mut back = Capture::from_file(&saved).expect("libpcap reads the saved file");
        let mut n = 0;
        while let Ok(p) = back.next_packet() {
            assert_eq!(p.data, vec![n as u8; 60 + n].as_slice());
            n += 1;
        }
        assert_eq!(n, 10, "the saved file has every captured packet");
    }

    #[test]
    fn a_snapshot_copies_what_was_saved_so_far() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spool = dir.path().join("spool.pcapng");
        let save = Arc::new(Mutex::new(Save {
            path: spool.display().to_string(),
            writer: PcapngWriter::new(
                BufWriter::with_capacity(1 << 16, File::create(&spool).expect("create")),
                LinkType::ETHERNET,
                &InterfaceInfo::default(),
            )
            .expect("header"),
            last_flush: Instant::now(),
            failed: false,
        }));
        // Three packets still in the writer's buffer, as between the capture thread's flushes.
        for i in 0..3u8 {
            let data = vec![i; 60];
            let pkt = crate::base::PacketView {
                ts: Timestamp(1_700_000_000_000_000_000 + i64::from(i)),
                link: LinkType::ETHERNET,
                data: &data,
                orig_len: 60,
                interface: 0,
            };
            save.lock()
                .expect("lock")
                .writer
                .write_packet(&pkt)
                .expect("write");
        }
        let snap = Snapshot {
            save: Arc::clone(&save),
            path: spool.clone(),
        };
        let dest = dir.path().join("copy.pcapng");
        assert!(snap.write_to(&dest).expect("snapshot") > 0);
        let mut back = Capture::from_file(&dest).expect("libpcap reads the copy");
        let mut k = 0;
        while back.next_packet().is_ok() {
            k += 1;
        }
        assert_eq!(k, 3, "the snapshot flushed the buffered packets");
        save.lock().expect("lock").failed = true;
        assert!(snap.write_to(&dest).is_err(), "a failed save is not copied");
    }

    #[test]
    fn count_stops_the_capture_thread() {
        let h = drive(10, 100, Some(4), None);
        assert_eq!(h.rx.try_iter().count(), 4);
        assert_eq!(h.dropped.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn closed_channel_stops_the_capture_thread() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = saved_capture(dir.path(), 5);
        let cap = Capture::from_file(&input).expect("open");
        let (tx, rx) = mpsc::sync_channel(10);
        drop(rx);
        let feed = Feed {
            iface: "test".into(),
            tx,
            stop: Arc::new(AtomicBool::new(false)),
            dropped: Arc::new(AtomicU64::new(0)),
            link: LinkType::ETHERNET,
            count: None,
            deadline: None,
            save: None,
            pcap_dropped: Arc::new(AtomicU64::new(0)),
        };
        let end = capture_loop(cap, feed);
        assert!(end.error.is_none());
    }

    #[test]
    fn prefix_lengths() {
        assert_eq!(
            prefix_len(IpAddr::V4(Ipv4Addr::new(255, 255, 255, 0))),
            Some(24)
        );
        assert_eq!(prefix_len(IpAddr::V4(Ipv4Addr::new(0, 0, 0, 0))), Some(0));
        assert_eq!(prefix_len(IpAddr::V4(Ipv4Addr::new(255, 0, 255, 0))), None);
    }

    #[test]
    fn drop_findings_only_when_something_was_dropped() {
        assert!(drop_findings(0, 0, 0, 10).is_empty());
        let f = drop_findings(3, 0, 5, 10);
        let codes: Vec<_> = f.iter().map(|f| f.code.to_string()).collect();
        assert_eq!(
            codes,
            ["capture.kernel-dropped", "capture.analysis-dropped"]
        );
    }

    #[test]
    fn bad_arguments_are_refused() {
        use clap::Parser;
        let parse = |extra: &[&str]| {
            let mut v = vec!["hopscope", "live", "-i", "lo"];
            v.extend_from_slice(extra);
            match crate::cli::Cli::parse_from(v).command {
                Some(crate::cli::Command::Live(a)) => a,
                other => panic!("not a live command: {other:?}"),
            }
        };
        assert!(validate(&parse(&[])).is_ok());
        assert!(validate(&parse(&["--queue", "0"])).is_err());
        assert!(validate(&parse(&["--duration", "0"])).is_err());
        assert!(validate(&parse(&["--duration", "NaN"])).is_err());
        assert!(validate(&parse(&["-c", "0"])).is_err());
        assert!(validate(&parse(&["-s", "0"])).is_err());
    }
}
