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
fn text_report(
    input: InputArgs,
    analysis: AnalysisArgs,
    tuning: TuningArgs,
    filter: Option<String>,
) -> Outcome {
    run::report(&ReportArgs {
        input,
        filter,
        write_pcap: None,
        output: OutputArgs {
            format: Some(Format::Text),
            output: None,
            no_progress: false,
        },
        analysis,
        tuning,
        threads: Default::default(),
    })
}

/// The exit status contract (README, `--help`): `--help` and `--version` exit 0, any other
/// command-line error 1, like every other failure to produce the report; 2 is kept for a
/// capture that could not be read completely.
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    // clap prints help and version to standard output, errors to standard error.
    let _ = e.print();
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    }
}

/// Writes `bytes` to standard output; a closed pipe is not an error (as for reports).
fn print_all(bytes: &[u8], what: &str) -> Outcome {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Outcome::Ok,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Outcome::Ok,
        Err(e) => {
            eprintln!("hopscope: writing {what}: {e}");
            Outcome::Failed
        }
    }
}

fn main() -> ExitCode {
    let matches = match Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => return usage_error(&e),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    let reveal = match &cli.command {
        Some(Command::Report(a)) => a.analysis.reveal_secrets,
        Some(Command::Open(a)) => a.analysis.reveal_secrets,
        Some(Command::Live(a)) => a.analysis.reveal_secrets,
        _ => false,
    };
    if reveal {
        eprintln!(
            "hopscope: --reveal-secrets: credentials and cookie values are written as sent; do not share this report"
        );
    }
    hopscope::base::secrets::reveal(reveal);
    let tty = std::io::stdout().is_terminal();
    let bare = (!cli.files.is_empty()).then(|| InputArgs {
        files: cli.files,
        clock_offset: Vec::new(),
        single_pass: false,
    });
    let outcome = match (cli.command, bare) {
        (Some(Command::Report(args)), _) => run::report(&args),
        (Some(Command::Open(args)), _) if tty => hopscope::tui::run_file(
            &args.input,
            &args.analysis,
            &args.tuning,
            args.ui.max_rows,
            args.filter.as_deref(),
        ),
        (Some(Command::Open(args)), _) => {
            text_report(args.input, args.analysis, args.tuning, args.filter)
        }
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
        (Some(Command::Completions { shell }), _) => {
            // Into memory first: clap_complete panics when its writer fails (`| head`).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "hopscope", &mut script);
            print_all(&script, "the completion script")
        }
        (Some(Command::Man { command }), _) => {
            let mut page = Vec::new();
            let root = Cli::command();
            let cmd = match &command {
                Some(name) => {
                    let page: &'static str = match name.as_str() {
                        "report" => "hopscope-report",
                        "open" => "hopscope-open",
                        "live" => "hopscope-live",
                        "interfaces" => "hopscope-interfaces",
                        _ => "hopscope-completions",
                    };
                    root.find_subcommand(name).cloned().map(|c| c.name(page))
                }
                None => Some(root),
            };
            let rendered = match cmd {
                Some(c) => clap_mangen::Man::new(c).render(&mut page),
                None => Err(std::io::Error::other("no such command")),
            };
            match rendered {
                Ok(()) => print_all(&page, "the manual page"),
                Err(e) => {
                    eprintln!("hopscope: making the manual page: {e}");
                    Outcome::Failed
                }
            }
        }
        (None, Some(input)) if tty => hopscope::tui::run_file(
            &input,
            &AnalysisArgs::default(),
            &TuningArgs::default(),
            UiArgs::default().max_rows,
            None,
        ),
        (None, Some(input)) => {
            text_report(input, AnalysisArgs::default(), TuningArgs::default(), None)
        }
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
