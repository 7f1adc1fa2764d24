//! AI jobs as stored: the `ai_jobs` table, one row per job, `running` until it ends `success`
//! or `failed`.
//!
//! Enter: a job to create with its credits rule ([`Store::create_ai_job`]: the job row and its
//! credit reservation in one transaction), the provider's job id, the end of a job. A failed
//! job's credits are refunded in the transaction that marks it failed, so a refund happens
//! exactly once. Leave: [`AiJobRow`]s.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::credits::{self, JobCredits};
use super::postgres::ai_jobs as pg;
use super::{now_rfc3339, Backend, Blocking, Charge, CreditBalance, MonthlyGrant, Store, StoreError};

/// A stored AI job.
#[derive(Debug, Clone, PartialEq)]
pub struct AiJobRow {
    /// `job_id`.
    pub id: i64,
    /// Owner.
    pub api_key_id: i64,
    /// Catalog id.
    pub model_id: String,
    /// Provider name.
    pub provider: String,
    /// The job input (prompt, image_urls, options with defaults) as JSON.
    pub request_json: String,
    /// `running`, `success`, `failed`.
    pub status: String,
    /// Credits reserved.
    pub credits_charged: i64,
    /// Of which from the subscription bucket.
    pub charged_subscription: i64,
    /// Of which from top-up credits.
    pub charged_topup: i64,
    /// `{"files": [...]}` (served here) or `{"urls": [...]}` (the provider's).
    pub result: Option<Value>,
    /// The provider's own job id.
    pub external_id: Option<String>,
    /// Failure code.
    pub error_code: Option<String>,
    /// Failure message.
    pub error_message: Option<String>,
    /// Creation time.
    pub created_at: String,
    /// End time.
    pub completed_at: Option<String>,
}

pub(super) const COLS: &str =
    "id, api_key_id, model_id, provider, request_json, status, credits_charged, charged_subscription,
    charged_topup, result_json, external_id, error_code, error_message, created_at, completed_at";

/// A stored `result_json` (unreadable text reads as no result).
pub(super) fn parse_result(stored: Option<String>) -> Option<Value> {
    stored.and_then(|s| serde_json::from_str(&s).ok())
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AiJobRow> {
    let result: Option<String> = r.get(9)?;
    Ok(AiJobRow {
        id: r.get(0)?,
        api_key_id: r.get(1)?,
        model_id: r.get(2)?,
        provider: r.get(3)?,
        request_json: r.get(4)?,
        status: r.get(5)?,
        credits_charged: r.get(6)?,
        charged_subscription: r.get(7)?,
        charged_topup: r.get(8)?,
        result: parse_result(result),
        external_id: r.get(10)?,
        error_code: r.get(11)?,
        error_message: r.get(12)?,
        created_at: r.get(13)?,
        completed_at: r.get(14)?,
    })
}

/// An AI job to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAiJob {
    /// Owner.
    pub api_key_id: i64,
    /// Catalog id.
    pub model_id: String,
    /// Provider name.
    pub provider: String,
    /// The job input as JSON.
    pub request_json: String,
    /// Its price in credits.
    pub credits: i64,
}

/// What [`Store::create_ai_job`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Reservation {
    /// The job is stored, `running`, its credits taken.
    Reserved {
        /// The stored job.
        job: Box<AiJobRow>,
        /// Credits left afterwards.
        remaining: i64,
    },
    /// The balance is short: nothing was stored.
    Short {
        /// Credits the account has.
        remaining: i64,
    },
}

/// Insert a running job (credits filled in by [`set_charge`]); returns its id.
fn insert(conn: &Connection, job: &NewAiJob, node: Option<&str>) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO ai_jobs (api_key_id, model_id, provider, request_json, status, credits_charged, created_at, node_id)
         VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6, ?7)",
        params![job.api_key_id, job.model_id, job.provider, job.request_json, job.credits, now_rfc3339(), node],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Record which buckets paid.
fn set_charge(conn: &Connection, id: i64, charge: Charge) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE ai_jobs SET charged_subscription = ?2, charged_topup = ?3 WHERE id = ?1",
        params![id, charge.subscription, charge.topup],
    )?;
    Ok(())
}

/// One job.
fn get(conn: &Connection, id: i64) -> Result<Option<AiJobRow>, StoreError> {
    Ok(conn.query_row(&format!("SELECT {COLS} FROM ai_jobs WHERE id = ?1"), [id], row).optional()?)
}

