//! The persistent export delivery queue: one `export_deliveries` row per (task, destination),
//! its attempts, and the summary the progress response shows.
//!
//! Enter: [`Blocking::enqueue_deliveries`] from the task hook,
//! [`Store::claim_due_deliveries`] / [`Store::record_delivery`] from the delivery loop (when a
//! failed delivery is tried again is the caller's schedule), [`Store::recover_deliveries`] on
//! start. Leave: [`ClaimedDelivery`] jobs for the loop, and the task row's `export_delivery`
//! column, rewritten from the delivery rows after every change in the same transaction, so
//! the progress response never shows a state the queue does not hold.
//!
//! Rows never hold secrets: passwords, keys and the callback secret stay in the task's
//! `exports_json` (already stored with the request) and are read at attempt time. The `target`
//! column is a secret-free description (origin of the callback URL, `host:port`, recipients).
//!
//! Statuses: `pending` (waiting for its next attempt), `delivering` (an attempt is running),
//! `delivered`, `failed` (out of attempts, or a permanent error), `skipped` (nothing to
//! deliver: an upload or mail for a task that produced no video).
//!
//! The [`Store`] methods here pick the backend and run its statements (`sqlite.rs`,
//! `postgres.rs`); both take and return the types of `types.rs`.

pub(in crate::store) mod postgres;
pub(in crate::store) mod sqlite;
mod types;

pub use types::{ClaimedDelivery, Delivered, DeliveryKind, NewDelivery, CALLBACK_POSITION};

use self::postgres as pg;
use crate::store::{Backend, Blocking, Store, StoreError};

impl Store {
    /// After a restart: this node's attempts that were running (and unmarked ones; never
    /// another node's) did not finish; make them due now (the delivery id is the same, so a
    /// receiver that saw the first one can tell). Returns how many.
    pub async fn recover_deliveries(&self, now_ms: i64) -> Result<usize, StoreError> {
        let node = self.node();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::recover(c, now_ms, node.as_deref())).await,
            Backend::Postgres(db) => db.call(move |c| pg::recover(c, now_ms, node)).await,
        }
    }

    /// Take up to `limit` due deliveries (oldest due first) and mark them `delivering` by this
    /// node.
    pub async fn claim_due_deliveries(&self, now_ms: i64, limit: usize) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let node = self.node();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::claim_due(c, now_ms, limit, node.as_deref())).await,
            Backend::Postgres(db) => db.call(move |c| pg::claim_due(c, now_ms, limit, node)).await,
        }
    }

    /// Record an attempt of delivery `id`: `Ok` delivered, `Err(why)` failed, and then due
    /// again at `retry_at(attempts made)` (unix ms) or, when that is `None`, failed for good.
    /// Returns the delivery's task, `None` for an unknown delivery.
    pub async fn record_delivery(
        &self,
        id: &str,
        outcome: Result<Delivered, String>,
        now_ms: i64,
        retry_at: impl FnOnce(i64) -> Option<i64> + Send + 'static,
    ) -> Result<Option<String>, StoreError> {
        let id = id.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::record(c, &id, &outcome, now_ms, retry_at)).await,
            Backend::Postgres(db) => db.call(move |c| pg::record(c, id, outcome, now_ms, retry_at)).await,
        }
    }

    /// When the next pending delivery is due (unix ms).
    pub async fn next_delivery_due_ms(&self) -> Result<Option<i64>, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.call(sqlite::next_due_ms).await,
            Backend::Postgres(db) => db.call(pg::next_due_ms).await,
        }
    }
}

impl Blocking<'_> {
    /// Create a task's deliveries (again is a no-op) and refresh its summary (the task hook).
    pub fn enqueue_deliveries(&self, task_id: &str, deliveries: &[NewDelivery], now_ms: i64) -> Result<(), StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| sqlite::enqueue(c, task_id, deliveries, now_ms)),
            Backend::Postgres(db) => {
                let (task_id, deliveries) = (task_id.to_owned(), deliveries.to_vec());
                db.block(move |c| pg::enqueue(c, task_id, deliveries, now_ms))
            }
        }
    }

    /// Tasks that ended at or after `since` (RFC 3339) with exports but no delivery rows: the
    /// process stopped between writing the end and running the hook.
    pub fn missed_export_tasks(&self, since: &str) -> Result<Vec<String>, StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| sqlite::missed_tasks(c, since)),
            Backend::Postgres(db) => {
                let since = since.to_owned();
                db.block(move |c| pg::missed_tasks(c, since))
            }
        }
    }
}
