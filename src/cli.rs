//! Command-line interface (clap types stay here; the rest sees validated configs).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::analyzers::AnalyzerConfig;
use crate::capture::live::LiveConfig;
use crate::engine::EngineConfig;
use crate::reassembly::Limits;
use crate::report::Format;

#[derive(Parser, Debug)]
#[command(
    name = "hopscope",
    version,
    about = "What really crossed the wire between a client, its proxies and a server",
    long_about = "hopscope reads a capture (or a live interface), reassembles TCP and reports \
                  connections and findings.\n\nExit status: 0 success, 1 bad usage or output \
                  error, 2 the capture (or one of several inputs) could not be read \
                  completely (what was read is still reported).",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Captures to open as one (see `hopscope report --help` for what an input can be): in
    /// the terminal UI when standard output is a terminal, else a text summary (same as
    /// `hopscope report FILE... --format text`).
    pub files: Vec<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyse saved captures (.pcap, .pcapng, several merged by time) and write a report.
    #[command(after_help = REPORT_EXAMPLES)]
    Report(ReportArgs),
    /// Open a saved capture in the terminal UI (a text summary when standard output is not a
    /// terminal).
    #[command(after_help = OPEN_EXAMPLES)]
    Open(OpenArgs),
    /// Capture from live interfaces (one or several `-i`): the terminal UI when standard
    /// output is a terminal and neither --format nor -o is given; else a report, and Ctrl-C
    /// ends it with the final one.
    #[command(after_help = LIVE_EXAMPLES)]
    Live(LiveArgs),
    /// List the interfaces that can be captured.
    #[command(after_help = "Example:\n  hopscope interfaces")]
    Interfaces,
    /// Print a shell completion script to standard output.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to standard output: hopscope(1), or a command's own page.
    #[command(
        after_help = "Examples:\n  hopscope man | man -l -\n  hopscope man report | man -l -\n  for c in '' report open live interfaces completions; do\n    hopscope man $c > /usr/local/share/man/man1/hopscope${c:+-$c}.1; done"
    )]
    Man {
        /// The command whose page to print (hopscope-report(1), ...); none: hopscope(1).
        #[arg(value_parser = ["report", "open", "live", "interfaces", "completions"])]
        command: Option<String>,
    },
}

const REPORT_EXAMPLES: &str = "Examples:
  hopscope report capture.pcap                      JSON report on standard output
  hopscope report capture.pcapng --format text      a summary to read
  hopscope report capture.pcap --format ndjson | jq 'select(.type == \"transaction\")'
  hopscope report client.pcap proxy.pcap -o run.json    two hosts' captures as one
  hopscope report dump.pcap0 --tls-keylog keys.log  rotated set, TLS decrypted
  hopscope report capture.pcap --filter 'status:5xx' --format har -o failing.har
  hopscope report capture.pcap --filter 'host:api.example.com' --write-pcap api.pcapng
                 the matching connections' packets (and TLS keys) for Wireshark
  tcpdump -w - -i lo port 80 | hopscope report - --format ndjson

Exit status: 0 read to its end; 1 bad usage or the report could not be written; 2 a capture
could not be read completely (the report covers what was read).";

const OPEN_EXAMPLES: &str = "Examples:
  hopscope open capture.pcap
  hopscope capture.pcap                 the same (a text summary when not on a terminal)
  hopscope open client.pcap server.pcap.gz --tls-keylog keys.log";

const LIVE_EXAMPLES: &str = "Examples:
  sudo hopscope live -i lo -f 'tcp port 8080'                    the terminal UI
  sudo hopscope live -i eth0 -i lo --format ndjson -o run.ndjson -w run.pcapng
  sudo hopscope live -i any --duration 30 --format text";

const COMPLETIONS_EXAMPLES: &str = "Examples:
  hopscope completions bash > /etc/bash_completion.d/hopscope
  hopscope completions zsh > \"${fpath[1]}/_hopscope\"
  hopscope completions fish > ~/.config/fish/completions/hopscope.fish
  hopscope completions powershell >> $PROFILE";

