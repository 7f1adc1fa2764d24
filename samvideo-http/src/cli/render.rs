//! `samvideo render` (being written).

use std::process::ExitCode;

/// Arguments of `samvideo render`.
#[derive(clap::Args, Debug)]
pub struct RenderArgs {}

/// Run the subcommand.
pub fn run(_args: RenderArgs) -> ExitCode {
    eprintln!("samvideo render: not available yet");
    ExitCode::from(2)
}
