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
//!   → try_send ── sync_channel(--queue) ──────────▶ LiveSession, a PacketSource read by
//!     full: count (dropped.hopscope)                 the one drive loop (crate::pipeline;
//!                                                    the engine does not know it is live)
//!  stops on Ctrl-C, -c N, --duration, or a
//!  closed channel; returns pcap stats
//! ```
//!
//! The capture thread owns every stop condition that is about *what is captured* (`-c`,
//! `--duration`, Ctrl-C), so the saved file and the analysis agree; the analysis drains the
//! channel until the capture thread hangs up, then finishes like a file run. The `hopscope
//! live` command and `hopscope interfaces` are in `crate::run::live`.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::thread;
use std::time::{Duration, Instant};

use pcap::{Activated, Active, Capture};

use super::pcapng_writer::{InterfaceInfo, PcapngWriter, dlt_to_linktype};
use super::{CaptureError, Next, PacketSource, SourceEnd};
use crate::base::sanitize::terminal_safe_str;
use crate::base::{LinkType, OwnedPacket, Timestamp};
use crate::model::Dropped;

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
    /// Interface name (`any` for all).
    pub interface: String,
    /// BPF capture filter.
    pub filter: Option<String>,
    /// Bytes captured per packet (positive).
    pub snaplen: i32,
    pub promisc: bool,
    /// Also save what was captured (pcapng).
    pub write: Option<PathBuf>,
    /// Stop after this many packets (at least 1).
    pub count: Option<u64>,
    /// Stop after this many seconds (positive, finite).
    pub duration: Option<f64>,
    /// Packets queued between the capture thread and the analysis (at least 1).
    pub queue: usize,
}

/// Opens and activates the capture, then applies the filter. Errors are complete messages.
fn open_capture(args: &LiveConfig) -> Result<Capture<Active>, String> {
    let iface = args.interface.as_str();
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
    fn create(path: &Path, link: LinkType, args: &LiveConfig) -> Result<Save, String> {
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

/// A running capture: the capture thread and the channel of its packets, read as a
/// [`PacketSource`] by the report run (`hopscope live`) and the terminal UI alike.
pub struct LiveSession {
    /// The captured packets, until the capture thread hangs up.
    rx: mpsc::Receiver<OwnedPacket>,
    /// The packet handed out last (the view borrows it).
    current: Option<OwnedPacket>,
    /// Bytes captured so far.
    bytes: u64,
    stop: Arc<AtomicBool>,
    stopper: Stopper,
    deadline: Option<Instant>,
    handle: Option<thread::JoinHandle<CaptureEnd>>,
    dropped: Arc<AtomicU64>,
    pcap_dropped: Arc<AtomicU64>,
    queue: usize,
    interface: String,
    save: Option<(SharedSave, PathBuf)>,
}

impl LiveSession {
    /// Opens the interface, creates the saved file (`save`, else `-w`) and starts the capture
    /// thread. Errors are complete messages.
    pub fn start(args: &LiveConfig, save: Option<&Path>) -> Result<LiveSession, String> {
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
            current: None,
            bytes: 0,
            stop,
            stopper,
            deadline,
            handle: Some(handle),
            dropped,
            pcap_dropped,
            queue: args.queue,
            interface: args.interface.clone(),
            save,
        })
    }

    /// The flag that Ctrl-C sets.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// Wakes the capture thread when a stop was asked for or the duration is over (this
    /// thread is the capture thread's timer).
    fn poll_stop(&mut self) {
        if !self.stopper.requested
            && (self.stop.load(Ordering::Relaxed)
                || self.deadline.is_some_and(|d| Instant::now() >= d))
        {
            self.stopper.request();
        }
    }

    /// Packets dropped so far: libpcap's (kernel + interface) and hopscope's queue.
    pub fn drops(&self) -> Dropped {
        Dropped {
            kernel: self.pcap_dropped.load(Ordering::Relaxed),
            interface: 0,
            hopscope: self.dropped.load(Ordering::Relaxed),
        }
    }

    /// A handle that copies the saved capture so far (when one is being saved).
    pub fn snapshot(&self) -> Option<Snapshot> {
        self.save.as_ref().map(|(s, p)| Snapshot {
            save: Arc::clone(s),
            path: p.clone(),
        })
    }
}

impl PacketSource for LiveSession {
    fn next(&mut self) -> Next<'_> {
        self.poll_stop();
        match self.rx.recv_timeout(RECV_TIMEOUT) {
            Ok(pkt) => {
                self.bytes += pkt.data.len() as u64;
                Next::Packet(self.current.insert(pkt).view())
            }
            Err(RecvTimeoutError::Timeout) => Next::Idle,
            Err(RecvTimeoutError::Disconnected) => Next::End,
        }
    }

    fn position(&self) -> (u64, Option<u64>) {
        (self.bytes, None)
    }

    fn is_live(&self) -> bool {
        true
    }

    fn dropped(&self) -> Option<Dropped> {
        Some(self.drops())
    }

    /// Stops the capture thread (if it still runs), waits for it, and says how it ended.
    fn finish(&mut self) -> SourceEnd {
        self.stopper.request();
        // Unblocks a capture thread waiting on a full queue.
        let rx = std::mem::replace(&mut self.rx, mpsc::sync_channel(1).1);
        drop(rx);
        let end = match self.handle.take().map(|h| h.join()) {
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
        let (kernel, interface, stats_error) = match &end.stats {
            Ok(s) => (u64::from(s.dropped), u64::from(s.if_dropped), None),
            Err(e) => (0, 0, Some(e.clone())),
        };
        SourceEnd {
            name: format!("live:{}", self.interface),
            format: "live".into(),
            dropped: Some(Dropped {
                kernel,
                interface,
                hopscope: self.dropped.load(Ordering::Relaxed),
            }),
            queue: self.queue,
            error: end.error.map(CaptureError::Live),
            save_error: end.save_error,
            stats_error,
            files: Vec::new(),
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
}
