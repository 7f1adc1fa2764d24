//! `credit_ledger` on Postgres: the statements of `store::credits`. Every operation that
//! grants or spends reads the sums under the account's lock ([`lock_account`]), so the
//! monthly grant is written once and a balance is never spent twice, whichever node asks.

use tokio_postgres::GenericClient;

use super::types::{Bucket, Charge, CreditBalance, JobCredits, LedgerRow, MonthlyGrant};
use crate::store::postgres::{lock_account, Conn};
use crate::store::{now_rfc3339, StoreError};

async fn insert(
    c: &impl GenericClient,
    key_id: i64,
    bucket: Bucket<'_>,
    amount: i64,
    kind: &str,
    job: Option<i64>,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO credit_ledger (api_key_id, bucket, amount, kind, period, ai_job_id, reason, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[&key_id, &bucket.name(), &amount, &kind, &bucket.period(), &job, &reason, &now_rfc3339()],
    )
    .await?;
    Ok(())
}

/// A `SUM` as a number (Postgres sums `BIGINT`s as `NUMERIC`).
async fn sum(
    c: &impl GenericClient,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<i64, StoreError> {
    let r =
        c.query_one(&format!("SELECT COALESCE(SUM(amount), 0)::BIGINT FROM credit_ledger WHERE {sql}"), params).await?;
    Ok(r.try_get(0)?)
}

/// Grant the period's subscription credits if not yet granted (or the difference after an
/// upgrade). Call inside the transaction that locked the account.
async fn ensure_monthly(c: &impl GenericClient, grant: &MonthlyGrant) -> Result<(), StoreError> {
    let granted = sum(
        c,
        "api_key_id = $1 AND bucket = 'subscription' AND kind = 'monthly' AND period = $2",
        &[&grant.api_key_id, &grant.period],
    )
    .await?;
    if grant.allowance > granted {
        let bucket = Bucket::Subscription { period: &grant.period };
        insert(c, grant.api_key_id, bucket, grant.allowance - granted, "monthly", None, Some(&grant.reason)).await?;
    }
    Ok(())
}

async fn topup(c: &impl GenericClient, key_id: i64) -> Result<i64, StoreError> {
    sum(c, "api_key_id = $1 AND bucket = 'topup'", &[&key_id]).await
}

/// The sums of an account's subscription rows of `period` and of its top-up rows.
pub(in crate::store) async fn sums(
    c: &impl GenericClient,
    key_id: i64,
    period: &str,
) -> Result<CreditBalance, StoreError> {
    let subscription =
        sum(c, "api_key_id = $1 AND bucket = 'subscription' AND period = $2", &[&key_id, &period]).await?;
    Ok(CreditBalance { subscription, topup: topup(c, key_id).await? })
}

/// The balance after granting the period's credits (inside the caller's transaction, which
/// locked the account).
pub(in crate::store) async fn balance(
    c: &impl GenericClient,
    grant: &MonthlyGrant,
) -> Result<CreditBalance, StoreError> {
    ensure_monthly(c, grant).await?;
    sums(c, grant.api_key_id, &grant.period).await
}

/// Write the rows of `charge` for `job_id` (the subscription part in `period`).
pub(in crate::store) async fn job_rows(
    c: &impl GenericClient,
    key_id: i64,
    period: &str,
    charge: Charge,
    job_id: i64,
    way: JobCredits,
) -> Result<(), StoreError> {
    let (_, kind) = way.sign_and_kind();
    for (bucket, amount) in way.rows(charge, period) {
        insert(c, key_id, bucket, amount, kind, Some(job_id), None).await?;
    }
    Ok(())
}

pub(in crate::store) async fn credit_balance(mut c: Conn, grant: MonthlyGrant) -> Result<CreditBalance, StoreError> {
    let client: &mut tokio_postgres::Client = &mut c;
    let tx = client.transaction().await?;
    lock_account(&tx, grant.api_key_id).await?;
    let b = balance(&tx, &grant).await?;
    tx.commit().await?;
    Ok(b)
}

pub(in crate::store) async fn grant_topup(
    mut c: Conn,
    key_id: i64,
    amount: i64,
    reason: String,
) -> Result<Result<i64, i64>, StoreError> {
    let client: &mut tokio_postgres::Client = &mut c;
    let tx = client.transaction().await?;
    lock_account(&tx, key_id).await?;
    let topup = topup(&tx, key_id).await?;
    if topup + amount < 0 {
        return Ok(Err(topup));
    }
    insert(&tx, key_id, Bucket::Topup, amount, "grant", None, Some(&reason)).await?;
    tx.commit().await?;
    Ok(Ok(topup + amount))
}

pub(in crate::store) async fn ledger(c: Conn, key_id: i64, limit: u32) -> Result<Vec<LedgerRow>, StoreError> {
    let rows = c
        .query(
            "SELECT id, bucket, amount, kind, period, ai_job_id, reason, created_at FROM credit_ledger \
             WHERE api_key_id = $1 ORDER BY id DESC LIMIT $2",
            &[&key_id, &i64::from(limit)],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(LedgerRow {
                id: r.try_get(0)?,
                bucket: r.try_get(1)?,
                amount: r.try_get(2)?,
                kind: r.try_get(3)?,
                period: r.try_get(4)?,
                ai_job_id: r.try_get(5)?,
                reason: r.try_get(6)?,
                created_at: r.try_get(7)?,
            })
        })
        .collect()
}
