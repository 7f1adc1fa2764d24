//! Leases on render tasks: the columns of `tasks` that say which worker holds a task and until
//! when (`lease_until_ms`), and the fencing token that makes a late worker harmless (the task's
//! `attempts`: every claim adds one, nothing ever lowers it, so the newest claim always holds
//! the largest number).
//!
//! A claim takes the oldest task that is `pending`, or `processing` under a lease that ran out
//! (its worker died, froze or lost the store), a task an API node waits for (a preview or an
//! AI render, `TaskKind`) before any video, and gives it a lease; a heartbeat renews it
//! while its token is still the task's ([`Blocking::renew_lease`]); a worker's progress and its
//! terminal write name the token ([`Store::end_task_as`]) and change nothing once another
//! claim has taken the task or a cancel has ended it. Whether a found task is taken or failed
//! (its attempts used up) is the jobs' rule ([`crate::jobs::lease::rescue`]), called between
//! the read and the write of the claim's transaction on both backends.
//!
//! Enter: a worker's claim, heartbeats, progress and results. Leave: [`Claim`] (the task taken
//! and the tasks failed on the way), [`LeaseState`], whether a result was kept.
//!
//! The [`Store`] methods here pick the backend and run its statements (`sqlite.rs`,
//! `postgres.rs`); both take and return the types of `types.rs`.

pub(in crate::store) mod postgres;
pub(in crate::store) mod sqlite;
mod types;

pub use types::{Claim, LeaseState, LeaseTerms, Rescue};

use self::postgres as pg;
use crate::store::tasks::sqlite as tasks;
use crate::store::{Backend, Blocking, Store, StoreError, TaskRow, TaskUpdate};

impl Store {
    /// Take the oldest due task for this node: `pending`, or `processing` under a lease that
    /// ran out. `rule` gets the attempts a found task has used and says whether to take it or
    /// fail it; failed ones are returned with the claim (their end is the caller's to report).
    pub async fn claim_next_task(
        &self,
        terms: LeaseTerms,
        rule: impl Fn(i64) -> Rescue + Send + Sync + 'static,
    ) -> Result<Claim, StoreError> {
        self.claim(terms, false, rule).await
    }

    /// [`Store::claim_next_task`] of part tasks only (`--split-renders`: a worker that
    /// coordinates a split video renders parts meanwhile, never a second video).
    pub async fn claim_next_part(
        &self,
        terms: LeaseTerms,
        rule: impl Fn(i64) -> Rescue + Send + Sync + 'static,
    ) -> Result<Claim, StoreError> {
        self.claim(terms, true, rule).await
    }

    async fn claim(
        &self,
        terms: LeaseTerms,
        parts_only: bool,
        rule: impl Fn(i64) -> Rescue + Send + Sync + 'static,
    ) -> Result<Claim, StoreError> {
        let node = self.node();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::claim(c, node.as_deref(), terms, parts_only, &rule)).await,
            Backend::Postgres(db) => db.call(move |c| pg::claim(c, node, terms, parts_only, rule)).await,
        }
    }

    /// A worker's terminal write, kept only while its `token` (the attempt it claimed) still
    /// holds the task: false (nothing changed) after a cancel, an end, or a newer claim.
    pub async fn end_task_as(
        &self,
        id: &str,
        token: i64,
        update: TaskUpdate,
    ) -> Result<(bool, Option<TaskRow>), StoreError> {
        let id = id.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => {
                db.call(move |c| Ok((sqlite::end_as(c, &id, token, &update)?, tasks::get(c, &id)?))).await
            }
            Backend::Postgres(db) => db.call(move |c| pg::end_as(c, id, token, update)).await,
        }
    }

    /// A worker gives the task it holds back to the queue (`pending`, no lease, its `attempts`
    /// kept) with `reason` in `error`, so a later claim, by any worker, renders it again. Only
    /// while `token` still holds it: false (nothing changed) after a cancel, an end, or a newer
    /// claim.
    pub async fn give_back_task(&self, id: &str, token: i64, reason: &str) -> Result<bool, StoreError> {
        let (id, reason) = (id.to_owned(), reason.to_owned());
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::give_back(c, &id, token, &reason)).await,
            Backend::Postgres(db) => db.call(move |c| pg::give_back(c, id, token, reason)).await,
        }
    }
}

impl Blocking<'_> {
    /// Renew the lease of `id` until `terms.now_ms + terms.lease_ms` while `token` holds it
    /// (heartbeat threads).
    pub fn renew_lease(&self, id: &str, token: i64, terms: LeaseTerms) -> Result<LeaseState, StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| sqlite::renew(c, id, token, terms)),
            Backend::Postgres(db) => {
                let id = id.to_owned();
                db.block(move |c| pg::renew(c, id, token, terms))
            }
        }
    }

    /// Record progress of a task while `token` holds it (render threads).
    pub fn set_task_progress(&self, id: &str, token: i64, value: f64) -> Result<(), StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| sqlite::progress(c, id, token, value)),
            Backend::Postgres(db) => {
                let id = id.to_owned();
                db.block(move |c| pg::progress(c, id, token, value))
            }
        }
    }
}
