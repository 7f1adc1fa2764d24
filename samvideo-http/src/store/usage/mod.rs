//! What an account has used, read across tables: the quota admission of a new task (tasks
//! created this month and extra videos left) and the usage summary.
//!
//! Enter: a task to create with the caller's quota rule ([`Store::create_task`]), a key and a
//! window ([`Store::key_usage`]). Leave: the decision taken, [`KeyUsage`].
//!
//! The [`Store`] methods here pick the backend and run its statements (`sqlite.rs`,
//! `postgres.rs`); both take and return the types of `types.rs`.

pub(in crate::store) mod postgres;
pub(in crate::store) mod sqlite;
mod types;

pub use types::{KeyUsage, QuotaDecision, QuotaUsage};

use self::postgres as pg;
use crate::store::{Backend, Created, IdempotencyKey, NewTask, Store, StoreError};

impl Store {
    /// Store a new `pending` task if `admit` allows it, in one transaction with the quota's
    /// read and the extra video it spends, so concurrent creates of one key cannot exceed the
    /// quota. `admit` sees the tasks created since `period_start`; returns what was done
    /// (`Refuse` also when it chose to spend an extra video and none was left).
    pub async fn create_task(
        &self,
        task: NewTask,
        period_start: &str,
        admit: impl FnOnce(QuotaUsage) -> QuotaDecision + Send + 'static,
    ) -> Result<QuotaDecision, StoreError> {
        match self.create_task_once(task, period_start, None, admit).await? {
            Created::New(decision) => Ok(decision),
            Created::Replayed(_) => {
                Err(StoreError::Corrupt { table: "tasks", reason: "replayed without a key".into() })
            }
        }
    }

    /// [`Store::create_task`] honouring an `Idempotency-Key`: when `once` names a key this
    /// account used since `once.since`, the task that use stored is returned and nothing is
    /// stored or charged; otherwise the task is created and the key remembered, in the same
    /// transaction.
    pub async fn create_task_once(
        &self,
        task: NewTask,
        period_start: &str,
        once: Option<IdempotencyKey>,
        admit: impl FnOnce(QuotaUsage) -> QuotaDecision + Send + 'static,
    ) -> Result<Created, StoreError> {
        let since = period_start.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::create_task(c, &task, &since, once.as_ref(), admit)).await,
            Backend::Postgres(db) => db.call(move |c| pg::create_task(c, task, since, once, admit)).await,
        }
    }

    /// A key's task counts per state since `since`, the key row, its extra videos and the
    /// tasks it created since `month_start`.
    pub async fn key_usage(&self, key_id: i64, since: &str, month_start: &str) -> Result<KeyUsage, StoreError> {
        let (since, month_start) = (since.to_owned(), month_start.to_owned());
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::key_usage(c, key_id, &since, &month_start)).await,
            Backend::Postgres(db) => db.call(move |c| pg::key_usage(c, key_id, since, month_start)).await,
        }
    }
}
