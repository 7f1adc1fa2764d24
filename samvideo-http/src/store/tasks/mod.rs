//! Render tasks: one row per create request, the durable queue (`pending` rows in `seq`
//! order) and the progress clients poll.
//!
//! Status moves only forward: pending -> processing -> completed | failed | cancelled |
//! timeout (pending may also go straight to cancelled). Every terminal write checks the row is
//! still live, so a late render result never overwrites a cancel.
//!
//! A completed task's objects may be deleted by retention (`--retention-days`): a sweep holds
//! the task ([`Store::claim_expired_outputs`]), deletes its objects, then marks it
//! ([`Store::mark_output_expired`]); its state stays `completed`.
//!
//! The [`Store`] methods here pick the backend and run its statements (`sqlite.rs`,
//! `postgres.rs`); both take and return the types of `types.rs`.

pub(in crate::store) mod postgres;
pub(in crate::store) mod sqlite;
mod types;

pub use types::{NewTask, StatusCounts, TaskKind, TaskRow, TaskStatus, TaskUpdate};

use self::postgres as pg;
use crate::store::{Backend, Blocking, LeaseTerms, Store, StoreError};

impl Store {
    /// A task by its id.
    pub async fn task(&self, id: &str) -> Result<Option<TaskRow>, StoreError> {
        let id = id.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::get(c, &id)).await,
            Backend::Postgres(db) => db.call(move |c| async move { pg::get(&**c, &id).await }).await,
        }
    }

    /// Queue a `pending` task of `kind` for the workers, outside any quota (a preview or an AI
    /// job's render, `crate::jobs::queued`; a user's videos go through
    /// [`Store::create_task_once`]).
    pub async fn queue_task(&self, task: NewTask, kind: TaskKind) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::insert_as(c, &task, kind)).await,
            Backend::Postgres(db) => db.call(move |c| async move { pg::insert_as(&**c, &task, kind).await }).await,
        }
    }

    /// A task by its id or its worker-layer id.
    pub async fn task_any(&self, id: &str) -> Result<Option<TaskRow>, StoreError> {
        let id = id.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::get_any(c, &id)).await,
            Backend::Postgres(db) => db.call(move |c| pg::get_any(c, id)).await,
        }
    }

    /// A key's newest tasks, optionally of one state.
    pub async fn list_tasks(
        &self,
        key_id: i64,
        status: Option<TaskStatus>,
        limit: u32,
    ) -> Result<Vec<TaskRow>, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::list(c, key_id, status, limit)).await,
            Backend::Postgres(db) => db.call(move |c| pg::list(c, key_id, status, limit)).await,
        }
    }

    /// Terminal write, and the row as it stands after it: false when the task had already
    /// ended (e.g. cancelled meanwhile), in which case nothing changed.
    pub async fn end_task(&self, id: &str, update: TaskUpdate) -> Result<(bool, Option<TaskRow>), StoreError> {
        let id = id.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| Ok((sqlite::end(c, &id, &update)?, sqlite::get(c, &id)?))).await,
            Backend::Postgres(db) => db.call(move |c| pg::end(c, id, update)).await,
        }
    }

    /// Retention: hold up to `limit` completed tasks that ended before `before` (RFC 3339) and
    /// still have their objects, until `terms.now_ms + terms.lease_ms`, for this sweep to
    /// delete their objects. A task another sweep holds is left to it until its hold runs out
    /// (that sweep died or failed to delete: then this one takes it over). Each task is returned
    /// to one sweep only, on every backend and with several nodes.
    pub async fn claim_expired_outputs(
        &self,
        before: &str,
        terms: LeaseTerms,
        limit: u32,
    ) -> Result<Vec<TaskRow>, StoreError> {
        let before = before.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::claim_expired(c, &before, terms, limit)).await,
            Backend::Postgres(db) => db.call(move |c| pg::claim_expired(c, before, terms, limit)).await,
        }
    }

    /// Retention: the objects of a held task are deleted; record it (`at`, RFC 3339) and drop
    /// the hold. False when the task was already marked (another sweep finished it first).
    pub async fn mark_output_expired(&self, id: &str, at: &str) -> Result<bool, StoreError> {
        let (id, at) = (id.to_owned(), at.to_owned());
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::mark_expired(c, &id, &at)).await,
            Backend::Postgres(db) => db.call(move |c| pg::mark_expired(c, id, at)).await,
        }
    }

    /// Tasks per state, of all keys, ever.
    pub async fn task_counts(&self) -> Result<StatusCounts, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.call(|c| sqlite::status_counts(c, None, "")).await,
            Backend::Postgres(db) => db.call(|c| async move { pg::status_counts(&**c, None, "").await }).await,
        }
    }
}

impl Blocking<'_> {
    /// After a crash: this node's processing tasks (and unmarked ones; never another node's)
    /// go back to pending while they have attempts left, otherwise they fail with a reason.
    /// Returns (requeued, failed) ids.
    pub fn recover_tasks(&self, max_attempts: u32) -> Result<(Vec<String>, Vec<String>), StoreError> {
        let node = self.store.node();
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| sqlite::recover(c, max_attempts, node.as_deref())),
            Backend::Postgres(db) => db.block(move |c| pg::recover(c, max_attempts, node)),
        }
    }

    /// Put delivery results on a task.
    pub fn set_export_delivery(&self, id: &str, json: &str) -> Result<(), StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| sqlite::set_export_delivery(c, id, json)),
            Backend::Postgres(db) => {
                let (id, json) = (id.to_owned(), json.to_owned());
                db.block(move |c| pg::set_export_delivery(c, id, json))
            }
        }
    }

    /// A task by its id or its worker-layer id.
    pub fn task_any(&self, id: &str) -> Result<Option<TaskRow>, StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| sqlite::get_any(c, id)),
            Backend::Postgres(db) => {
                let id = id.to_owned();
                db.block(move |c| pg::get_any(c, id))
            }
        }
    }
}
