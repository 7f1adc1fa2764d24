//! What an account has used, read across tables: the quota admission of a new task (tasks
//! created this month and extra videos left) and the usage summary.
//!
//! Enter: a task to create with the caller's quota rule ([`Store::create_task`]), a key and a
//! window ([`Store::key_usage`]). Leave: the decision taken, [`KeyUsage`].

use super::postgres::usage as pg;
use super::{
    idempotency, keys, packs, tasks, Backend, Created, ExtraVideos, IdempotencyKey, KeyRow, NewTask, StatusCounts,
    Store, StoreError,
};

/// What the quota rule sees of an account, read in the transaction that stores the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaUsage {
    /// Tasks the key created since the start of the quota period.
    pub used: i64,
    /// Extra videos from video packs left.
    pub extra_videos_left: i64,
}

/// The quota rule's answer for one more task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaDecision {
    /// Store the task.
    Admit,
    /// Store the task and spend one extra video.
    SpendExtraVideo,
    /// Store nothing.
    Refuse,
}

/// An account's usage, for the usage summary.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyUsage {
    /// Its tasks per state in the window.
    pub counts: StatusCounts,
    /// The key as stored now.
    pub key: Option<KeyRow>,
    /// Its extra videos.
    pub extra_videos: ExtraVideos,
    /// Tasks it created this month.
    pub month_used: i64,
}

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
        let db = match &self.backend {
            Backend::Sqlite(db) => db,
            Backend::Postgres(db) => return db.call(move |c| pg::create_task(c, task, since, once, admit)).await,
        };
        db.call(move |c| {
            let tx = c.unchecked_transaction()?;
            if let Some(key) = &once {
                if let Some(id) = idempotency::find(&tx, task.api_key_id, key)? {
                    let row = tasks::sqlite::get(&tx, &id)?.ok_or_else(|| StoreError::Corrupt {
                        table: "idempotency_keys",
                        reason: format!("task {id} vanished"),
                    })?;
                    return Ok(Created::Replayed(Box::new(row)));
                }
            }
            let usage = QuotaUsage {
                used: tasks::sqlite::count_since(&tx, task.api_key_id, &since)?,
                extra_videos_left: packs::extra_videos(&tx, task.api_key_id)?.remaining,
            };
            let decision = admit(usage);
            let admitted = match decision {
                QuotaDecision::Admit => true,
                QuotaDecision::SpendExtraVideo => packs::take_extra_video(&tx, task.api_key_id)?,
                QuotaDecision::Refuse => false,
            };
            if !admitted {
                return Ok(Created::New(QuotaDecision::Refuse));
            }
            tasks::sqlite::insert(&tx, &task)?;
            if let Some(key) = &once {
                idempotency::remember(&tx, task.api_key_id, key, &task.id)?;
            }
            tx.commit()?;
            Ok(Created::New(decision))
        })
        .await
    }

    /// A key's task counts per state since `since`, the key row, its extra videos and the
    /// tasks it created since `month_start`.
    pub async fn key_usage(&self, key_id: i64, since: &str, month_start: &str) -> Result<KeyUsage, StoreError> {
        let (since, month_start) = (since.to_owned(), month_start.to_owned());
        let db = match &self.backend {
            Backend::Sqlite(db) => db,
            Backend::Postgres(db) => return db.call(move |c| pg::key_usage(c, key_id, since, month_start)).await,
        };
        db.call(move |c| {
            Ok(KeyUsage {
                counts: tasks::sqlite::status_counts(c, Some(key_id), &since)?,
                key: keys::sqlite::get(c, key_id)?,
                extra_videos: packs::extra_videos(c, key_id)?,
                month_used: tasks::sqlite::count_since(c, key_id, &month_start)?,
            })
        })
        .await
    }
}