#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// Output format; without it, the `-o` file's extension chooses (`.har`, `.ndjson` or
    /// `.jsonl`, `.txt`), else JSON.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the report to PATH instead of standard output (`-` is standard output).
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Never show the progress line on standard error.
    #[arg(long)]
    pub no_progress: bool,
}

impl OutputArgs {
    /// The format asked for, or the one the output file's name implies.
    pub fn format(&self) -> Format {
        self.format
            .unwrap_or_else(|| self.file().map_or(Format::Json, Format::for_path))
    }

    /// The file to write, `None` for standard output (no `-o`, or `-o -` as most tools take it).
    pub fn file(&self) -> Option<&std::path::Path> {
        self.output
            .as_deref()
            .filter(|p| p.as_os_str() != std::ffi::OsStr::new("-"))
    }
}

#[derive(Args, Debug, Clone)]
pub struct TuningArgs {
    /// Most TCP connections tracked at once; beyond it the least recently active are evicted.
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    pub max_flows: usize,
    /// Out-of-order bytes buffered per connection direction.
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    pub max_ooo_bytes: usize,
    /// Bytes buffered for reassembly across all connections.
    #[arg(long, default_value_t = 32 << 20, value_name = "BYTES")]
    pub max_buffered_bytes: usize,
    /// Seconds (packet time) without a packet before a connection is closed as `timeout`.
    #[arg(long, default_value_t = 300.0, value_name = "SECS")]
    pub idle_timeout: f64,
    /// Delivered but not yet acknowledged bytes kept per direction to check retransmissions
    /// for conflicting data.
    #[arg(long, default_value_t = 64 * 1024, value_name = "BYTES")]
    pub overlap_window: usize,
    /// Memory budget of the analysis: connection state (flow table, reassembly buffers,
    /// decoders, messages in progress) and the proxy-hop and semantics tables. When it is
    /// full, idle connections are shed first, then the largest buffers of the least active
    /// ones, then the least active connections (see docs/findings.md, memory.*). Bytes, or
    /// with a K, M or G suffix (binary: 96M is 96 MiB).
    #[arg(long, default_value = "96M", value_name = "SIZE", value_parser = parse_size)]
    pub memory: usize,
}

/// `96M`, `1G`, `512K`, `100000`: bytes, with an optional binary suffix (K, M, G; KiB, MiB,
/// GiB and lower case accepted).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let (num, unit) = t.split_at(digits);
    let n: usize = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (bytes, or a number with K, M or G)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (use K, M or G)")),
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// What the application analyzers keep.
#[derive(Args, Debug, Clone)]
pub struct AnalysisArgs {
    /// Keep a preview of each decoded body in the report: the first BYTES bytes (4096 when
    /// given without a value).
    #[arg(long, value_name = "BYTES", num_args = 0..=1, default_missing_value = "4096", default_value_t = 0)]
    pub bodies: usize,
    /// Most bytes a body is decoded (decompressed) to before decoding stops.
    #[arg(long, default_value_t = 16 << 20, value_name = "BYTES")]
    pub max_decoded: u64,
    /// Reassemble TCP only: report connections and TCP findings, no HTTP (fastest).
    #[arg(long)]
    pub tcp_only: bool,
    /// List every WebSocket frame inside its message (`frame_list`).
    #[arg(long)]
    pub frames: bool,
    /// Decrypt TLS with the secrets of this key log (the NSS format that SSLKEYLOGFILE makes;
    /// repeatable). Without it, $SSLKEYLOGFILE is used when set; keys embedded in a pcapng
    /// (editcap --inject-secrets) are always used. See docs/tls.md.
    #[arg(long = "tls-keylog", value_name = "FILE")]
    pub tls_keylog: Vec<PathBuf>,
    /// DANGEROUS: write credentials (Authorization, Proxy-Authorization, SOCKS passwords) and
    /// cookie values as sent, in every output. By default they are masked (a prefix and how
    /// many bytes were hidden), so a report can be shared; with this it holds live secrets.
    #[arg(long)]
    pub reveal_secrets: bool,
}

