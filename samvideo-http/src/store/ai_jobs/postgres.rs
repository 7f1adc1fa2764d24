//! `ai_jobs` on Postgres: the statements of `store::ai_jobs`. A job and its credit reservation
//! are written in one transaction under the account's lock; failing a job and refunding it is
//! one transaction whose guarded update lets exactly one caller refund.

use tokio_postgres::{GenericClient, Row};

use super::types::{parse_result, vanished, AiJobRow, NewAiJob, Reservation, COLS, HAS_FILES};
use crate::store::credits::postgres as credits;
use crate::store::credits::JobCredits;
use crate::store::postgres::{lock_account, Conn};
use crate::store::{now_rfc3339, Charge, CreditBalance, LeaseTerms, MonthlyGrant, StoreError};

fn read(r: &Row) -> Result<AiJobRow, StoreError> {
    Ok(AiJobRow {
        id: r.try_get(0)?,
        api_key_id: r.try_get(1)?,
        model_id: r.try_get(2)?,
        provider: r.try_get(3)?,
        request_json: r.try_get(4)?,
        status: r.try_get(5)?,
        credits_charged: r.try_get(6)?,
        charged_subscription: r.try_get(7)?,
        charged_topup: r.try_get(8)?,
        result: parse_result(r.try_get(9)?),
        external_id: r.try_get(10)?,
        error_code: r.try_get(11)?,
        error_message: r.try_get(12)?,
        created_at: r.try_get(13)?,
        completed_at: r.try_get(14)?,
        output_expired_at: r.try_get(15)?,
    })
}

/// One job.
pub(in crate::store) async fn get(c: &impl GenericClient, id: i64) -> Result<Option<AiJobRow>, StoreError> {
    let r = c.query_opt(&format!("SELECT {COLS} FROM ai_jobs WHERE id = $1"), &[&id]).await?;
    r.as_ref().map(read).transpose()
}

pub(in crate::store) async fn create(
    mut c: Conn,
    job: NewAiJob,
    node: Option<String>,
    grant: MonthlyGrant,
    charge: impl FnOnce(CreditBalance) -> Option<Charge>,
) -> Result<Reservation, StoreError> {
    let client: &mut tokio_postgres::Client = &mut c;
    let tx = client.transaction().await?;
    lock_account(&tx, job.api_key_id).await?;
    let id: i64 = tx
        .query_one(
            "INSERT INTO ai_jobs (api_key_id, model_id, provider, request_json, status, credits_charged, created_at, \
             node_id) VALUES ($1, $2, $3, $4, 'running', $5, $6, $7) RETURNING id",
            &[&job.api_key_id, &job.model_id, &job.provider, &job.request_json, &job.credits, &now_rfc3339(), &node],
        )
        .await?
        .try_get(0)?;
    let balance = credits::balance(&tx, &grant).await?;
    let Some(charge) = charge(balance) else {
        return Ok(Reservation::Short { remaining: balance.total() });
    };
    credits::job_rows(&tx, job.api_key_id, &grant.period, charge, id, JobCredits::Reserve).await?;
    tx.execute(
        "UPDATE ai_jobs SET charged_subscription = $2, charged_topup = $3 WHERE id = $1",
        &[&id, &charge.subscription, &charge.topup],
    )
    .await?;
    let stored = get(&tx, id).await?.ok_or_else(vanished)?;
    tx.commit().await?;
    Ok(Reservation::Reserved { job: Box::new(stored), remaining: balance.total() - charge.total() })
}

pub(in crate::store) async fn running(c: Conn, node: Option<String>) -> Result<Vec<AiJobRow>, StoreError> {
    let rows = c
        .query(
            &format!(
                "SELECT {COLS} FROM ai_jobs WHERE status = 'running' AND (node_id IS NULL OR node_id = $1) ORDER BY id"
            ),
            &[&node],
        )
        .await?;
    rows.iter().map(read).collect()
}

pub(in crate::store) async fn set_external_id(c: Conn, id: i64, external: String) -> Result<(), StoreError> {
    c.execute("UPDATE ai_jobs SET external_id = $2 WHERE id = $1", &[&id, &external]).await?;
    Ok(())
}

pub(in crate::store) async fn succeed(c: Conn, id: i64, result: String) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "UPDATE ai_jobs SET status = 'success', result_json = $2, completed_at = $3 \
             WHERE id = $1 AND status = 'running'",
            &[&id, &result, &now_rfc3339()],
        )
        .await?;
    Ok(n == 1)
}

pub(in crate::store) async fn fail_and_refund(
    mut c: Conn,
    id: i64,
    code: String,
    message: String,
    period: String,
) -> Result<bool, StoreError> {
    let client: &mut tokio_postgres::Client = &mut c;
    let tx = client.transaction().await?;
    let failed = tx
        .query_opt(
            "UPDATE ai_jobs SET status = 'failed', error_code = $2, error_message = $3, completed_at = $4 \
             WHERE id = $1 AND status = 'running' RETURNING api_key_id, charged_subscription, charged_topup",
            &[&id, &code, &message, &now_rfc3339()],
        )
        .await?;
    if let Some(r) = &failed {
        let charge = Charge { subscription: r.try_get(1)?, topup: r.try_get(2)? };
        credits::job_rows(&tx, r.try_get(0)?, &period, charge, id, JobCredits::Refund).await?;
    }
    tx.commit().await?;
    Ok(failed.is_some())
}

/// Retention: hold until `terms.until()` up to `limit` successful jobs with files that ended
/// before `before`, not yet swept. `FOR UPDATE SKIP LOCKED`: sweeps of several nodes never hold
/// the same job.
pub(in crate::store) async fn claim_expired(
    c: Conn,
    before: String,
    terms: LeaseTerms,
    limit: u32,
) -> Result<Vec<AiJobRow>, StoreError> {
    let rows = c
        .query(
            &format!(
                "UPDATE ai_jobs SET purge_until_ms = $3 WHERE id IN (SELECT id FROM ai_jobs WHERE status = 'success' \
                 AND {HAS_FILES} AND output_expired_at IS NULL AND completed_at < $1 \
                 AND (purge_until_ms IS NULL OR purge_until_ms < $2) ORDER BY completed_at, id LIMIT $4 \
                 FOR UPDATE SKIP LOCKED) RETURNING {COLS}"
            ),
            &[&before, &terms.now_ms, &terms.until(), &i64::from(limit)],
        )
        .await?;
    rows.iter().map(read).collect()
}

/// Retention: the held job's files are gone since `at`; false when it was already marked.
pub(in crate::store) async fn mark_expired(c: Conn, id: i64, at: String) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "UPDATE ai_jobs SET output_expired_at = $2, purge_until_ms = NULL WHERE id = $1 AND output_expired_at IS NULL",
            &[&id, &at],
        )
        .await?;
    Ok(n == 1)
}
