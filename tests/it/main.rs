//! hopscope's integration tests, as one test binary: one link and one copy of the shared
//! helpers (`common`) instead of one per file. Each module is one area; run one with
//! `cargo test --test it <module>::`.

mod common;

mod app_never_panics;
mod cli;
mod community_id;
mod corpus;
mod decode;
mod docs;
mod engine;
mod extract;
mod file_reader;
mod filter;
mod golden;
mod h2_chromium;
mod har;
mod hops;
mod hostile;
mod http2;
mod http_samples;
mod json_writer;
mod live;
mod memory;
mod multi_input;
mod pairing;
mod report_schema;
mod same_connection;
mod samples;
mod semantics_samples;
mod split_hosts;
mod stress;
mod threads;
mod tls;
mod tui;
mod tunnels;
mod ws_samples;
