//! The store: every table of the service behind one seam, on one of two backends — an
//! embedded SQLite file in the data dir (one node) or a Postgres database that several nodes
//! share ([`StoreLocation`], `--store`).
//!
//! This is the persistence seam: all SQL and every `rusqlite` and `tokio_postgres` type live
//! in this folder, and the rest of the server calls typed [`Store`] methods that take and
//! return plain Rust values and row structs ([`KeyRow`], [`TaskRow`], [`TemplateRow`],
//! [`AiJobRow`], [`LedgerRow`], [`ClaimedDelivery`], ...), failing with [`StoreError`]. Each
//! method matches on the backend and runs that backend's statements: in each table's folder,
//! `mod.rs` holds the methods, `sqlite.rs` and `postgres.rs` the statements, `types.rs` the
//! row types both fill, so data flows one way (methods -> statements -> types).
//!
//! Enter: async methods on [`Store`] for async code; the same operations where render threads,
//! the task hook and the CLI need them, through [`Store::blocking`] (they block the calling
//! thread, so never call them from async code). Leave: row structs and counts; no SQL escapes
//! this module.
//!
//! Every operation is one method: one that must be atomic (check the quota and store a task,
//! reserve credits with the AI job, fail a job and refund it, credit a paid pack once, claim
//! due deliveries, record an attempt with the task's delivery summary) runs in one
//! transaction inside it, on both backends. Where such a transaction has to decide on what it
//! reads (which credit bucket pays, whether the quota admits one more video, how many videos a
//! pack adds, when a failed delivery is tried again), the method takes the feature's rule as
//! a plain function and calls it between its read and its write: the rule stays in its
//! feature module (`credits`, `limits`, `packs`, `exports`), the backends only persist.
//!
//! Folders, one per thing held: `keys` (`api_keys`), `tasks` (`tasks`, the durable render
//! queue), `leases` (who holds a processing task until when, and its fencing token), `usage`
//! (quota admission and the usage summary: task counts and extra videos), `templates`,
//! `ai_jobs`, `credits` (`credit_ledger`), `packs` (`video_pack_ledger`, `stripe_checkouts`),
//! `deliveries` (`export_deliveries` and each task's delivery summary), `host_keys`
//! (`sftp_host_keys`), `idempotency` (`idempotency_keys`), `transfer` (`samvideo store
//! migrate`), `rates` (`rate_hits`: the rate limiters' counts); `location.rs` (`--store`);
//! `sqlite/` (the connection and its schema), `postgres/` (the pool, its schema, the account
//! lock).

mod ai_jobs;
mod credits;
mod deliveries;
mod host_keys;
mod idempotency;
mod keys;
mod leases;
mod location;
mod packs;
mod parts;
mod postgres;
mod rates;
mod sqlite;
mod tasks;
mod templates;
mod transfer;
mod usage;

pub use ai_jobs::{AiJobRow, NewAiJob, Reservation};
pub use credits::{Charge, CreditBalance, LedgerRow, MonthlyGrant};
pub use deliveries::{ClaimedDelivery, Delivered, DeliveryKind, NewDelivery, CALLBACK_POSITION};
pub use idempotency::{Created, IdempotencyKey};
pub use keys::{hash_key, mask_key, KeyRow, NewKey};
pub use leases::{Claim, LeaseState, LeaseTerms, Rescue};
pub use location::{BadStoreLocation, StoreLocation};
pub use packs::{Checkout, ExtraVideos, PackCredit, PackPurchase};
pub use parts::{NewPart, PartRow};
pub use rates::RateWindow;
pub use tasks::{NewTask, StatusCounts, TaskKind, TaskRow, TaskStatus, TaskUpdate};
pub use templates::{TemplateRow, TemplateWrite};
pub use usage::{KeyUsage, QuotaDecision, QuotaUsage};

use std::path::Path;
use std::sync::Arc;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database refused the statement or the file.
    #[error("database: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The store named by `--store` cannot be opened or reached.
    #[error("cannot open the store {location} (--store): {source}")]
    Open {
        /// The store, password hidden.
        location: String,
        /// Why.
        #[source]
        source: Box<StoreError>,
    },
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
    /// `samvideo store migrate` cannot copy into that target.
    #[error("cannot migrate: {0}")]
    Migrate(String),
    /// The database was written by a newer samvideo.
    #[error("database schema version {found} is newer than this samvideo understands ({known})")]
    TooNew {
        /// The schema version the database records.
        found: i64,
        /// Highest version known here.
        known: i64,
    },
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// The node this handle works for ([`Store::for_node`]): tasks, AI jobs and deliveries it
    /// takes are marked with it, and its start-up recovery touches only those (and unmarked
    /// ones), never what another live node is running.
    node: Option<Arc<str>>,
}

/// Where the statements run.
#[derive(Clone)]
enum Backend {
    /// The embedded file.
    Sqlite(sqlite::Db),
    /// A shared database.
    Postgres(postgres::Db),
}

/// The store's blocking calls ([`Store::blocking`]): for render threads, the task hook, start-up
/// recovery and the CLI, which may hold the calling thread while the database works.
#[derive(Clone, Copy)]
pub struct Blocking<'a> {
    store: &'a Store,
}

impl Store {
    /// Open (or create) the SQLite database at `path` and apply migrations.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Ok(Store { backend: Backend::Sqlite(sqlite::Db::open(path)?), node: None })
    }

    /// Open the store at `location` (a SQLite file is created, a Postgres database must
    /// exist) and apply migrations. Blocks the calling thread while it connects.
    pub fn connect(location: &StoreLocation) -> Result<Store, StoreError> {
        let backend = match location {
            StoreLocation::Sqlite(path) => sqlite::Db::open(path).map(Backend::Sqlite),
            StoreLocation::Postgres(url) => postgres::Db::connect(url).map(Backend::Postgres),
        };
        let backend = backend.map_err(|e| StoreError::Open { location: location.to_string(), source: Box::new(e) })?;
        Ok(Store { backend, node: None })
    }

    /// This handle, working for `node` (a name stable across the node's restarts: `serve`
    /// keeps one in its data dir).
    #[must_use]
    pub fn for_node(mut self, node: &str) -> Store {
        self.node = Some(node.into());
        self
    }

    /// The node's name as stored (`None`: no node, e.g. the CLI).
    fn node(&self) -> Option<String> {
        self.node.as_deref().map(str::to_owned)
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// The blocking calls (threads that may block only: never from async code).
    pub fn blocking(&self) -> Blocking<'_> {
        Blocking { store: self }
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
