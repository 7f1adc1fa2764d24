//! The `ai_jobs` table: one row per AI job, `running` until it ends `success` or `failed`.
//! A failed job's credits are refunded in the same transaction that marks it failed, so a
//! refund happens exactly once.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use crate::credits;
use crate::store::{now_rfc3339, StoreError};

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

const COLS: &str = "id, api_key_id, model_id, provider, request_json, status, credits_charged, charged_subscription,
    charged_topup, result_json, external_id, error_code, error_message, created_at, completed_at";

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
        result: result.and_then(|s| serde_json::from_str(&s).ok()),
        external_id: r.get(10)?,
        error_code: r.get(11)?,
        error_message: r.get(12)?,
        created_at: r.get(13)?,
        completed_at: r.get(14)?,
    })
}

impl AiJobRow {
    /// Insert a running job (credits filled in by [`AiJobRow::set_charge`]); returns its id.
    pub fn insert(
        conn: &Connection,
        key_id: i64,
        model_id: &str,
        provider: &str,
        request_json: &str,
        credits: i64,
    ) -> Result<i64, StoreError> {
        conn.execute(
            "INSERT INTO ai_jobs (api_key_id, model_id, provider, request_json, status, credits_charged, created_at)
             VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6)",
            params![key_id, model_id, provider, request_json, credits, now_rfc3339()],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Record which buckets paid.
    pub fn set_charge(conn: &Connection, id: i64, subscription: i64, topup: i64) -> Result<(), StoreError> {
        conn.execute(
            "UPDATE ai_jobs SET charged_subscription = ?2, charged_topup = ?3 WHERE id = ?1",
            params![id, subscription, topup],
        )?;
        Ok(())
    }

    /// One job.
    pub fn get(conn: &Connection, id: i64) -> Result<Option<AiJobRow>, StoreError> {
        Ok(conn.query_row(&format!("SELECT {COLS} FROM ai_jobs WHERE id = ?1"), [id], row).optional()?)
    }

    /// Jobs still running (restart recovery).
    pub fn running(conn: &Connection) -> Result<Vec<AiJobRow>, StoreError> {
        let mut st = conn.prepare(&format!("SELECT {COLS} FROM ai_jobs WHERE status = 'running' ORDER BY id"))?;
        let rows = st.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Remember the provider's job id.
    pub fn set_external_id(conn: &Connection, id: i64, external: &str) -> Result<(), StoreError> {
        conn.execute("UPDATE ai_jobs SET external_id = ?2 WHERE id = ?1", params![id, external])?;
        Ok(())
    }

    /// `running` -> `success`; false when it had already ended.
    pub fn succeed(conn: &Connection, id: i64, result: &Value) -> Result<bool, StoreError> {
        let n = conn.execute(
            "UPDATE ai_jobs SET status = 'success', result_json = ?2, completed_at = ?3 WHERE id = ?1 AND status = 'running'",
            params![id, result.to_string(), now_rfc3339()],
        )?;
        Ok(n == 1)
    }

    /// `running` -> `failed` and refund its credits, atomically; false when it had already ended.
    pub fn fail_and_refund(conn: &Connection, id: i64, code: &str, message: &str) -> Result<bool, StoreError> {
        let tx = conn.unchecked_transaction()?;
        let n = tx.execute(
            "UPDATE ai_jobs SET status = 'failed', error_code = ?2, error_message = ?3, completed_at = ?4
             WHERE id = ?1 AND status = 'running'",
            params![id, code, message, now_rfc3339()],
        )?;
        if n == 1 {
            if let Some(job) = Self::get(&tx, id)? {
                credits::refund(&tx, job.api_key_id, id, job.charged_subscription, job.charged_topup)?;
            }
        }
        tx.commit()?;
        Ok(n == 1)
    }
}
