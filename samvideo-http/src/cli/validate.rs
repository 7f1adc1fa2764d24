//! `samvideo validate --endpoint E FILE`: answers exactly what the HTTP API would.
//! A rejected request prints the API's JSON error body on stdout and exits 1.

use std::path::PathBuf;
use std::process::ExitCode;

use samvideo_core::request::Endpoint;

/// Arguments of `samvideo validate`.
#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    /// Which endpoint the body is for.
    #[arg(long, value_parser = parse_endpoint)]
    pub endpoint: Endpoint,
    /// The JSON body; `-` reads stdin.
    pub file: PathBuf,
}

/// clap value parser for `--endpoint`.
pub fn parse_endpoint(s: &str) -> Result<Endpoint, String> {
    s.parse()
}

/// Run the subcommand.
pub fn run(args: ValidateArgs) -> ExitCode {
    let body = match super::read_spec(&args.file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("samvideo: cannot read {}: {e}", args.file.display());
            return ExitCode::from(2);
        }
    };
    match samvideo_core::validate::parse_create(args.endpoint, &body) {
        Ok(_) => {
            eprintln!("valid {} request", args.endpoint);
            ExitCode::SUCCESS
        }
        Err(err) => {
            println!("{}", err.body);
            ExitCode::from(1)
        }
    }
}
