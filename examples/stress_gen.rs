//! Writes one case of the stress suite (issue 13) to a file, at any scale:
//!
//! ```sh
//! cargo run --release --example stress_gen -- CASE [SCALE] OUT
//! cargo run --release --example stress_gen -- --list
//! ```
//!
//! SCALE defaults to the case's full scale, the one `bench/stress.sh` runs. The cases are
//! the ones the tests in `tests/it/stress` run at small scale, from the same generators.

#[path = "../tests/it/stress/cases/mod.rs"]
mod cases;

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--list") {
        for c in cases::CASES {
            println!("{} {} {}", c.name, c.full, c.unit);
        }
        return ExitCode::SUCCESS;
    }
    let (name, scale, out) = match args.as_slice() {
        [name, out] => (name, None, out),
        [name, scale, out] => (name, Some(scale), out),
        _ => {
            eprintln!("usage: stress_gen CASE [SCALE] OUT | --list");
            return ExitCode::from(2);
        }
    };
    let Some(case) = cases::find(name) else {
        eprintln!("unknown case {name} (stress_gen --list names them)");
        return ExitCode::from(2);
    };
    let scale = match scale.map(|s| s.parse::<u64>()) {
        None => case.full,
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            eprintln!("scale {scale:?}: {e}");
            return ExitCode::from(2);
        }
    };
    match cases::write(case, scale, Path::new(out)) {
        Ok(w) => {
            println!(
                "{name} {scale} {}: {} packets, {} bytes",
                case.unit, w.packets, w.bytes
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{out}: {e}");
            ExitCode::FAILURE
        }
    }
}
