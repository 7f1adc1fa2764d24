//! `samvideo serve` (being written).

use std::process::ExitCode;

/// Arguments of `samvideo serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {}

/// Run the subcommand.
pub fn run(_args: ServeArgs) -> ExitCode {
    eprintln!("samvideo serve: not available yet");
    ExitCode::from(2)
}
