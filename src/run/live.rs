//! `hopscope live` (the report run over a live capture) and `hopscope interfaces`.
//!
//! The capture thread and its channel are `crate::capture::live::LiveSession`, a packet source
//! like a file; the run is the one pipeline with a report writer at its end, flushing every
//! record of a streaming format.

use std::io::{self, IsTerminal, Write};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Outcome, ProgressLine, ReportSink, open_output, outcome};
use crate::base::sanitize::terminal_safe_str;
use crate::capture::live::{LiveSession, SETCAP_HINT, is_permission_error};
use crate::cli::LiveArgs;
use crate::pipeline::{CaptureClock, Pipeline};
use crate::report::{self, is_broken_pipe};

/// `hopscope live`.
pub fn run(args: &LiveArgs) -> Outcome {
    let cfg = match args.tuning.engine_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hopscope: {e}");
            return Outcome::Failed;
        }
    };
    let capture = match args.capture_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hopscope: {e}");
            return Outcome::Failed;
        }
    };
    let out = match open_output(&args.output) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("hopscope: {e}");
            return Outcome::Failed;
        }
    };
    let mut session = match LiveSession::start(&capture, None) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("{msg}");
            return Outcome::Failed;
        }
    };
    install_ctrlc(session.stop_flag());
    // Among several interfaces, one that cannot be opened is reported and the others are
    // captured (its error is also in capture.files[] and capture.error).
    for e in session.open_errors() {
        eprintln!("{e}");
    }
    eprintln!(
        "hopscope: capturing on {} (filter: {})",
        session.capturing().join(", "),
        args.filter
            .as_deref()
            .map(terminal_safe_str)
            .unwrap_or_else(|| "none".into())
    );
    let sink = ReportSink {
        writer: report::writer(args.output.format(), out, true),
        // Progress shares the terminal with the report only when the report goes elsewhere.
        progress: ProgressLine::new(
            args.output.no_progress || (args.output.file().is_none() && io::stdout().is_terminal()),
        ),
    };
    let mut analysis = args.analysis.analyzer_config();
    analysis.tls.live = true;
    let mut pipeline = Pipeline::new(cfg, analysis, sink).threads(args.threads.count());
    let end = pipeline.run(&mut session, &CaptureClock);
    pipeline.sink_mut().progress.done();
    outcome(&end)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

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
    fn interface_names_are_escaped() {
        let line = device_line("a\x1b]0;x\x07", Some("d\x1b"), &[], DevFlags::default(), 0);
        assert!(!line.contains('\x1b') && !line.contains('\x07'), "{line}");
    }
}
