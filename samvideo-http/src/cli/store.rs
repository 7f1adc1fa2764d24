//! `samvideo store migrate --from sqlite:PATH --to postgres://...`: move a single-node install
//! into a shared Postgres store. The target database must exist and hold no keys or tasks;
//! its schema is created first, then every row of every table (keys, tasks, templates,
//! ledgers, deliveries, ...) is copied in one transaction, ids kept. Stop the server first:
//! rows written during the copy would stay behind.

use std::process::ExitCode;

use crate::store::{Store, StoreLocation};

/// Arguments of `samvideo store`.
#[derive(clap::Args, Debug)]
pub struct StoreArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: StoreAction,
}

/// `store` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum StoreAction {
    /// Copy a SQLite store into an empty Postgres store.
    Migrate {
        /// The store to copy: sqlite:PATH (e.g. sqlite:./data/samvideo.db).
        #[arg(long)]
        from: StoreLocation,
        /// The empty target: postgres://USER:PASSWORD@HOST:PORT/DATABASE.
        #[arg(long)]
        to: StoreLocation,
    },
}

/// Run the subcommand.
pub fn run(args: StoreArgs) -> ExitCode {
    match run_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("samvideo store: {e}");
            ExitCode::from(1)
        }
    }
}

fn run_inner(args: StoreArgs) -> Result<(), String> {
    match args.action {
        StoreAction::Migrate { from, to } => {
            if let StoreLocation::Sqlite(path) = &from {
                if !path.exists() {
                    return Err(format!("no samvideo database at {}", path.display()));
                }
            }
            let source = Store::connect(&from).map_err(|e| e.to_string())?;
            let target = Store::connect(&to).map_err(|e| e.to_string())?;
            let counts = source.migrate_to(&target).map_err(|e| e.to_string())?;
            for (table, n) in &counts {
                println!("{table:<20} {n:>8} rows");
            }
            println!("copied {from} to {to}");
        }
    }
    Ok(())
}
