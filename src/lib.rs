//! hopscope: a packet-capture protocol analyzer for HTTP and WebSocket through proxies.
//!
//! The pipeline (see `docs/architecture.md`):
//!
//! ```text
//! capture (file / live) -> decode (link, IP, TCP) -> flow table -> reassembly -> analyzers -> sinks
//! ```
//!
//! Everything after `capture` is sans-IO: bytes and packet timestamps go in, records come out
//! through a [`model::RecordSink`]. No stage reads the clock, a file or a socket.

pub mod analyzers;
pub mod base;
pub mod capture;
pub mod cli;
pub mod decode;
pub mod engine;
pub mod flow;
pub mod hops;
pub mod model;
pub mod pipeline;
pub mod reassembly;
pub mod report;
pub mod run;
pub mod semantics;
pub mod tui;
