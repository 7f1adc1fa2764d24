//! `samvideo credits grant|ledger`: the operator's side of the credits ledger, on a data dir's
//! database (works while the server runs).
//!
//! `grant` adds top-up credits (a negative `--amount` removes some, never below zero) as one
//! `grant` row with the reason; `ledger` prints an account's rows and the sums per bucket.

use std::process::ExitCode;

use crate::store::{KeyRow, Store};
use crate::store_flags::StoreFlags;

/// Arguments of `samvideo credits`.
#[derive(clap::Args, Debug)]
pub struct CreditsArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: CreditsAction,
}

/// Which account: `--key-id` or `--name`.
#[derive(clap::Args, Debug, Clone)]
#[group(required = true, multiple = false)]
pub struct Account {
    /// Key id, as `samvideo keys list` shows it.
    #[arg(long)]
    pub key_id: Option<i64>,
    /// Key name (must match exactly one key).
    #[arg(long)]
    pub name: Option<String>,
}

/// `credits` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum CreditsAction {
    /// Add top-up credits to an account (negative removes).
    Grant {
        /// The server's store.
        #[command(flatten)]
        store: StoreFlags,
        /// The account.
        #[command(flatten)]
        account: Account,
        /// Credits to add (negative to remove).
        #[arg(long, allow_hyphen_values = true)]
        amount: i64,
        /// Why (stored in the ledger row).
        #[arg(long)]
        reason: String,
    },
    /// Show an account's ledger rows (newest first) and balances.
    Ledger {
        /// The server's store.
        #[command(flatten)]
        store: StoreFlags,
        /// The account.
        #[command(flatten)]
        account: Account,
        /// Rows shown.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

/// Run the subcommand.
pub fn run(args: CreditsArgs) -> ExitCode {
    match run_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("samvideo credits: {e}");
            ExitCode::from(1)
        }
    }
}

fn find(store: &Store, account: &Account) -> Result<KeyRow, String> {
    let keys = store.blocking().list_keys().map_err(|e| e.to_string())?;
    let found: Vec<KeyRow> = match (&account.key_id, &account.name) {
        (Some(id), _) => keys.into_iter().filter(|k| k.id == *id).collect(),
        (None, Some(name)) => keys.into_iter().filter(|k| k.name == *name).collect(),
        (None, None) => return Err("give --key-id or --name".into()),
    };
    match found.len() {
        0 => Err("no such key (see `samvideo keys list`)".into()),
        1 => found.into_iter().next().ok_or_else(|| "no such key".to_string()),
        n => Err(format!("{n} keys have that name; use --key-id")),
    }
}

fn run_inner(args: CreditsArgs) -> Result<(), String> {
    match args.action {
        CreditsAction::Grant { store, account, amount, reason } => {
            let reason = reason.trim().to_string();
            if reason.is_empty() {
                return Err("--reason must not be empty".into());
            }
            let store = store.open(false)?;
            let key = find(&store, &account)?;
            let topup = super::grant(&store, key.id, amount, &reason).map_err(|e| e.to_string())?;
            println!("key {} ({}): {amount:+} top-up credits; top-up balance now {topup}", key.id, key.name);
        }
        CreditsAction::Ledger { store, account, limit } => {
            let store = store.open(false)?;
            let key = find(&store, &account)?;
            let period = super::current_period();
            let store = store.blocking();
            let rows = store.credit_ledger(key.id, limit).map_err(|e| e.to_string())?;
            let sums = store.credit_sums(key.id, &period).map_err(|e| e.to_string())?;
            println!(
                "key {} ({}, plan {}): subscription {} ({period}), top-up {}",
                key.id, key.name, key.plan, sums.subscription, sums.topup
            );
            println!(
                "{:<6} {:<12} {:>8} {:<8} {:<8} {:<6} {:<26} REASON",
                "ID", "BUCKET", "AMOUNT", "KIND", "PERIOD", "JOB", "WHEN"
            );
            for r in rows {
                println!(
                    "{:<6} {:<12} {:>8} {:<8} {:<8} {:<6} {:<26} {}",
                    r.id,
                    r.bucket,
                    r.amount,
                    r.kind,
                    r.period.as_deref().unwrap_or("-"),
                    r.ai_job_id.map(|j| j.to_string()).unwrap_or_else(|| "-".into()),
                    r.created_at,
                    r.reason.as_deref().unwrap_or("")
                );
            }
        }
    }
    Ok(())
}
