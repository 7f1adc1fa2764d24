//! `samvideo keys create|list|revoke`: manage API keys in a data dir's database.
//!
//! `create` prints the new key as the last line of stdout (shown once: only its SHA-256 is
//! stored). `list` shows keys masked as `abcd...wxyz`. Works while the server runs (SQLite WAL,
//! or the Postgres database the nodes share: `--store`); a revoke applies to the next request.

use std::process::ExitCode;

use crate::billing::BillingPlan;
use crate::store_flags::StoreFlags;

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
        /// The server's store.
        #[command(flatten)]
        store: StoreFlags,
        /// Display name (shown in usage-summary).
        #[arg(long)]
        name: String,
        /// Quota plan: free, basic, pro or ultimate.
        #[arg(long, default_value = "free", value_parser = parse_plan)]
        plan: BillingPlan,
    },
    /// List keys (masked).
    List {
        /// The server's store.
        #[command(flatten)]
        store: StoreFlags,
    },
    /// Revoke a key by the id shown in `list`.
    Revoke {
        /// The server's store.
        #[command(flatten)]
        store: StoreFlags,
        /// Key id.
        id: i64,
    },
}

fn parse_plan(s: &str) -> Result<BillingPlan, String> {
    s.parse()
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
        KeysAction::Create { store, name, plan } => {
            let name = name.trim();
            if name.is_empty() {
                return Err("--name must not be empty".into());
            }
            let store = store.open(true)?;
            let new = store.blocking().create_key(name, plan).map_err(|e| e.to_string())?;
            println!(
                "created key {} ({:?}, plan {}); store it now, it is not shown again:",
                new.row.id, new.row.name, plan
            );
            println!("{}", new.key);
        }
        KeysAction::List { store } => {
            let store = store.open(true)?;
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
        KeysAction::Revoke { store, id } => {
            let store = store.open(true)?;
            let done = store.blocking().revoke_key(id).map_err(|e| e.to_string())?;
            if !done {
                return Err(format!("no active key with id {id}"));
            }
            println!("revoked key {id}");
        }
    }
    Ok(())
}
