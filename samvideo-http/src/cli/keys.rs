//! `samvideo keys` (being written).

use std::process::ExitCode;

/// Arguments of `samvideo keys`.
#[derive(clap::Args, Debug)]
pub struct KeysArgs {}

/// Run the subcommand.
pub fn run(_args: KeysArgs) -> ExitCode {
    eprintln!("samvideo keys: not available yet");
    ExitCode::from(2)
}