impl Default for AnalysisArgs {
    fn default() -> Self {
        AnalysisArgs {
            bodies: 0,
            max_decoded: 16 << 20,
            tcp_only: false,
            frames: false,
            tls_keylog: Vec::new(),
            reveal_secrets: false,
        }
    }
}

impl AnalysisArgs {
    pub fn analyzer_config(&self) -> AnalyzerConfig {
        let mut cfg = AnalyzerConfig::default();
        cfg.http.preview = self.bodies.min(1 << 20);
        cfg.http.max_decoded = self.max_decoded;
        cfg.enabled = !self.tcp_only;
        cfg.ws.frames = self.frames;
        cfg.ws.max_inflate = self.max_decoded;
        cfg.tls.keylogs = self.tls_keylog.clone();
        cfg.tls.env_keylog = std::env::var_os("SSLKEYLOGFILE")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        cfg
    }
}

/// The captures of a run.
#[derive(Args, Debug, Clone, Default)]
pub struct InputArgs {
    /// Capture files (pcap, pcapng; gzip- or zstd-compressed ones too), analysed as one
    /// capture with their packets merged by time. A directory stands for the capture files in
    /// it; a rotated set (`dump.pcap0`, `dump.pcap1`, ... from `tcpdump -C`/`-G`) is read in
    /// numeric order; `-` reads standard input (once). A file that cannot be read is reported (exit status
    /// 2) and the others are still analysed.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Shift one input's timestamps by SECONDS (may be negative) before the merge, to align
    /// the clocks of captures taken on different hosts (repeatable; `capture.files[]` shows
    /// it with `offset_source: given`).
    #[arg(long = "clock-offset", value_name = "FILE=SECONDS", value_parser = parse_clock_offset)]
    pub clock_offset: Vec<(PathBuf, f64)>,
    /// `report` over captures from several hosts: read them once. By default a first pass
    /// places each host's clock (from connections captured at both points, or the requests a
    /// proxy relayed) and a second analyses them on the first file's clock; with this, the
    /// records of a placed file keep its own clock and only `capture.files[]` says the offset.
    #[arg(long)]
    pub single_pass: bool,
}

/// `FILE=SECONDS` (the last `=` splits, so a path may hold one).
pub fn parse_clock_offset(s: &str) -> Result<(PathBuf, f64), String> {
    let (file, secs) = s
        .rsplit_once('=')
        .ok_or_else(|| format!("{s:?}: expected FILE=SECONDS"))?;
    let secs: f64 = secs
        .trim()
        .parse()
        .map_err(|_| format!("{s:?}: {secs:?} is not a number of seconds"))?;
    if !secs.is_finite() || secs.abs() > 1e9 {
        return Err(format!(
            "{s:?}: the offset must be a finite number of seconds"
        ));
    }
    Ok((PathBuf::from(file), secs))
}

impl InputArgs {
    /// The inputs, directories and rotated sets expanded.
    pub fn inputs(&self) -> Result<Vec<crate::capture::merge::InputFile>, String> {
        crate::capture::merge::expand(&self.files, &self.clock_offset)
    }
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Keep only the transactions EXPR matches, with their connections, WebSocket
    /// conversations, messages and findings, in the terminal UI's filter language
    /// (`status:5xx`, `host:example.com`, `method:POST`, `finding:warning`, `ws`, `tunnel`,
    /// `-term` negates; see docs/tui.md). The capture summary stays the whole capture's.
    #[arg(long, value_name = "EXPR", allow_hyphen_values = true)]
    pub filter: Option<String>,
    /// Also write every packet of the connections the report holds (with --filter, the
    /// matching ones and both legs of a matching proxy hop) to PATH as pcapng, with the TLS
    /// keys of the ones decrypted in a Decryption Secrets Block: it opens decrypted in
    /// Wireshark and in hopscope with no key log. Reads the captures a second time (not
    /// standard input).
    #[arg(long, value_name = "PATH")]
    pub write_pcap: Option<PathBuf>,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    #[command(flatten)]
    pub tuning: TuningArgs,
    #[command(flatten)]
    pub threads: ThreadsArgs,
}

