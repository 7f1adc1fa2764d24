//! `ai_jobs` on SQLite: the statements of `store::ai_jobs`. A job and its credit reservation
//! are written in one transaction; failing a job and refunding it is one transaction.

use rusqlite::{params, Connection, OptionalExtension};

use super::types::{parse_result, vanished, AiJobRow, NewAiJob, Reservation, COLS, HAS_FILES};
use crate::store::credits::sqlite as credits;
use crate::store::credits::JobCredits;
use crate::store::{now_rfc3339, Charge, CreditBalance, LeaseTerms, MonthlyGrant, StoreError};

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
        output_expired_at: r.get(15)?,
    })
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

/// Store a `running` job and reserve its credits, in one transaction: `grant` is applied,
/// `charge` decides from the balance what each bucket pays (`None`: nothing is stored).
pub(in crate::store) fn create(
    conn: &Connection,
    job: &NewAiJob,
    node: Option<&str>,
    grant: &MonthlyGrant,
    charge: impl FnOnce(CreditBalance) -> Option<Charge>,
) -> Result<Reservation, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let id = insert(&tx, job, node)?;
    let balance = credits::balance(&tx, grant)?;
    let Some(charge) = charge(balance) else {
        return Ok(Reservation::Short { remaining: balance.total() });
    };
    credits::job_rows(&tx, job.api_key_id, &grant.period, charge, id, JobCredits::Reserve)?;
    set_charge(&tx, id, charge)?;
    let job = get(&tx, id)?.ok_or_else(vanished)?;
    tx.commit()?;
    Ok(Reservation::Reserved { job: Box::new(job), remaining: balance.total() - charge.total() })
}

/// One job.
pub(in crate::store) fn get(conn: &Connection, id: i64) -> Result<Option<AiJobRow>, StoreError> {
    Ok(conn.query_row(&format!("SELECT {COLS} FROM ai_jobs WHERE id = ?1"), [id], row).optional()?)
}

/// The node's jobs still running, and unmarked ones (restart recovery).
pub(in crate::store) fn running(conn: &Connection, node: Option<&str>) -> Result<Vec<AiJobRow>, StoreError> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLS} FROM ai_jobs WHERE status = 'running' AND (node_id IS NULL OR node_id = ?1) ORDER BY id"
    ))?;
    let rows = st.query_map([node], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Remember the provider's job id.
pub(in crate::store) fn set_external_id(conn: &Connection, id: i64, external: &str) -> Result<(), StoreError> {
    conn.execute("UPDATE ai_jobs SET external_id = ?2 WHERE id = ?1", params![id, external])?;
    Ok(())
}

/// `running` -> `success`; false when it had already ended.
pub(in crate::store) fn succeed(conn: &Connection, id: i64, result: &str) -> Result<bool, StoreError> {
    let n = conn.execute(
        "UPDATE ai_jobs SET status = 'success', result_json = ?2, completed_at = ?3 WHERE id = ?1 AND status = 'running'",
        params![id, result, now_rfc3339()],
    )?;
    Ok(n == 1)
}

/// `running` -> `failed` and refund its credits into `period`, atomically; false when it had
/// already ended.
pub(in crate::store) fn fail_and_refund(
    conn: &Connection,
    id: i64,
    code: &str,
    message: &str,
    period: &str,
) -> Result<bool, StoreError> {
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

/// Retention: hold until `terms.until()` up to `limit` successful jobs with files that ended
/// before `before`, not yet swept and not held by another live sweep. One statement: two
/// sweeps on the file never hold the same job.
pub(in crate::store) fn claim_expired(
    conn: &Connection,
    before: &str,
    terms: LeaseTerms,
    limit: u32,
) -> Result<Vec<AiJobRow>, StoreError> {
    let mut st = conn.prepare(&format!(
        "UPDATE ai_jobs SET purge_until_ms = ?3 WHERE id IN (SELECT id FROM ai_jobs WHERE status = 'success' \
         AND {HAS_FILES} AND output_expired_at IS NULL AND completed_at < ?1 \
         AND (purge_until_ms IS NULL OR purge_until_ms < ?2) ORDER BY completed_at, id LIMIT ?4) \
         RETURNING {COLS}"
    ))?;
    let rows =
        st.query_map(params![before, terms.now_ms, terms.until(), limit], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Retention: the held job's files are gone since `at`; false when it was already marked.
pub(in crate::store) fn mark_expired(conn: &Connection, id: i64, at: &str) -> Result<bool, StoreError> {
    let n = conn.execute(
        "UPDATE ai_jobs SET output_expired_at = ?2, purge_until_ms = NULL WHERE id = ?1 AND output_expired_at IS NULL",
        params![id, at],
    )?;
    Ok(n == 1)
}
