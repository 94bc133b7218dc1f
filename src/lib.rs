//! hopscope: a packet-capture protocol analyzer for HTTP and WebSocket through proxies.
//!
//! One pipeline (`docs/architecture.md`), built in [`pipeline::Pipeline::new`] and driven by
//! [`pipeline::Pipeline::run`] for every run:
//!
//! ```text
//! capture::PacketSource -> engine (decode, flows, reassembly) -> analyzers (a stack of
//! protocol layers per connection) -> steps (hops, semantics) -> model::Sink (report, UI)
//! ```
//!
//! Everything between the source and the sink is sans-IO: bytes and packet timestamps go in,
//! records come out. No stage reads the clock, a file or a socket.
//!
//! The modules are layers, listed here bottom to top; each imports only those beneath it.

// The foundation: packet time, link types, the packet view, UTC, sanitising.
pub mod base;
// Records, findings and their registry, the sink interface.
pub mod model;
// The filter language, shared by the UI and `--filter`.
pub mod query;
// Packet sources.
pub mod capture;
// From packets to ordered byte streams.
pub mod decode;
pub mod flow;
pub mod reassembly;
// The engine over them: packet in, streams to an analyzer, records out.
pub mod engine;
// What the streams carry.
pub mod analyzers;
// Steps over finished records.
pub mod hops;
pub mod semantics;
// Sinks.
pub mod report;
// The packets of what a report kept, written out (`--write-pcap`).
pub mod extract;
// The one pipeline and its drive loop.
pub mod pipeline;
// The application: the command line, the runs, the terminal UI.
pub mod cli;
pub mod run;
pub mod tui;