/// How many threads analyse the connections.
#[derive(Args, Debug, Clone, Default)]
pub struct ThreadsArgs {
    /// Threads analysing the connections (default: the cores available). The report is the
    /// same whatever N, byte for byte, as long as no bound (--memory, --max-flows,
    /// --max-buffered-bytes) is hit: each thread gets an Nth of them. 1 analyses everything
    /// on one thread.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub threads: Option<u16>,
}

impl ThreadsArgs {
    /// The threads asked for, or the cores available.
    pub fn count(&self) -> usize {
        self.threads
            .map_or_else(crate::pipeline::available_threads, usize::from)
    }
}

/// Rows of each kind the terminal UI keeps by default.
pub const DEFAULT_MAX_ROWS: usize = 200_000;

/// Terminal UI settings.
#[derive(Args, Debug, Clone)]
pub struct UiArgs {
    /// Rows of each kind the terminal UI keeps (transactions, WebSocket messages, connections,
    /// findings); beyond it the oldest are dropped and counted in the status bar.
    #[arg(long, default_value_t = DEFAULT_MAX_ROWS, value_name = "N")]
    pub max_rows: usize,
}

impl Default for UiArgs {
    fn default() -> Self {
        UiArgs {
            max_rows: DEFAULT_MAX_ROWS,
        }
    }
}

#[derive(Args, Debug)]
pub struct OpenArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Keep only the transactions EXPR matches (the UI starts with it as the transactions
    /// list's filter), with their connections, WebSocket
    /// conversations, messages and findings, in the terminal UI's filter language
    /// (`status:5xx`, `host:example.com`, `method:POST`, `finding:warning`, `ws`, `tunnel`,
    /// `-term` negates; see docs/tui.md). The capture summary stays the whole capture's.
    #[arg(long, value_name = "EXPR", allow_hyphen_values = true)]
    pub filter: Option<String>,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    #[command(flatten)]
    pub tuning: TuningArgs,
    #[command(flatten)]
    pub ui: UiArgs,
}

#[derive(Args, Debug)]
pub struct LiveArgs {
    /// Interface to capture (`any` for all; see `hopscope interfaces`). Repeat it to capture
    /// several at once into one analysis (`-i eth0 -i lo`: a proxy listening on one and
    /// talking to its upstream on another); their packets are merged in time order and the
    /// report lists each interface in `capture.files[]`.
    #[arg(short = 'i', long = "interface", value_name = "IFACE", required = true)]
    pub interface: Vec<String>,
    /// BPF capture filter, e.g. "tcp port 80" (on every interface).
    #[arg(short = 'f', long = "filter", value_name = "BPF")]
    pub filter: Option<String>,
    /// Bytes captured per packet.
    #[arg(short = 's', long, default_value_t = 262_144)]
    pub snaplen: i32,
    /// Do not put the interface into promiscuous mode.
    #[arg(long)]
    pub no_promisc: bool,
    /// Also save what was captured to FILE (pcapng; with several interfaces, one interface
    /// description each, packets in the order they were captured).
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Stop after N packets (over all interfaces).
    #[arg(short = 'c', long = "count", value_name = "N")]
    pub count: Option<u64>,
    /// Stop after SECS seconds.
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Packets queued between the capture threads and the analysis before hopscope drops
    /// (and counts) packets; with several interfaces this includes the packets held (up to
    /// 250 ms) to put the interfaces in time order.
    #[arg(long, default_value_t = 65_536, value_name = "N")]
    pub queue: usize,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    #[command(flatten)]
    pub tuning: TuningArgs,
    #[command(flatten)]
    pub threads: ThreadsArgs,
    #[command(flatten)]
    pub ui: UiArgs,
}

