//! The embedded store: one SQLite file in the data dir (WAL mode), opened by the server and by
//! `samvideo keys` / `samvideo credits`.
//!
//! This is the persistence seam: all SQL and every `rusqlite` type live in this folder, and
//! the rest of the server calls typed [`Store`] methods that take and return plain Rust
//! values and row structs ([`KeyRow`], [`TaskRow`], [`TemplateRow`], [`AiJobRow`],
//! [`LedgerRow`], [`ClaimedDelivery`], ...), failing with [`StoreError`]. A second backend
//! (Postgres) implements the same methods; `Store` stays a concrete struct until then.
//!
//! Enter: async methods on [`Store`] for async code (each runs on a blocking thread and is
//! awaited); the same operations where render threads, the task hook and the CLI need them,
//! through [`Store::blocking`] (they block the calling thread, so never call them from async
//! code). Leave: row structs and counts; no SQL escapes this module.
//!
//! Every operation is one method: one that must be atomic (check the quota and store a task,
//! reserve credits with the AI job, fail a job and refund it, credit a paid pack once, claim
//! due deliveries, record an attempt with the task's delivery summary) runs in one
//! transaction inside it. Where such a transaction has to decide on what it reads
//! (which credit bucket pays, whether the quota admits one more video, how many videos a
//! pack adds, when a failed delivery is tried again), the method takes the feature's rule as
//! a plain function and calls it between its read and its write: the rule stays in its
//! feature module (`credits`, `limits`, `packs`, `exports`), the store only persists.
//!
//! Files, one per thing held: `keys` (`api_keys`), `tasks` (`tasks`, the durable render
//! queue), `usage` (quota admission and the usage summary: task counts and extra videos),
//! `templates`, `ai_jobs`, `credits` (`credit_ledger`), `packs` (`video_pack_ledger`,
//! `stripe_checkouts`), `deliveries` (`export_deliveries` and each task's delivery summary),
//! `host_keys` (`sftp_host_keys`), `migrations` (the schema).
//!
//! One connection behind a std `Mutex` (never held across `.await`): SQLite serializes writers
//! anyway, and every statement here is short.

mod ai_jobs;
mod credits;
mod deliveries;
mod host_keys;
mod keys;
mod migrations;
mod packs;
mod tasks;
mod templates;
mod usage;

pub use ai_jobs::{AiJobRow, NewAiJob, Reservation};
pub use credits::{Charge, CreditBalance, LedgerRow, MonthlyGrant};
pub use deliveries::{ClaimedDelivery, Delivered, DeliveryKind, NewDelivery, CALLBACK_POSITION};
pub use keys::{hash_key, mask_key, KeyRow, NewKey};
pub use packs::{Checkout, ExtraVideos, PackCredit, PackPurchase};
pub use tasks::{NewTask, StatusCounts, TaskRow, TaskStatus, TaskUpdate};
pub use templates::{TemplateRow, TemplateWrite};
pub use usage::{KeyUsage, QuotaDecision, QuotaUsage};

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database refused the statement or the file.
    #[error("database: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A stored value does not parse (hand-edited database?).
    #[error("corrupt row in {table}: {reason}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The blocking task panicked or was cancelled.
    #[error("database task failed: {0}")]
    Join(String),
    /// The database was written by a newer samvideo.
    #[error("database schema version {found} is newer than this samvideo understands ({known})")]
    TooNew {
        /// `user_version` in the file.
        found: i64,
        /// Highest version known here.
        known: i64,
    },
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(Box::new(e))
    }
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

/// The store's blocking calls ([`Store::blocking`]): for render threads, the task hook, start-up
/// recovery and the CLI, which may hold the calling thread while SQLite works.
#[derive(Clone, Copy)]
pub struct Blocking<'a> {
    store: &'a Store,
}

impl Store {
    /// Open (or create) the database at `path` and apply migrations.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrations::apply(&mut conn)?;
        Ok(Store { conn: Arc::new(Mutex::new(conn)) })
    }

    /// The blocking calls (threads that may block only: never from async code).
    pub fn blocking(&self) -> Blocking<'_> {
        Blocking { store: self }
    }

    /// Run `f` with the connection on the current thread.
    fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        // A panic while holding the lock leaves the connection usable: SQLite rolls back.
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn)
    }

    /// Run `f` on a blocking thread and await it.
    async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.with(f)).await.map_err(|e| StoreError::Join(e.to_string()))?
    }
}

/// Current time as stored and shown: RFC 3339, seconds, `+00:00`.
pub fn now_rfc3339() -> String {
    rfc3339(chrono::Utc::now())
}

/// Format a UTC time as stored and shown.
pub fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}
