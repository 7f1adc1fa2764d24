//! `credit_ledger` on SQLite: the statements of `store::credits`.

use rusqlite::{params, Connection};

use super::types::{Bucket, Charge, CreditBalance, JobCredits, LedgerRow, MonthlyGrant};
use crate::store::{now_rfc3339, StoreError};

fn insert(
    conn: &Connection,
    key_id: i64,
    bucket: Bucket<'_>,
    amount: i64,
    kind: &str,
    job: Option<i64>,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    let period = bucket.period();
    let bucket = bucket.name();
    conn.execute(
        "INSERT INTO credit_ledger (api_key_id, bucket, amount, kind, period, ai_job_id, reason, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![key_id, bucket, amount, kind, period, job, reason, now_rfc3339()],
    )?;
    Ok(())
}

/// Grant the period's subscription credits if not yet granted (or the difference after an
/// upgrade). Call inside the transaction that reads or spends the balance.
fn ensure_monthly(conn: &Connection, grant: &MonthlyGrant) -> Result<(), StoreError> {
    let granted: i64 = conn.query_row(
        "SELECT COALESCE(SUM(amount), 0) FROM credit_ledger
         WHERE api_key_id = ?1 AND bucket = 'subscription' AND kind = 'monthly' AND period = ?2",
        params![grant.api_key_id, grant.period],
        |r| r.get(0),
    )?;
    if grant.allowance > granted {
        let bucket = Bucket::Subscription { period: &grant.period };
        insert(conn, grant.api_key_id, bucket, grant.allowance - granted, "monthly", None, Some(&grant.reason))?;
    }
    Ok(())
}

/// The sums of an account's subscription rows of `period` and of its top-up rows.
pub(in crate::store) fn sums(conn: &Connection, key_id: i64, period: &str) -> Result<CreditBalance, StoreError> {
    let subscription: i64 = conn.query_row(
        "SELECT COALESCE(SUM(amount), 0) FROM credit_ledger WHERE api_key_id = ?1 AND bucket = 'subscription' AND period = ?2",
        params![key_id, period],
        |r| r.get(0),
    )?;
    Ok(CreditBalance { subscription, topup: topup(conn, key_id)? })
}

fn topup(conn: &Connection, key_id: i64) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT COALESCE(SUM(amount), 0) FROM credit_ledger WHERE api_key_id = ?1 AND bucket = 'topup'",
        params![key_id],
        |r| r.get(0),
    )?)
}

/// The balance after granting the period's credits (inside the caller's transaction).
pub(in crate::store) fn balance(conn: &Connection, grant: &MonthlyGrant) -> Result<CreditBalance, StoreError> {
    ensure_monthly(conn, grant)?;
    sums(conn, grant.api_key_id, &grant.period)
}

/// The balance after granting the period's credits, in a transaction of its own.
pub(in crate::store) fn credit_balance(conn: &Connection, grant: &MonthlyGrant) -> Result<CreditBalance, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let b = balance(&tx, grant)?;
    tx.commit()?;
    Ok(b)
}

/// Write the rows of `charge` for `job_id` (the subscription part in `period`).
pub(in crate::store) fn job_rows(
    conn: &Connection,
    key_id: i64,
    period: &str,
    charge: Charge,
    job_id: i64,
    way: JobCredits,
) -> Result<(), StoreError> {
    let (_, kind) = way.sign_and_kind();
    for (bucket, amount) in way.rows(charge, period) {
        insert(conn, key_id, bucket, amount, kind, Some(job_id), None)?;
    }
    Ok(())
}

/// Add `amount` top-up credits as a `grant` row, unless that leaves the bucket below zero:
/// `Ok(new balance)` or `Err(current balance)`.
pub(in crate::store) fn grant_topup(
    conn: &Connection,
    key_id: i64,
    amount: i64,
    reason: &str,
) -> Result<Result<i64, i64>, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let topup = topup(&tx, key_id)?;
    if topup + amount < 0 {
        return Ok(Err(topup));
    }
    insert(&tx, key_id, Bucket::Topup, amount, "grant", None, Some(reason))?;
    tx.commit()?;
    Ok(Ok(topup + amount))
}

/// The latest `limit` ledger rows of an account, newest first.
pub(in crate::store) fn ledger(conn: &Connection, key_id: i64, limit: u32) -> Result<Vec<LedgerRow>, StoreError> {
    let mut st = conn.prepare(
        "SELECT id, bucket, amount, kind, period, ai_job_id, reason, created_at FROM credit_ledger
         WHERE api_key_id = ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = st
        .query_map(params![key_id, limit], |r| {
            Ok(LedgerRow {
                id: r.get(0)?,
                bucket: r.get(1)?,
                amount: r.get(2)?,
                kind: r.get(3)?,
                period: r.get(4)?,
                ai_job_id: r.get(5)?,
                reason: r.get(6)?,
                created_at: r.get(7)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
