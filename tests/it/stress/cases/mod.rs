//! Hostile captures for the stress suite (issue 13): every case of the issue, and floods,
//! bombs and framing lies, each with a scale knob.
//!
//! Shared by the small-scale tests (`tests/it/stress`) and the full-scale run
//! (`examples/stress_gen.rs`, which includes this module by path, and `bench/stress.sh`). A
//! case writes its capture as it builds it, so a full-scale case of hundreds of megabytes is
//! never in memory; compressed payloads come from the real compressors (`codings`).
#![allow(dead_code)]

pub mod codings;
pub mod files;
pub mod http;
pub mod net;
pub mod wire;
pub mod ws;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

pub use wire::{Pcap, Written};

/// How a case is made.
#[derive(Clone, Copy)]
pub enum Make {
    /// Packets in a classic pcap.
    Pcap(fn(&mut Pcap, u64)),
    /// Packets in a pcapng.
    Pcapng(fn(&mut Pcap, u64)),
    /// Bytes with no capture header.
    Headerless(fn(&mut Pcap, u64)),
    /// Nothing at the path.
    Missing,
    /// A directory at the path.
    Directory,
}

/// One stress case.
pub struct Case {
    pub name: &'static str,
    /// The scale of the full-size run (`bench/stress.sh`).
    pub full: u64,
    /// What the scale counts.
    pub unit: &'static str,
    pub make: Make,
}

const fn case(name: &'static str, full: u64, unit: &'static str, make: Make) -> Case {
    Case {
        name,
        full,
        unit,
        make,
    }
}

/// Every case, in the order of issue 13.
pub const CASES: &[Case] = &[
    // Item 1: state that piles up with nothing to bound its sum.
    case("br-open", 1_000, "connections", Make::Pcap(http::br_open)),
    case(
        "undecided",
        12_000,
        "connections",
        Make::Pcap(http::undecided),
    ),
    case(
        "gzip4-open",
        5_000,
        "connections",
        Make::Pcap(http::gzip4_open),
    ),
    case(
        "heads-open",
        10_000,
        "connections",
        Make::Pcap(http::heads_open),
    ),
    case(
        "missing-first",
        200_000,
        "connections",
        Make::Pcap(net::missing_first),
    ),
    // Items 2 and 3: an early gap, a pipeline past its limit.
    case(
        "early-gap",
        1_000,
        "connections",
        Make::Pcap(http::early_gap),
    ),
    case("pipeline", 10_000, "requests", Make::Pcap(http::pipeline)),
    // Item 4: counters that count what was seen.
    case(
        "ws-huge-frame",
        1_024,
        "KiB seen",
        Make::Pcap(ws::ws_huge_frame),
    ),
    case("late-data", 100, "connections", Make::Pcap(net::late_data)),
    case("seq-jump", 250, "jumps", Make::Pcap(net::seq_jump)),
    // Item 5: a report for every run.
    case(
        "not-a-capture",
        1 << 20,
        "bytes",
        Make::Headerless(files::not_a_capture),
    ),
    case("missing-file", 0, "-", Make::Missing),
    case("directory", 0, "-", Make::Directory),
    // Floods and bombs.
    case("syn-flood", 1_000_000, "SYNs", Make::Pcap(net::syn_flood)),
    case(
        "frag-flood",
        1_000_000,
        "fragments",
        Make::Pcap(net::frag_flood),
    ),
    case(
        "header-bomb",
        100_000,
        "fields",
        Make::Pcap(http::header_bomb),
    ),
    case(
        "chunk-bomb",
        1_000_000,
        "chunks",
        Make::Pcap(http::chunk_bomb),
    ),
    case(
        "decompression-bomb",
        1_024,
        "MiB each",
        Make::Pcap(http::decompression_bomb),
    ),
    case(
        "ws-deflate-bomb",
        1_024,
        "MiB",
        Make::Pcap(ws::ws_deflate_bomb),
    ),
    // Framing lies.
    case(
        "pcap-lie-caplen",
        100_000,
        "packets",
        Make::Pcap(files::pcap_lie_caplen),
    ),
    case(
        "pcap-lie-cut",
        100_000,
        "packets",
        Make::Pcap(files::pcap_lie_cut),
    ),
    case(
        "pcapng-lie-interface",
        100_000,
        "packets",
        Make::Pcapng(files::pcapng_lie_interface),
    ),
    case(
        "pcapng-lie-length",
        100_000,
        "packets",
        Make::Pcapng(files::pcapng_lie_length),
    ),
    case(
        "pcapng-lie-caplen",
        100_000,
        "packets",
        Make::Pcapng(files::pcapng_lie_caplen),
    ),
];

pub fn find(name: &str) -> Option<&'static Case> {
    CASES.iter().find(|c| c.name == name)
}

/// Writes `case` at `scale` to `path` (removes what is there for `missing-file`, creates a
/// directory for `directory`).
pub fn write(case: &Case, scale: u64, path: &Path) -> io::Result<Written> {
    let build = match case.make {
        Make::Missing => {
            if path.is_dir() {
                std::fs::remove_dir_all(path)?;
            } else if path.exists() {
                std::fs::remove_file(path)?;
            }
            return Ok(Written::default());
        }
        Make::Directory => {
            std::fs::create_dir_all(path)?;
            return Ok(Written::default());
        }
        Make::Pcap(f) | Make::Pcapng(f) | Make::Headerless(f) => f,
    };
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let out: &mut dyn Write = &mut out;
    let mut p = match case.make {
        Make::Pcapng(_) => Pcap::pcapng(out),
        Make::Headerless(_) => Pcap::headerless(out),
        _ => Pcap::classic(out),
    };
    build(&mut p, scale);
    p.finish()
}
