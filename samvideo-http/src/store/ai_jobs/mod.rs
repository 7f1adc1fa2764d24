//! AI jobs as stored: the `ai_jobs` table, one row per job, `running` until it ends `success`
//! or `failed`.
//!
//! Retention (`--retention-days`) deletes the files of a successful job as it does a video
//! task's objects: a sweep holds the job ([`Store::claim_expired_ai_outputs`]), deletes its
//! files, then marks it ([`Store::mark_ai_output_expired`]); its state stays `success`.
//!
//! Enter: a job to create with its credits rule ([`Store::create_ai_job`]: the job row and its
//! credit reservation in one transaction), the provider's job id, the end of a job. A failed
//! job's credits are refunded in the transaction that marks it failed, so a refund happens
//! exactly once. Leave: [`AiJobRow`]s.
//!
//! The [`Store`] methods here pick the backend and run its statements (`sqlite.rs`,
//! `postgres.rs`); both take and return the types of `types.rs`.

pub(in crate::store) mod postgres;
pub(in crate::store) mod sqlite;
mod types;

pub use types::{AiJobRow, NewAiJob, Reservation};

use serde_json::Value;

use self::postgres as pg;
use crate::store::{Backend, Blocking, Charge, CreditBalance, LeaseTerms, MonthlyGrant, Store, StoreError};

impl Store {
    /// Store a `running` job and reserve its credits, in one transaction: the account's
    /// `grant` is applied, `charge` decides from the balance what each bucket pays (`None`:
    /// the balance is short, and nothing is stored).
    pub async fn create_ai_job(
        &self,
        job: NewAiJob,
        grant: MonthlyGrant,
        charge: impl FnOnce(CreditBalance) -> Option<Charge> + Send + 'static,
    ) -> Result<Reservation, StoreError> {
        let node = self.node();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::create(c, &job, node.as_deref(), &grant, charge)).await,
            Backend::Postgres(db) => db.call(move |c| pg::create(c, job, node, grant, charge)).await,
        }
    }

    /// One job.
    pub async fn ai_job(&self, id: i64) -> Result<Option<AiJobRow>, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::get(c, id)).await,
            Backend::Postgres(db) => db.call(move |c| async move { pg::get(&**c, id).await }).await,
        }
    }

    /// `running` -> `success` with its result; false when it had already ended.
    pub async fn succeed_ai_job(&self, id: i64, result: &Value) -> Result<bool, StoreError> {
        let result = result.to_string();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::succeed(c, id, &result)).await,
            Backend::Postgres(db) => db.call(move |c| pg::succeed(c, id, result)).await,
        }
    }

    /// `running` -> `failed`, and its credits refunded (the subscription part into
    /// `refund_period`) in the same transaction; false when it had already ended.
    pub async fn fail_ai_job(
        &self,
        id: i64,
        code: &str,
        message: &str,
        refund_period: &str,
    ) -> Result<bool, StoreError> {
        let (code, message, period) = (code.to_owned(), message.to_owned(), refund_period.to_owned());
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::fail_and_refund(c, id, &code, &message, &period)).await,
            Backend::Postgres(db) => db.call(move |c| pg::fail_and_refund(c, id, code, message, period)).await,
        }
    }
}

impl Store {
    /// Retention: hold up to `limit` successful jobs whose result is files kept here, that
    /// ended before `before` (RFC 3339) and still have them, until `terms.now_ms +
    /// terms.lease_ms`, for this sweep to delete them; the same rule as
    /// [`Store::claim_expired_outputs`] for tasks (a job another sweep holds is left to it until
    /// its hold runs out; each job is returned to one sweep only). Jobs whose result is a
    /// provider's URLs have nothing here and are never held.
    pub async fn claim_expired_ai_outputs(
        &self,
        before: &str,
        terms: LeaseTerms,
        limit: u32,
    ) -> Result<Vec<AiJobRow>, StoreError> {
        let before = before.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::claim_expired(c, &before, terms, limit)).await,
            Backend::Postgres(db) => db.call(move |c| pg::claim_expired(c, before, terms, limit)).await,
        }
    }

    /// Retention: the files of a held job are deleted; record it (`at`, RFC 3339) and drop the
    /// hold. False when the job was already marked.
    pub async fn mark_ai_output_expired(&self, id: i64, at: &str) -> Result<bool, StoreError> {
        let at = at.to_owned();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| sqlite::mark_expired(c, id, &at)).await,
            Backend::Postgres(db) => db.call(move |c| pg::mark_expired(c, id, at)).await,
        }
    }
}

impl Blocking<'_> {
    /// This node's jobs still running (and unmarked ones; never another node's), oldest
    /// first (restart recovery).
    pub fn running_ai_jobs(&self) -> Result<Vec<AiJobRow>, StoreError> {
        let node = self.store.node();
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| sqlite::running(c, node.as_deref())),
            Backend::Postgres(db) => db.block(move |c| pg::running(c, node)),
        }
    }

    /// Remember the provider's own job id (provider threads).
    pub fn set_ai_external_id(&self, id: i64, external: &str) -> Result<(), StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| sqlite::set_external_id(c, id, external)),
            Backend::Postgres(db) => {
                let external = external.to_owned();
                db.block(move |c| pg::set_external_id(c, id, external))
            }
        }
    }

    /// [`Store::fail_ai_job`], on the calling thread.
    pub fn fail_ai_job(&self, id: i64, code: &str, message: &str, refund_period: &str) -> Result<bool, StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| sqlite::fail_and_refund(c, id, code, message, refund_period)),
            Backend::Postgres(db) => {
                let (code, message, period) = (code.to_owned(), message.to_owned(), refund_period.to_owned());
                db.block(move |c| pg::fail_and_refund(c, id, code, message, period))
            }
        }
    }
}
