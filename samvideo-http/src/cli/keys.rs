//! `samvideo keys create|list|revoke`: manage API keys in a data dir's database.
//!
//! `create` prints the new key as the last line of stdout (shown once: only its SHA-256 is
//! stored). `list` shows keys masked as `abcd...wxyz`. Works while the server runs (SQLite WAL;
//! a revoke applies to the next request).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::billing::BillingPlan;
use crate::store::Store;

/// Arguments of `samvideo keys`.
#[derive(clap::Args, Debug)]
pub struct KeysArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: KeysAction,
}

/// `keys` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum KeysAction {
    /// Create a key; prints it as the last line.
    Create {
        /// Data directory of the server.
        #[arg(long, env = "SAMVIDEO_DATA_DIR", default_value = "./data")]
        data_dir: PathBuf,
        /// Display name (shown in usage-summary).
        #[arg(long)]
        name: String,
        /// Quota plan: free, basic, pro or ultimate.
        #[arg(long, default_value = "free", value_parser = parse_plan)]
        plan: BillingPlan,
    },
    /// List keys (masked).
    List {
        /// Data directory of the server.
        #[arg(long, env = "SAMVIDEO_DATA_DIR", default_value = "./data")]
        data_dir: PathBuf,
    },
    /// Revoke a key by the id shown in `list`.
    Revoke {
        /// Data directory of the server.
        #[arg(long, env = "SAMVIDEO_DATA_DIR", default_value = "./data")]
        data_dir: PathBuf,
        /// Key id.
        id: i64,
    },
}

fn parse_plan(s: &str) -> Result<BillingPlan, String> {
    s.parse()
}

fn open(data_dir: &Path) -> Result<Store, String> {
    std::fs::create_dir_all(data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    Store::open(&data_dir.join("samvideo.db")).map_err(|e| e.to_string())
}

/// Run the subcommand.
pub fn run(args: KeysArgs) -> ExitCode {
    match run_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("samvideo keys: {e}");
            ExitCode::from(1)
        }
    }
}

fn run_inner(args: KeysArgs) -> Result<(), String> {
    match args.action {
        KeysAction::Create { data_dir, name, plan } => {
            let name = name.trim();
            if name.is_empty() {
                return Err("--name must not be empty".into());
            }
            let store = open(&data_dir)?;
            let new = store.blocking().create_key(name, plan).map_err(|e| e.to_string())?;
            println!(
                "created key {} ({:?}, plan {}); store it now, it is not shown again:",
                new.row.id, new.row.name, plan
            );
            println!("{}", new.key);
        }
        KeysAction::List { data_dir } => {
            let store = open(&data_dir)?;
            let keys = store.blocking().list_keys().map_err(|e| e.to_string())?;
            println!(
                "{:<4} {:<20} {:<9} {:<12} {:<8} {:>7}  {:<26} CREATED",
                "ID", "NAME", "PLAN", "KEY", "STATUS", "USES", "LAST USED"
            );
            for k in keys {
                println!(
                    "{:<4} {:<20} {:<9} {:<12} {:<8} {:>7}  {:<26} {}",
                    k.id,
                    k.name,
                    k.plan.as_str(),
                    k.masked,
                    if k.active { "active" } else { "revoked" },
                    k.usage_count,
                    k.last_used.as_deref().unwrap_or("-"),
                    k.created_at
                );
            }
        }
        KeysAction::Revoke { data_dir, id } => {
            let store = open(&data_dir)?;
            let done = store.blocking().revoke_key(id).map_err(|e| e.to_string())?;
            if !done {
                return Err(format!("no active key with id {id}"));
            }
            println!("revoked key {id}");
        }
    }
    Ok(())
}
