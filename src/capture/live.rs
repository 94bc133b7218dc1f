//! Live capture through libpcap (the `pcap` crate): one capture thread per interface, all
//! feeding one analysis.
//!
//! ```text
//!  capture thread per interface (-i lo -i eth0)     main thread
//!  ───────────────────────────────────────────      ───────────
//!  pcap next_packet (100 ms read timeout)
//!   → OwnedPacket (interface = its -i index)
//!   → -w FILE (one pcapng, one interface
//!     description per interface, written here,
//!     so the file has every captured packet
//!     even when the analysis falls behind)
//!   → admitted while fewer than --queue packets
//!     are in the channel or the hold-back, else
//!     dropped and counted (dropped.hopscope) ──── channel ──▶ HoldBack (time order across
//!                                                             interfaces; nothing held with
//!                                                             one) → LiveSession, a
//!                                                             PacketSource read by the one
//!                                                             drive loop (crate::pipeline;
//!                                                             the engine does not know it
//!                                                             is live)
//!  stops on Ctrl-C, -c N (over all interfaces),
//!  --duration, or a closed channel; returns its
//!  pcap stats
//! ```
//!
//! The capture threads own every stop condition that is about *what is captured* (`-c`,
//! `--duration`, Ctrl-C), so the saved file and the analysis agree; the analysis drains the
//! channel until every capture thread hangs up, then finishes like a file run.
//!
//! Several interfaces (`-i lo -i eth0`): each has its own handle, filter, snaplen, promiscuous
//! setting, link type and drop counters; its packets carry its index (`PacketView.file`, as a
//! merged file's do), so connections and findings name the interfaces, and the report lists
//! them in `capture.files[]`. They share the host's clock ([`PacketSource::clock_of`] is 0 for
//! all). Packets are put in time order by [`super::holdback::HoldBack`] (bounded, part of the
//! `--queue` budget). An interface that cannot be opened is reported and the others are
//! captured; the run fails only when none opens. The `hopscope live` command and `hopscope
//! interfaces` are in `crate::run::live`.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender, TryRecvError};
use std::thread;
use std::time::{Duration, Instant};

use pcap::{Activated, Active, Capture};

use super::holdback::{HOLD, HOLD_BYTES, HoldBack};
use super::pcapng_writer::{InterfaceInfo, PcapngWriter, dlt_to_linktype};
use super::{CaptureError, Next, PacketSource, SourceEnd};
use crate::base::sanitize::terminal_safe_str;
use crate::base::{LinkType, OwnedPacket, Timestamp};
use crate::model::{Dropped, FileSummary};

/// How long one libpcap read waits before the capture thread looks at its stop conditions.
const READ_TIMEOUT_MS: i32 = 100;
/// How long the analysis waits for a packet before the source says it is idle.
const RECV_TIMEOUT: Duration = Duration::from_millis(50);
/// The saved file is flushed at least this often, so it is usable while the capture runs.
const SAVE_FLUSH_EVERY: Duration = Duration::from_secs(1);

/// What to do when libpcap is not permitted to capture.
pub const SETCAP_HINT: &str = "capturing needs privileges: run hopscope as root, or give it the \
     capabilities once with\n    sudo setcap cap_net_raw,cap_net_admin+eip $(command -v hopscope)";

// ───────────────────────────── opening the capture ─────────────────────────────

