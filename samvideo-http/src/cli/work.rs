//! `samvideo work`: run render workers without the HTTP API (see [`crate::worker`]). It takes
//! the node flags of `samvideo serve` ([`NodeArgs`]: data dir as scratch space, store, objects,
//! workers, lease, media limits, ...) and its export delivery flags, read the same way.

use std::process::ExitCode;

use super::serve::{init_logging, NodeArgs};
use crate::config::{ConfigError, ServerConfig};
use crate::worker::Worker;

/// Arguments of `samvideo work`.
#[derive(clap::Args, Debug, Default)]
pub struct WorkArgs {
    /// Data dir (node id, scratch files), store, objects, workers, lease, media limits.
    #[command(flatten)]
    pub node: NodeArgs,
    /// Export delivery: SMTP relay, webhook secret, retry schedule, SFTP known hosts.
    #[command(flatten)]
    pub exports: crate::exports::args::ExportArgs,
}

impl WorkArgs {
    /// Resolve flags, environment, config file and defaults into a config.
    pub fn to_config(&self) -> Result<ServerConfig, ConfigError> {
        let file = self.node.file()?;
        let mut c = ServerConfig::default();
        self.node.apply(&file, &mut c)?;
        c.exports = self.exports.to_config(&file)?;
        Ok(c)
    }
}

/// Run the subcommand.
pub fn run(args: WorkArgs) -> ExitCode {
    init_logging();
    let config = match args.to_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("samvideo work: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("samvideo work: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async move {
        match Worker::start(config).await {
            Ok(worker) => {
                eprintln!("samvideo: working");
                worker.run_until_signal().await;
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("samvideo work: {e}");
                ExitCode::from(1)
            }
        }
    })
}