impl LiveArgs {
    /// Validates the capture flags.
    pub fn capture_config(&self) -> Result<LiveConfig, String> {
        if self.queue == 0 {
            return Err("--queue must be at least 1".into());
        }
        if self.snaplen <= 0 {
            return Err("--snaplen must be a positive number of bytes".into());
        }
        if let Some(d) = self.duration
            && !(d.is_finite() && d > 0.0 && d < 1e12)
        {
            return Err("--duration must be a positive number of seconds".into());
        }
        if self.count == Some(0) {
            return Err("--count must be at least 1".into());
        }
        for (k, i) in self.interface.iter().enumerate() {
            if i.is_empty() {
                return Err("-i needs an interface name".into());
            }
            if self.interface.iter().take(k).any(|j| j == i) {
                return Err(format!(
                    "interface {} is given twice",
                    crate::base::sanitize::terminal_safe_str(i)
                ));
            }
        }
        Ok(LiveConfig {
            interfaces: self.interface.clone(),
            filter: self.filter.clone(),
            snaplen: self.snaplen,
            promisc: !self.no_promisc,
            write: self.write.clone(),
            count: self.count,
            duration: self.duration,
            queue: self.queue,
        })
    }
}

impl Default for TuningArgs {
    fn default() -> Self {
        TuningArgs {
            max_flows: 100_000,
            max_ooo_bytes: 1 << 20,
            max_buffered_bytes: 32 << 20,
            idle_timeout: 300.0,
            overlap_window: 64 * 1024,
            memory: 96 << 20,
        }
    }
}

impl TuningArgs {
    /// Validates and turns the flags into an engine configuration.
    pub fn engine_config(&self) -> Result<EngineConfig, String> {
        if self.max_flows == 0 {
            return Err("--max-flows must be at least 1".into());
        }
        if !(self.idle_timeout.is_finite() && self.idle_timeout > 0.0) {
            return Err("--idle-timeout must be a positive number of seconds".into());
        }
        if self.memory < 8 << 20 {
            return Err("--memory must be at least 8M".into());
        }
        let limits = Limits {
            max_ooo_bytes: self.max_ooo_bytes,
            overlap_window: self.overlap_window,
            ..Limits::default()
        };
        Ok(EngineConfig {
            limits,
            max_buffered_bytes: self.max_buffered_bytes,
            max_flows: self.max_flows,
            idle_timeout_ns: (self.idle_timeout * 1e9) as i64,
            memory: self.memory,
            ..EngineConfig::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("96M"), Ok(96 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("512KiB"), Ok(512 << 10));
        assert_eq!(parse_size("100000"), Ok(100_000));
        assert!(parse_size("").is_err());
        assert!(parse_size("12T").is_err());
        assert!(parse_size("-1M").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }

    #[test]
    fn bad_arguments_are_refused() {
        use clap::Parser;
        let parse = |extra: &[&str]| {
            let mut v = vec!["hopscope", "live", "-i", "lo"];
            v.extend_from_slice(extra);
            match Cli::parse_from(v).command {
                Some(Command::Live(a)) => a,
                other => panic!("not a live command: {other:?}"),
            }
        };
        assert!(parse(&[]).capture_config().is_ok());
        assert!(parse(&["--queue", "0"]).capture_config().is_err());
        assert!(parse(&["--duration", "0"]).capture_config().is_err());
        assert!(parse(&["--duration", "NaN"]).capture_config().is_err());
        assert!(parse(&["-c", "0"]).capture_config().is_err());
        assert!(parse(&["-s", "0"]).capture_config().is_err());
        assert!(parse(&["-i", "lo"]).capture_config().is_err(), "lo twice");
        let two = parse(&["-i", "any"])
            .capture_config()
            .expect("-i lo -i any");
        assert_eq!(two.interfaces, vec!["lo".to_string(), "any".to_string()]);
        assert_eq!(two.label(), "lo,any");
    }
}
