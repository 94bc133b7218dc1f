//! Live capture through libpcap (the `pcap` crate) in a capture thread feeding the analysis
//! over a bounded channel.

use crate::cli::LiveArgs;
use crate::run::Outcome;

/// `hopscope live`.
pub fn run(_args: &LiveArgs) -> Outcome {
    eprintln!("hopscope: live capture is not implemented yet");
    Outcome::Failed
}

/// `hopscope interfaces`.
pub fn interfaces() -> Outcome {
    eprintln!("hopscope: not implemented yet");
    Outcome::Failed
}
