//! hopscope command-line entry point: parse arguments, run, map the outcome to an exit status.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};
use hopscope::cli::{
    AnalysisArgs, Cli, Command, InputArgs, OutputArgs, ReportArgs, TuningArgs, UiArgs,
};
use hopscope::report::Format;
use hopscope::run::{self, Outcome};

/// The text summary of `hopscope FILE` when standard output is not a terminal.
fn text_report(input: InputArgs, analysis: AnalysisArgs, tuning: TuningArgs) -> Outcome {
    run::report(&ReportArgs {
        input,
        output: OutputArgs {
            format: Format::Text,
            output: None,
            no_progress: false,
        },
        analysis,
        tuning,
        threads: Default::default(),
    })
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    let tty = std::io::stdout().is_terminal();
    let bare = (!cli.files.is_empty()).then(|| InputArgs {
        files: cli.files,
        clock_offset: Vec::new(),
        single_pass: false,
    });
    let outcome = match (cli.command, bare) {
        (Some(Command::Report(args)), _) => run::report(&args),
        (Some(Command::Open(args)), _) if tty => {
            hopscope::tui::run_file(&args.input, &args.analysis, &args.tuning, args.ui.max_rows)
        }
        (Some(Command::Open(args)), _) => text_report(args.input, args.analysis, args.tuning),
        (Some(Command::Live(args)), _) => {
            let given = |id: &str| {
                matches
                    .subcommand_matches("live")
                    .and_then(|m| m.value_source(id))
                    == Some(ValueSource::CommandLine)
            };
            if tty && !given("format") && !given("output") {
                hopscope::tui::run_live(&args, args.ui.max_rows)
            } else {
                hopscope::run::live::run(&args)
            }
        }
        (Some(Command::Interfaces), _) => hopscope::run::live::interfaces(),
        (None, Some(input)) if tty => hopscope::tui::run_file(
            &input,
            &AnalysisArgs::default(),
            &TuningArgs::default(),
            UiArgs::default().max_rows,
        ),
        (None, Some(input)) => text_report(input, AnalysisArgs::default(), TuningArgs::default()),
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
