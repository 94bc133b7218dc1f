//! hopscope command-line entry point: parse arguments, run, map the outcome to an exit status.

use std::process::ExitCode;

use clap::Parser;
use hopscope::cli::{AnalysisArgs, Cli, Command, OutputArgs, ReportArgs, TuningArgs};
use hopscope::report::Format;
use hopscope::run::{self, Outcome};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match (cli.command, cli.file) {
        (Some(Command::Report(args)), _) => run::report(&args),
        (Some(Command::Live(args)), _) => hopscope::capture::live::run(&args),
        (Some(Command::Interfaces), _) => hopscope::capture::live::interfaces(),
        (None, Some(file)) => run::report(&ReportArgs {
            file,
            output: OutputArgs {
                format: Format::Text,
                output: None,
                no_progress: false,
            },
            analysis: AnalysisArgs::default(),
            tuning: TuningArgs::default(),
        }),
        (None, None) => {
            eprintln!("hopscope: give a capture file, or a command (see `hopscope --help`)");
            Outcome::Failed
        }
    };
    match outcome {
        Outcome::Ok => ExitCode::SUCCESS,
        Outcome::Failed => ExitCode::from(1),
        Outcome::CaptureIncomplete => ExitCode::from(2),
    }
}