/// The node's jobs still running, and unmarked ones (restart recovery).
fn running(conn: &Connection, node: Option<&str>) -> Result<Vec<AiJobRow>, StoreError> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLS} FROM ai_jobs WHERE status = 'running' AND (node_id IS NULL OR node_id = ?1) ORDER BY id"
    ))?;
    let rows = st.query_map([node], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Remember the provider's job id.
fn set_external_id(conn: &Connection, id: i64, external: &str) -> Result<(), StoreError> {
    conn.execute("UPDATE ai_jobs SET external_id = ?2 WHERE id = ?1", params![id, external])?;
    Ok(())
}

/// `running` -> `success`; false when it had already ended.
fn succeed(conn: &Connection, id: i64, result: &str) -> Result<bool, StoreError> {
    let n = conn.execute(
        "UPDATE ai_jobs SET status = 'success', result_json = ?2, completed_at = ?3 WHERE id = ?1 AND status = 'running'",
        params![id, result, now_rfc3339()],
    )?;
    Ok(n == 1)
}

/// `running` -> `failed` and refund its credits into `period`, atomically; false when it had
/// already ended.
fn fail_and_refund(conn: &Connection, id: i64, code: &str, message: &str, period: &str) -> Result<bool, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let n = tx.execute(
        "UPDATE ai_jobs SET status = 'failed', error_code = ?2, error_message = ?3, completed_at = ?4
         WHERE id = ?1 AND status = 'running'",
        params![id, code, message, now_rfc3339()],
    )?;
    if n == 1 {
        if let Some(job) = get(&tx, id)? {
            let charge = Charge { subscription: job.charged_subscription, topup: job.charged_topup };
            credits::job_rows(&tx, job.api_key_id, period, charge, id, JobCredits::Refund)?;
        }
    }
    tx.commit()?;
    Ok(n == 1)
}

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
        let db = match &self.backend {
            Backend::Sqlite(db) => db,
            Backend::Postgres(db) => return db.call(move |c| pg::create(c, job, node, grant, charge)).await,
        };
        db.call(move |c| {
            let tx = c.unchecked_transaction()?;
            let id = insert(&tx, &job, node.as_deref())?;
            let balance = credits::balance(&tx, &grant)?;
            let Some(charge) = charge(balance) else {
                return Ok(Reservation::Short { remaining: balance.total() });
            };
            credits::job_rows(&tx, job.api_key_id, &grant.period, charge, id, JobCredits::Reserve)?;
            set_charge(&tx, id, charge)?;
            let job = get(&tx, id)?.ok_or_else(vanished)?;
            tx.commit()?;
            Ok(Reservation::Reserved { job: Box::new(job), remaining: balance.total() - charge.total() })
        })
        .await
    }

    /// One job.
    pub async fn ai_job(&self, id: i64) -> Result<Option<AiJobRow>, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| get(c, id)).await,
            Backend::Postgres(db) => db.call(move |c| async move { pg::get(&**c, id).await }).await,
        }
    }

    /// `running` -> `success` with its result; false when it had already ended.
    pub async fn succeed_ai_job(&self, id: i64, result: &Value) -> Result<bool, StoreError> {
        let result = result.to_string();
        match &self.backend {
            Backend::Sqlite(db) => db.call(move |c| succeed(c, id, &result)).await,
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
            Backend::Sqlite(db) => db.call(move |c| fail_and_refund(c, id, &code, &message, &period)).await,
            Backend::Postgres(db) => db.call(move |c| pg::fail_and_refund(c, id, code, message, period)).await,
        }
    }
}

/// The error for a job row that its own transaction inserted and cannot read back.
pub(super) fn vanished() -> StoreError {
    StoreError::Corrupt { table: "ai_jobs", reason: "inserted AI job vanished".into() }
}

impl Blocking<'_> {
    /// This node's jobs still running (and unmarked ones; never another node's), oldest
    /// first (restart recovery).
    pub fn running_ai_jobs(&self) -> Result<Vec<AiJobRow>, StoreError> {
        let node = self.store.node();
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| running(c, node.as_deref())),
            Backend::Postgres(db) => db.block(move |c| pg::running(c, node)),
        }
    }

    /// Remember the provider's own job id (provider threads).
    pub fn set_ai_external_id(&self, id: i64, external: &str) -> Result<(), StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| set_external_id(c, id, external)),
            Backend::Postgres(db) => {
                let external = external.to_owned();
                db.block(move |c| pg::set_external_id(c, id, external))
            }
        }
    }

    /// [`Store::fail_ai_job`], on the calling thread.
    pub fn fail_ai_job(&self, id: i64, code: &str, message: &str, refund_period: &str) -> Result<bool, StoreError> {
        match &self.store.backend {
            Backend::Sqlite(db) => db.with(|c| fail_and_refund(c, id, code, message, refund_period)),
            Backend::Postgres(db) => {
                let (code, message, period) = (code.to_owned(), message.to_owned(), refund_period.to_owned());
                db.block(move |c| pg::fail_and_refund(c, id, code, message, period))
            }
        }
    }
}