/// Whether a libpcap error message means missing privileges.
pub fn is_permission_error(msg: &str) -> bool {
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

/// What to capture, validated (`crate::cli::LiveArgs::capture_config`).
#[derive(Clone, Debug)]
pub struct LiveConfig {
    /// Interface names (`any` for all), at least one, each once, in the order given: a
    /// packet's `file` is its interface's index here.
    pub interfaces: Vec<String>,
    /// BPF capture filter (applied on every interface).
    pub filter: Option<String>,
    /// Bytes captured per packet (positive).
    pub snaplen: i32,
    pub promisc: bool,
    /// Also save what was captured (pcapng).
    pub write: Option<PathBuf>,
    /// Stop after this many packets over all interfaces (at least 1).
    pub count: Option<u64>,
    /// Stop after this many seconds (positive, finite).
    pub duration: Option<f64>,
    /// Packets queued between the capture threads and the analysis, the hold-back that puts
    /// several interfaces in time order included (at least 1).
    pub queue: usize,
}

impl LiveConfig {
    /// The interfaces as `capture.source` names them: `lo`, `lo,eth0`.
    pub fn label(&self) -> String {
        self.interfaces.join(",")
    }
}

/// Opens and activates the capture on `iface`, then applies the filter. Errors are complete
/// messages.
fn open_capture(iface: &str, args: &LiveConfig) -> Result<Capture<Active>, String> {
    let cap = Capture::from_device(iface)
        .map_err(|e| open_error_message(iface, &e.to_string()))?
        .snaplen(args.snaplen)
        .promisc(args.promisc)
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

// ───────────────────────────── the capture thread ─────────────────────────────

/// The saved capture (`-w`, or the TUI's spool). Shared with [`Snapshot`] (and, with several
/// interfaces, by their capture threads) through a mutex taken per packet.
struct Save {
    path: String,
    writer: PcapngWriter<BufWriter<File>>,
    last_flush: Instant,
    /// Writing failed: nothing more is written, the error is reported at the end.
    failed: bool,
}

type SharedSave = Arc<Mutex<Save>>;

impl Save {
    /// Creates the file with one interface description per interface opened (`(name, DLT)`,
    /// in order: the k-th is interface id k in the file).
    fn create(path: &Path, ifaces: &[(&str, LinkType)], args: &LiveConfig) -> Result<Save, String> {
        let shown = path.display().to_string();
        let file = File::create(path).map_err(|e| format!("cannot create {shown}: {e}"))?;
        let info = |name| InterfaceInfo {
            name: Some(name),
            filter: args.filter.as_deref(),
            snaplen: u32::try_from(args.snaplen).unwrap_or(0),
            nanoseconds: false,
        };
        let Some(((first, link), rest)) = ifaces.split_first() else {
            return Err(format!("cannot write {shown}: no interface was opened"));
        };
        let mut writer = PcapngWriter::new(
            BufWriter::with_capacity(1 << 16, file),
            dlt_to_linktype(*link),
            &info(first),
        )
        .map_err(|e| format!("cannot write {shown}: {e}"))?;
        for (name, link) in rest {
            writer
                .add_interface(dlt_to_linktype(*link), &info(name))
                .map_err(|e| format!("cannot write {shown}: {e}"))?;
        }
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

/// What a capture thread sends the analysis.
enum Msg {
    /// A packet (its `interface` is its interface's index).
    Packet(OwnedPacket),
    /// The thread of interface `.0` ended: nothing more comes from it.
    Ended(u32),
}

/// The `--queue` budget shared by the capture threads and the analysis: packets in the
/// channel or held for time order. A thread takes a place per packet (or drops the packet when
/// none is left); the analysis gives it back when it hands the packet on.
#[derive(Clone)]
struct Admission {
    queued: Arc<AtomicUsize>,
    limit: usize,
}

impl Admission {
    fn new(limit: usize) -> Self {
        Admission {
            queued: Arc::new(AtomicUsize::new(0)),
            limit: limit.max(1),
        }
    }

    /// Takes a place, if one is left.
    fn try_take(&self) -> bool {
        self.queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .is_ok()
    }

    fn give_back(&self) {
        let _ = self
            .queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }
}

/// What a capture thread needs besides the handle.
struct Feed {
    /// Interface name, escaped for the terminal.
    iface: String,
    /// Its index among the interfaces given (the packets' `interface`).
    index: u32,
    /// Its interface id in the saved file.
    save_id: u32,
    tx: Sender<Msg>,
    admission: Admission,
    stop: Arc<AtomicBool>,
    /// Packets dropped because the queue was full (this interface's).
    dropped: Arc<AtomicU64>,
    link: LinkType,
    count: Option<u64>,
    /// Packets captured over all interfaces (for `count`).
    captured: Arc<AtomicU64>,
    deadline: Option<Instant>,
    save: Option<SharedSave>,
    /// libpcap's drop counters (kernel + interface), refreshed about once a second.
    pcap_dropped: Arc<AtomicU64>,
}

/// How a capture thread ended.
struct CaptureEnd {
    /// libpcap statistics, or why they are not available.
    stats: Result<pcap::Stat, String>,
    /// The read error that stopped the capture, if any.
    error: Option<String>,
    /// The error that stopped the saved file, if any.
    save_error: Option<String>,
}

/// Reads until a stop condition, the end of the source or a closed channel, then says so on
/// the channel. Generic over the handle so tests can drive it from a saved file.
fn capture_loop<T: Activated + ?Sized>(mut cap: Capture<T>, mut feed: Feed) -> CaptureEnd {
    let mut error = None;
    let mut save_error = None;
    let mut last_stats = Instant::now();
    let count_reached = |n: u64| feed.count.is_some_and(|c| n >= c);
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
            || count_reached(feed.captured.load(Ordering::Relaxed))
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
                interface: feed.index,
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
        // Another interface may have reached the count while this one read.
        if count_reached(feed.captured.fetch_add(1, Ordering::Relaxed)) {
            break;
        }
        if let Some(shared) = &feed.save
            && let Ok(mut s) = shared.lock()
            && !s.failed
            && let Err(e) = s.writer.write_packet_on(feed.save_id, &pkt.view())
        {
            save_error = Some(format!("cannot write {}: {e}", s.path));
            s.failed = true;
        }
        if !feed.admission.try_take() {
            feed.dropped.fetch_add(1, Ordering::Relaxed);
        } else if feed.tx.send(Msg::Packet(pkt)).is_err() {
            break;
        }
        flush_save(&mut feed.save, &mut save_error, false);
    }
    flush_save(&mut feed.save, &mut save_error, true);
    let _ = feed.tx.send(Msg::Ended(feed.index));
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

/// One interface given with `-i`.
struct Iface {
    name: String,
    /// Its capture thread (none when it could not be opened).
    handle: Option<thread::JoinHandle<CaptureEnd>>,
    /// Wakes its capture thread: `pcap_breakloop` for when it is blocked in a read. (libpcap
    /// 1.10 on Linux in immediate mode never returns from a read on a quiet interface,
    /// whatever the read timeout; breakloop wakes it.)
    breaker: Option<pcap::BreakLoop>,
    link: Option<LinkType>,
    /// Why it could not be opened (the message, without the `hopscope: ` prefix).
    open_error: Option<String>,
    dropped: Arc<AtomicU64>,
    pcap_dropped: Arc<AtomicU64>,
    /// Packets and bytes handed to the analysis, first and last time.
    summary: FileSummary,
}

impl Iface {
    /// An interface not opened yet: no thread, nothing counted.
    fn new(name: &str) -> Self {
        Iface {
            name: name.into(),
            handle: None,
            breaker: None,
            link: None,
            open_error: None,
            dropped: Arc::new(AtomicU64::new(0)),
            pcap_dropped: Arc::new(AtomicU64::new(0)),
            summary: FileSummary {
                path: format!("live:{name}"),
                format: "live".into(),
                offset_source: "none".into(),
                ..FileSummary::default()
            },
        }
    }
}

/// A running capture: the capture threads and the channel of their packets, read as a
/// [`PacketSource`] by the report run (`hopscope live`) and the terminal UI alike.
pub struct LiveSession {
    /// The captured packets, until every capture thread hangs up.
    rx: mpsc::Receiver<Msg>,
    /// Every capture thread hung up.
    disconnected: bool,
    /// Packets put in time order across the interfaces.
    hold: HoldBack,
    admission: Admission,
    /// The packet handed out last (the view borrows it).
    current: Option<OwnedPacket>,
    /// Bytes captured so far.
    bytes: u64,
    stop: Arc<AtomicBool>,
    /// The capture threads were asked to stop.
    stop_requested: bool,
    count: Option<u64>,
    captured: Arc<AtomicU64>,
    deadline: Option<Instant>,
    ifaces: Vec<Iface>,
    queue: usize,
    save: Option<(SharedSave, PathBuf)>,
}

/// `hopscope: cannot …` as a `capture.files[].error` (first line, no prefix).
fn bare_message(msg: &str) -> String {
    let first = msg.lines().next().unwrap_or_default();
    first
        .strip_prefix("hopscope: ")
        .unwrap_or(first)
        .to_string()
}

impl LiveSession {
    /// Opens the interfaces, creates the saved file (`save`, else `-w`) and starts a capture
    /// thread per interface. Fails (with complete messages, one a line) when no interface
    /// can be opened; the ones that cannot among others are in [`Self::open_errors`].
    pub fn start(args: &LiveConfig, save: Option<&Path>) -> Result<LiveSession, String> {
        let mut opened = Vec::new();
        let mut errors: Vec<String> = Vec::new();
        let mut ifaces: Vec<Iface> = Vec::with_capacity(args.interfaces.len());
        for (i, name) in args.interfaces.iter().enumerate() {
            let mut iface = Iface::new(name);
            match open_capture(name, args) {
                Ok(mut cap) => {
                    let dlt = LinkType(u32::try_from(cap.get_datalink().0).unwrap_or(u32::MAX));
                    iface.link = Some(dlt);
                    iface.summary.link_types.push(dlt.name());
                    iface.breaker = Some(cap.breakloop_handle());
                    opened.push((i, cap));
                }
                Err(msg) => {
                    iface.open_error = Some(bare_message(&msg));
                    if !errors.contains(&msg) {
                        errors.push(msg);
                    }
                }
            }
            ifaces.push(iface);
        }
        if opened.is_empty() {
            return Err(errors.join("\n"));
        }
        let save_path = save.map(Path::to_path_buf).or_else(|| args.write.clone());
        let save = match &save_path {
            Some(p) => {
                let described: Vec<(&str, LinkType)> = opened
                    .iter()
                    .filter_map(|(i, _)| {
                        let f = ifaces.get(*i)?;
                        Some((f.name.as_str(), f.link?))
                    })
                    .collect();
                let s = Save::create(p, &described, args).map_err(|e| format!("hopscope: {e}"))?;
                Some((Arc::new(Mutex::new(s)), p.clone()))
            }
            None => None,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let captured = Arc::new(AtomicU64::new(0));
        let admission = Admission::new(args.queue);
        let (tx, rx) = mpsc::channel::<Msg>();
        let deadline = args
            .duration
            .map(|d| Instant::now() + Duration::from_secs_f64(d));
        // Released early once half the queue (or 32 MiB) is held, so the capture threads keep
        // room.
        let mut hold = HoldBack::new(ifaces.len(), args.queue / 2, HOLD_BYTES, HOLD);
        for (i, f) in ifaces.iter().enumerate() {
            if f.open_error.is_some() {
                hold.end(i);
            }
        }
        let several = ifaces.len() > 1;
        for (save_id, (i, cap)) in opened.into_iter().enumerate() {
            let Some(iface) = ifaces.get_mut(i) else {
                continue;
            };
            let feed = Feed {
                iface: terminal_safe_str(&iface.name),
                index: u32::try_from(i).unwrap_or(u32::MAX),
                save_id: u32::try_from(save_id).unwrap_or(u32::MAX),
                tx: tx.clone(),
                admission: admission.clone(),
                stop: Arc::clone(&stop),
                dropped: Arc::clone(&iface.dropped),
                link: iface.link.unwrap_or(LinkType::ETHERNET),
                count: args.count,
                captured: Arc::clone(&captured),
                deadline,
                save: save.as_ref().map(|(s, _)| Arc::clone(s)),
                pcap_dropped: Arc::clone(&iface.pcap_dropped),
            };
            let name = if several {
                format!("capture {i}")
            } else {
                "capture".into()
            };
            match thread::Builder::new()
                .name(name)
                .spawn(move || capture_loop(cap, feed))
            {
                Ok(h) => iface.handle = Some(h),
                Err(e) => {
                    // Stop the threads already started before giving up.
                    stop.store(true, Ordering::SeqCst);
                    for f in &ifaces {
                        if let Some(b) = &f.breaker {
                            b.breakloop();
                        }
                    }
                    return Err(format!("hopscope: cannot start the capture thread: {e}"));
                }
            }
        }
        drop(tx);
        Ok(LiveSession {
            rx,
            disconnected: false,
            hold,
            admission,
            current: None,
            bytes: 0,
            stop,
            stop_requested: false,
            count: args.count,
            captured,
            deadline,
            ifaces,
            queue: args.queue,
            save,
        })
    }

    /// The interfaces that could not be opened (while others were), each a complete message.
    pub fn open_errors(&self) -> Vec<String> {
        self.ifaces
            .iter()
            .filter_map(|f| f.open_error.as_ref().map(|e| format!("hopscope: {e}")))
            .collect()
    }

    /// The interfaces being captured (opened), escaped for the terminal.
    pub fn capturing(&self) -> Vec<String> {
        self.ifaces
            .iter()
            .filter(|f| f.handle.is_some())
            .map(|f| terminal_safe_str(&f.name))
            .collect()
    }

    /// The flag that Ctrl-C sets.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// Asks every capture thread to stop: the flag for when it is between reads, and
    /// `pcap_breakloop` for when it is blocked in one.
    fn request_stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for f in &self.ifaces {
            if let Some(b) = &f.breaker {
                b.breakloop();
            }
        }
        self.stop_requested = true;
    }

    /// Wakes the capture threads when a stop was asked for, the duration is over or the
    /// count reached (this thread is the capture threads' timer: a thread blocked on a quiet
    /// interface would not notice).
    fn poll_stop(&mut self) {
        if !self.stop_requested
            && (self.stop.load(Ordering::Relaxed)
                || self.deadline.is_some_and(|d| Instant::now() >= d)
                || (self.ifaces.len() > 1
                    && self
                        .count
                        .is_some_and(|c| self.captured.load(Ordering::Relaxed) >= c)))
        {
            self.request_stop();
        }
    }

    /// Packets dropped so far: libpcap's (kernel + interface) and hopscope's queue, over all
    /// interfaces.
    pub fn drops(&self) -> Dropped {
        let mut d = Dropped::default();
        for f in &self.ifaces {
            d.kernel += f.pcap_dropped.load(Ordering::Relaxed);
            d.hopscope += f.dropped.load(Ordering::Relaxed);
        }
        d
    }

    /// A handle that copies the saved capture so far (when one is being saved).
    pub fn snapshot(&self) -> Option<Snapshot> {
        self.save.as_ref().map(|(s, p)| Snapshot {
            save: Arc::clone(s),
            path: p.clone(),
        })
    }

    fn take(&mut self, m: Msg) {
        match m {
            Msg::Packet(p) => self.hold.push(p.interface as usize, p, Instant::now()),
            Msg::Ended(i) => self.hold.end(i as usize),
        }
    }
}

impl PacketSource for LiveSession {
    fn next(&mut self) -> Next<'_> {
        self.poll_stop();
        let idle_at = Instant::now() + RECV_TIMEOUT;
        loop {
            // Everything that arrived (at most --queue packets: the threads count them).
            while !self.disconnected {
                match self.rx.try_recv() {
                    Ok(m) => self.take(m),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => self.disconnected = true,
                }
            }
            let now = Instant::now();
            if let Some((i, pkt)) = self.hold.pop(now, self.disconnected) {
                self.admission.give_back();
                self.bytes += pkt.data.len() as u64;
                if let Some(f) = self.ifaces.get_mut(i) {
                    let s = &mut f.summary;
                    s.packets += 1;
                    s.bytes += pkt.data.len() as u64;
                    s.first_ts.get_or_insert(pkt.ts);
                    s.last_ts = Some(pkt.ts);
                }
                let mut view = self.current.insert(pkt).view();
                view.file = u32::try_from(i).unwrap_or(u32::MAX);
                return Next::Packet(view);
            }
            if self.disconnected {
                return Next::End;
            }
            if now >= idle_at {
                return Next::Idle;
            }
            let wake = self.hold.deadline().map_or(idle_at, |d| d.min(idle_at));
            match self.rx.recv_timeout(wake.saturating_duration_since(now)) {
                Ok(m) => self.take(m),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => self.disconnected = true,
            }
        }
    }

    fn position(&self) -> (u64, Option<u64>) {
        (self.bytes, None)
    }

    fn is_live(&self) -> bool {
        true
    }

    /// The interfaces given (each a `capture.files[]` entry when there are several).
    fn inputs(&self) -> usize {
        self.ifaces.len()
    }

    /// One clock: every interface is stamped by this host's kernel.
    fn clock_of(&self, _file: u32) -> u32 {
        0
    }

    /// Each interface is a capture point of its own (`-i any -i lo` sees lo's connections at
    /// both).
    fn capture_point(&self, file: u32) -> u32 {
        file
    }

    fn dropped(&self) -> Option<Dropped> {
        Some(self.drops())
    }

    /// Stops the capture threads (if they still run), waits for them, and says how they
    /// ended.
    fn finish(&mut self) -> SourceEnd {
        self.request_stop();
        // Nothing more is read.
        let rx = std::mem::replace(&mut self.rx, mpsc::channel().1);
        drop(rx);
        let mut total = Dropped::default();
        let mut errors: Vec<String> = Vec::new();
        let mut save_error = None;
        let mut stats_errors: Vec<String> = Vec::new();
        let several = self.ifaces.len() > 1;
        for f in &mut self.ifaces {
            if let Some(e) = &f.open_error {
                errors.push(e.clone());
                f.summary.error = Some(e.clone());
                continue;
            }
            let end = match f.handle.take().map(|h| h.join()) {
                Some(Ok(end)) => end,
                Some(Err(_)) => CaptureEnd {
                    stats: Err("the capture thread panicked".into()),
                    error: Some("the capture thread panicked".into()),
                    save_error: None,
                },
                None => CaptureEnd {
                    stats: Err("the capture had already ended".into()),
                    error: None,
                    save_error: None,
                },
            };
            let (kernel, interface) = match &end.stats {
                Ok(s) => (u64::from(s.dropped), u64::from(s.if_dropped)),
                Err(e) => {
                    stats_errors.push(if several {
                        format!("{}: {e}", terminal_safe_str(&f.name))
                    } else {
                        e.clone()
                    });
                    (0, 0)
                }
            };
            let d = Dropped {
                kernel,
                interface,
                hopscope: f.dropped.load(Ordering::Relaxed),
            };
            total.kernel += d.kernel;
            total.interface += d.interface;
            total.hopscope += d.hopscope;
            f.summary.dropped = Some(d);
            if let Some(e) = end.error {
                f.summary.error = Some(e.clone());
                errors.push(e);
            }
            if save_error.is_none() {
                save_error = end.save_error;
            }
        }
        let total_ifaces = self.ifaces.len();
        let error = if several {
            (!errors.is_empty()).then(|| CaptureError::Interfaces {
                failed: errors.len(),
                total: total_ifaces,
                list: errors.join("; "),
            })
        } else {
            errors.pop().map(CaptureError::Live)
        };
        let names: Vec<&str> = self.ifaces.iter().map(|f| f.name.as_str()).collect();
        SourceEnd {
            name: format!("live:{}", names.join(",")),
            format: "live".into(),
            dropped: Some(total),
            queue: self.queue,
            error,
            save_error,
            stats_error: (!stats_errors.is_empty()).then(|| stats_errors.join("; ")),
            files: if several {
                self.ifaces.iter().map(|f| f.summary.clone()).collect()
            } else {
                Vec::new()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                file: 0,
            };
            w.write_packet(&pkt).expect("write packet");
        }
        w.into_inner().expect("flush");
        p
    }

    struct Harness {
        rx: mpsc::Receiver<Msg>,
        dropped: Arc<AtomicU64>,
        end: CaptureEnd,
    }

    impl Harness {
        /// The packets sent, after checking the thread said it ended.
        fn packets(&self) -> Vec<OwnedPacket> {
            let mut out = Vec::new();
            let mut ended = false;
            for m in self.rx.try_iter() {
                match m {
                    Msg::Packet(p) => {
                        assert!(!ended, "a packet after the end");
                        out.push(p);
                    }
                    Msg::Ended(_) => ended = true,
                }
            }
            assert!(ended, "the thread did not say it ended");
            out
        }
    }

    /// A feed for interface `index` of a test, sharing `admission` and `captured`.
    fn feed(
        index: u32,
        tx: Sender<Msg>,
        admission: &Admission,
        captured: &Arc<AtomicU64>,
        count: Option<u64>,
        save: Option<SharedSave>,
    ) -> (Feed, Arc<AtomicU64>) {
        let dropped = Arc::new(AtomicU64::new(0));
        let f = Feed {
            iface: format!("test{index}"),
            index,
            save_id: index,
            tx,
            admission: admission.clone(),
            stop: Arc::new(AtomicBool::new(false)),
            dropped: Arc::clone(&dropped),
            link: LinkType::ETHERNET,
            count,
            captured: Arc::clone(captured),
            deadline: None,
            save,
            pcap_dropped: Arc::new(AtomicU64::new(0)),
        };
        (f, dropped)
    }

    fn drive(n: usize, queue: usize, count: Option<u64>, save: Option<&Path>) -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = saved_capture(dir.path(), n);
        let cap = Capture::from_file(&input).expect("libpcap opens our pcapng");
        let (tx, rx) = mpsc::channel();
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
        let admission = Admission::new(queue);
        let captured = Arc::new(AtomicU64::new(0));
        let (feed, dropped) = feed(0, tx, &admission, &captured, count, save);
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
        let got = h.packets();
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
                file: 0,
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
        assert_eq!(h.packets().len(), 4);
        assert_eq!(h.dropped.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn closed_channel_stops_the_capture_thread() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = saved_capture(dir.path(), 5);
        let cap = Capture::from_file(&input).expect("open");
        let (tx, rx) = mpsc::channel();
        drop(rx);
        let admission = Admission::new(10);
        let captured = Arc::new(AtomicU64::new(0));
        let (feed, _) = feed(0, tx, &admission, &captured, None, None);
        let end = capture_loop(cap, feed);
        assert!(end.error.is_none());
        assert_eq!(
            captured.load(Ordering::Relaxed),
            1,
            "stopped at the first send"
        );
    }

    /// Two interfaces' threads share the queue: what one holds leaves less for the other,
    /// the drops are counted per interface, and the packets carry their interface's index.
    #[test]
    fn interfaces_share_the_queue_and_count_their_own_drops() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = saved_capture(dir.path(), 6);
        let (tx, rx) = mpsc::channel();
        let admission = Admission::new(8);
        let captured = Arc::new(AtomicU64::new(0));
        let (f0, d0) = feed(0, tx.clone(), &admission, &captured, None, None);
        let (f1, d1) = feed(1, tx, &admission, &captured, None, None);
        capture_loop(Capture::from_file(&input).expect("open"), f0);
        capture_loop(Capture::from_file(&input).expect("open"), f1);
        // 6 of the first fit, 2 of the second; its other 4 are dropped.
        assert_eq!(d0.load(Ordering::Relaxed), 0);
        assert_eq!(d1.load(Ordering::Relaxed), 4);
        let msgs: Vec<Msg> = rx.try_iter().collect();
        let of = |i: u32| {
            msgs.iter()
                .filter(|m| matches!(m, Msg::Packet(p) if p.interface == i))
                .count()
        };
        assert_eq!((of(0), of(1)), (6, 2));
        assert_eq!(
            msgs.iter().filter(|m| matches!(m, Msg::Ended(_))).count(),
            2
        );
        // Handing packets on gives their places back.
        for _ in 0..3 {
            admission.give_back();
        }
        assert!(admission.try_take());
        assert_eq!(admission.queued.load(Ordering::Relaxed), 6);
        // Giving back more than was taken never wraps around.
        for _ in 0..20 {
            admission.give_back();
        }
        assert_eq!(admission.queued.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn count_is_over_all_interfaces() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = saved_capture(dir.path(), 6);
        let (tx, rx) = mpsc::channel();
        let admission = Admission::new(100);
        let captured = Arc::new(AtomicU64::new(0));
        let (f0, _) = feed(0, tx.clone(), &admission, &captured, Some(8), None);
        let (f1, _) = feed(1, tx, &admission, &captured, Some(8), None);
        capture_loop(Capture::from_file(&input).expect("open"), f0);
        capture_loop(Capture::from_file(&input).expect("open"), f1);
        let n = rx
            .try_iter()
            .filter(|m| matches!(m, Msg::Packet(_)))
            .count();
        assert_eq!(n, 8);
    }

    /// A saved file over two interfaces: one description each, and libpcap reads it back.
    #[test]
    fn the_saved_file_describes_every_interface() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = saved_capture(dir.path(), 3);
        let out = dir.path().join("two.pcapng");
        let cfg = LiveConfig {
            interfaces: vec!["a".into(), "b".into()],
            filter: Some("tcp".into()),
            snaplen: 1000,
            promisc: false,
            write: None,
            count: None,
            duration: None,
            queue: 100,
        };
        let save = Arc::new(Mutex::new(
            Save::create(
                &out,
                &[("a", LinkType::ETHERNET), ("b", LinkType::ETHERNET)],
                &cfg,
            )
            .expect("create"),
        ));
        let (tx, _rx) = mpsc::channel();
        let admission = Admission::new(100);
        let captured = Arc::new(AtomicU64::new(0));
        for i in 0..2 {
            let (f, _) = feed(
                i,
                tx.clone(),
                &admission,
                &captured,
                None,
                Some(Arc::clone(&save)),
            );
            let end = capture_loop(Capture::from_file(&input).expect("open"), f);
            assert!(end.save_error.is_none(), "{:?}", end.save_error);
        }
        drop(save);
        let mut src = crate::capture::file::FileSource::open(&out).expect("read back");
        let mut ifaces = Vec::new();
        while let Ok(Some(p)) = src.next_packet() {
            ifaces.push(p.interface);
        }
        assert_eq!(ifaces, vec![0, 0, 0, 1, 1, 1]);
    }

    #[test]
    fn open_errors_lose_their_prefix_in_the_files_entry() {
        assert_eq!(
            bare_message("hopscope: not permitted to capture on x (e)\nhopscope: hint"),
            "not permitted to capture on x (e)"
        );
        assert_eq!(bare_message("plain"), "plain");
        assert_eq!(bare_message(""), "");
    }

    /// A session over two interfaces fed by the test instead of capture threads.
    fn session(queue: usize) -> (LiveSession, Sender<Msg>) {
        let (tx, rx) = mpsc::channel();
        let iface = |name: &str| Iface {
            link: Some(LinkType::ETHERNET),
            ..Iface::new(name)
        };
        let s = LiveSession {
            rx,
            disconnected: false,
            hold: HoldBack::new(2, queue / 2, HOLD_BYTES, HOLD),
            admission: Admission::new(queue),
            current: None,
            bytes: 0,
            stop: Arc::new(AtomicBool::new(false)),
            stop_requested: false,
            count: None,
            captured: Arc::new(AtomicU64::new(0)),
            deadline: None,
            ifaces: vec![iface("lo"), iface("eth0")],
            queue,
            save: None,
        };
        (s, tx)
    }

    fn packet(iface: u32, ts: i64) -> Msg {
        Msg::Packet(OwnedPacket {
            ts: Timestamp(ts),
            link: LinkType::ETHERNET,
            data: vec![0; 10],
            orig_len: 10,
            interface: iface,
        })
    }

    #[test]
    fn a_session_over_two_interfaces_hands_packets_on_in_time_order() {
        let (mut s, tx) = session(100);
        assert_eq!(s.inputs(), 2);
        assert_eq!((s.clock_of(0), s.clock_of(1)), (0, 0), "one host clock");
        assert_eq!((s.capture_point(0), s.capture_point(1)), (0, 1));
        // eth0's batch before lo's, as two capture threads may deliver them.
        for m in [packet(1, 20), packet(1, 40), packet(0, 10), packet(0, 30)] {
            s.admission.try_take();
            tx.send(m).expect("send");
        }
        let mut got = Vec::new();
        for _ in 0..3 {
            match s.next() {
                Next::Packet(p) => got.push((p.file, p.interface, p.ts.0)),
                _ => panic!("expected a packet"),
            }
        }
        assert_eq!(got, vec![(0, 0, 10), (1, 1, 20), (0, 0, 30)]);
        // 40 waits for lo (at most the hold): nothing else came, so the source is idle or
        // hands it on once the hold is over.
        let t = Instant::now();
        let p = loop {
            match s.next() {
                Next::Packet(p) => break (p.file, p.ts.0),
                Next::Idle => assert!(t.elapsed() < HOLD * 4, "held too long"),
                _ => panic!("the capture has not ended"),
            }
        };
        assert_eq!(p, (1, 40));
        assert!(t.elapsed() >= HOLD / 2, "released before the hold ran out");
        tx.send(Msg::Ended(0)).expect("send");
        tx.send(Msg::Ended(1)).expect("send");
        drop(tx);
        assert!(matches!(s.next(), Next::End));
        assert_eq!(
            s.admission.queued.load(Ordering::Relaxed),
            0,
            "places given back"
        );
        let end = s.finish();
        assert_eq!(end.name, "live:lo,eth0");
        assert!(end.error.is_none());
        let files: Vec<(String, u64, Option<i64>, Option<i64>)> = end
            .files
            .iter()
            .map(|f| {
                (
                    f.path.clone(),
                    f.packets,
                    f.first_ts.map(|t| t.0),
                    f.last_ts.map(|t| t.0),
                )
            })
            .collect();
        assert_eq!(
            files,
            vec![
                ("live:lo".into(), 2, Some(10), Some(30)),
                ("live:eth0".into(), 2, Some(20), Some(40)),
            ]
        );
    }

    #[test]
    fn a_session_sums_the_interfaces_drops_and_names_the_one_that_failed() {
        let (mut s, tx) = session(10);
        s.ifaces[0].dropped.store(3, Ordering::Relaxed);
        s.ifaces[1].dropped.store(4, Ordering::Relaxed);
        s.ifaces[1].open_error = Some("there is no interface eth0".into());
        assert_eq!(s.drops().hopscope, 7);
        drop(tx);
        let end = s.finish();
        assert_eq!(end.dropped.map(|d| d.hopscope), Some(3), "eth0 never ran");
        assert_eq!(
            end.files[1].error.as_deref(),
            Some("there is no interface eth0")
        );
        assert_eq!(end.files[0].dropped.as_ref().map(|d| d.hopscope), Some(3));
        let e = end.error.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            e.starts_with("1 of 2 interfaces could not be captured completely: there is no"),
            "{e}"
        );
    }
}
